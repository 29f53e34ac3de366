/**
 * Client registration: HEART_BEAT (34) registers producers and consumers on the connection (and
 * creates each consumer group's `%RETRY%` topic), UNREGISTER_CLIENT (35) removes them,
 * GET_CONSUMER_LIST_BY_GROUP (38) lists a group's client ids.
 */
import { decodeHeartbeatData, encodeConsumerIdList } from '../protocol/client-bodies.js';
import {
  decodeConsumerGroupRequestHeader,
  decodeUnregisterClientRequestHeader,
} from '../protocol/headers/consumer.js';
import type { RemotingCommand } from '../protocol/remoting-command.js';
import type { BrokerContext } from './broker-context.js';
import type { ClientChannelInfo } from './client-channel.js';
import { PERM_READ_WRITE, retryTopicOf } from './perm.js';
import { errorResponse, ok } from './responses.js';
import { normalizeSubscriptionData } from './subscription-data.js';

/** Handles 34, 35 and 38. */
export class ClientManageProcessor<C extends object> {
  private readonly ctx: BrokerContext<C>;

  constructor(ctx: BrokerContext<C>) {
    this.ctx = ctx;
  }

  /** HEART_BEAT. */
  heartBeat(conn: C, request: RemotingCommand): RemotingCommand {
    const ctx = this.ctx;
    let data;
    try {
      data = decodeHeartbeatData(request.body);
    } catch (error) {
      return errorResponse(request, error);
    }
    const now = Date.now();
    const info = (): ClientChannelInfo<C> => ({
      channel: conn,
      clientId: data.clientID,
      clientAddr: ctx.transport.remoteAddress(conn),
      language: request.language,
      version: request.version,
      lastUpdateTimestamp: now,
    });
    for (const consumer of data.consumerDataSet) {
      const group = ctx.subscriptionGroupManager.findSubscriptionGroupConfig(consumer.groupName);
      let notify = true;
      if (group) {
        notify = group.notifyConsumerIdsChangedEnable;
        const retryTopic = retryTopicOf(consumer.groupName);
        // A new topic triggers a name-server registration (topic change listener).
        ctx.topicConfigManager.createTopicIfAbsent(
          retryTopic,
          Math.max(group.retryQueueNums, 1),
          PERM_READ_WRITE,
        );
      }
      ctx.consumerManager.registerConsumer(
        consumer.groupName,
        info(),
        {
          consumeType: consumer.consumeType,
          messageModel: consumer.messageModel,
          consumeFromWhere: consumer.consumeFromWhere,
        },
        consumer.subscriptionDataSet.map(normalizeSubscriptionData),
        notify,
      );
    }
    for (const producer of data.producerDataSet) {
      ctx.producerManager.registerProducer(producer.groupName, info());
    }
    return ok(request);
  }

  /** UNREGISTER_CLIENT. */
  unregisterClient(_conn: C, request: RemotingCommand): RemotingCommand {
    let header;
    try {
      header = decodeUnregisterClientRequestHeader(request.extFields);
    } catch (error) {
      return errorResponse(request, error);
    }
    if (header.producerGroup) {
      this.ctx.producerManager.unregisterProducer(header.producerGroup, header.clientID);
    }
    if (header.consumerGroup) {
      const group = this.ctx.subscriptionGroupManager.findSubscriptionGroupConfig(
        header.consumerGroup,
      );
      this.ctx.consumerManager.unregisterConsumer(
        header.consumerGroup,
        header.clientID,
        group?.notifyConsumerIdsChangedEnable ?? true,
      );
    }
    return ok(request);
  }

  /**
   * GET_CONSUMER_LIST_BY_GROUP. Answers 0 with an empty list for a group without members
   * (ali-ons stops consuming a topic for good when this call fails).
   */
  getConsumerListByGroup(_conn: C, request: RemotingCommand): RemotingCommand {
    let header;
    try {
      header = decodeConsumerGroupRequestHeader(request.extFields);
    } catch (error) {
      return errorResponse(request, error);
    }
    const info = this.ctx.consumerManager.getConsumerGroupInfo(header.consumerGroup);
    return ok(request, {}, encodeConsumerIdList(info ? info.clientIds() : []));
  }
}
