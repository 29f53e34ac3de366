/**
 * Consumer-group administration: GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) answers
 * subscriptionGroup.json's content, DELETE_SUBSCRIPTIONGROUP (207) drops a group's config and,
 * with `cleanOffset=true`, its committed offsets on this broker.
 */
import { reqString } from '../protocol/headers/fields.js';
import type { RemotingCommand } from '../protocol/remoting-command.js';
import type { BrokerContext } from './broker-context.js';
import { errorResponse, ok, okJson } from './responses.js';

/** Handles the consumer-group admin request codes. */
export class GroupAdminProcessor<C extends object> {
  private readonly ctx: BrokerContext<C>;

  constructor(ctx: BrokerContext<C>) {
    this.ctx = ctx;
  }

  /** GET_ALL_SUBSCRIPTIONGROUP_CONFIG: every group's config, as subscriptionGroup.json. */
  getAllSubscriptionGroupConfig(_conn: C, request: RemotingCommand): RemotingCommand {
    return okJson(request, this.ctx.subscriptionGroupManager.encode());
  }

  /**
   * DELETE_SUBSCRIPTIONGROUP: removes the group's config; with `cleanOffset=true` also every
   * offset the group committed here. Deleting an unknown group succeeds, as in RocketMQ.
   */
  deleteSubscriptionGroup(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const group = reqString(request.extFields, 'groupName');
      this.ctx.subscriptionGroupManager.deleteSubscriptionGroupConfig(group);
      if (request.extFields.cleanOffset === 'true') {
        const offsets = this.ctx.consumerOffsetManager;
        for (const topic of offsets.topicsOfGroup(group)) offsets.removeOffset(group, topic);
      }
      return ok(request);
    } catch (error) {
      return errorResponse(request, error);
    }
  }
}
