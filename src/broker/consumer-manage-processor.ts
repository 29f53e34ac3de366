/**
 * Consumer offsets over the wire: QUERY_CONSUMER_OFFSET (14) and UPDATE_CONSUMER_OFFSET (15),
 * plus the queue offset queries GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
 * SEARCH_OFFSET_BY_TIMESTAMP (29) and GET_EARLIEST_MSG_STORETIME (32).
 */
import {
  decodeQueryConsumerOffsetRequestHeader,
  decodeQueueRequestHeader,
  decodeSearchOffsetRequestHeader,
  decodeUpdateConsumerOffsetRequestHeader,
} from '../protocol/headers/offsets.js';
import type { RemotingCommand } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { BrokerContext } from './broker-context.js';
import { errorResponse, ok, reply } from './responses.js';

/** Handles the offset request codes. */
export class ConsumerManageProcessor<C extends object> {
  private readonly ctx: BrokerContext<C>;

  constructor(ctx: BrokerContext<C>) {
    this.ctx = ctx;
  }

  /**
   * QUERY_CONSUMER_OFFSET: the committed offset; for a group that never committed, 0 when the
   * queue still holds its first message (RocketMQ's rule, so new groups read from the start of
   * young queues), else QUERY_NOT_FOUND (22).
   */
  queryConsumerOffset(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeQueryConsumerOffsetRequestHeader(request.extFields);
      const offset = this.ctx.consumerOffsetManager.queryOffset(
        h.consumerGroup,
        h.topic,
        h.queueId,
      );
      if (offset >= 0) return ok(request, { offset: String(offset) });
      const minOffset = this.ctx.store.getMinOffsetInQueue(h.topic, h.queueId);
      if (minOffset <= 0 || h.setZeroIfNotFound === true) return ok(request, { offset: '0' });
      return reply(
        request,
        ResponseCode.QUERY_NOT_FOUND,
        `group [${h.consumerGroup}] has no committed offset for ${h.topic}:${h.queueId}`,
      );
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** UPDATE_CONSUMER_OFFSET (negative offsets are ignored). */
  updateConsumerOffset(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeUpdateConsumerOffsetRequestHeader(request.extFields);
      this.ctx.consumerOffsetManager.commitOffset(
        h.consumerGroup,
        h.topic,
        h.queueId,
        h.commitOffset,
      );
      return ok(request);
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** GET_MAX_OFFSET: the next queue offset to be written. */
  getMaxOffset(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeQueueRequestHeader(request.extFields);
      return ok(request, {
        offset: String(this.ctx.store.getMaxOffsetInQueue(h.topic, h.queueId)),
      });
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** GET_MIN_OFFSET: the oldest queue offset still readable. */
  getMinOffset(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeQueueRequestHeader(request.extFields);
      return ok(request, {
        offset: String(this.ctx.store.getMinOffsetInQueue(h.topic, h.queueId)),
      });
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** SEARCH_OFFSET_BY_TIMESTAMP: first queue offset stored at or after the time. */
  searchOffsetByTimestamp(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeSearchOffsetRequestHeader(request.extFields);
      const offset = this.ctx.store.getOffsetInQueueByTime(h.topic, h.queueId, h.timestamp);
      return ok(request, { offset: String(offset) });
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** GET_EARLIEST_MSG_STORETIME. */
  getEarliestMsgStoretime(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeQueueRequestHeader(request.extFields);
      const timestamp = this.ctx.store.getEarliestMessageTime(h.topic, h.queueId);
      return ok(request, { timestamp: String(timestamp) });
    } catch (error) {
      return errorResponse(request, error);
    }
  }
}
