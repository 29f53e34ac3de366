/**
 * QUERY_MESSAGE (12: by key through the index) and VIEW_MESSAGE_BY_ID (33: by commit-log
 * offset). Both answer with raw records sent as zero-copy slices of the log.
 */
import {
  decodeQueryMessageRequestHeader,
  decodeViewMessageRequestHeader,
} from '../protocol/headers/query.js';
import { createResponse, type RemotingCommand } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { LogSlices } from '../store/types.js';
import type { BrokerContext } from './broker-context.js';
import { errorResponse, reply } from './responses.js';

/** Handles 12 and 33. */
export class QueryMessageProcessor<C extends object> {
  private readonly ctx: BrokerContext<C>;

  constructor(ctx: BrokerContext<C>) {
    this.ctx = ctx;
  }

  /** QUERY_MESSAGE: records whose KEYS (or UNIQ_KEY) equal the key, newest first. */
  queryMessage(conn: C, request: RemotingCommand): RemotingCommand | null {
    let held: LogSlices[] = [];
    try {
      const h = decodeQueryMessageRequestHeader(request.extFields);
      const store = this.ctx.store;
      const maxNum = Math.max(1, Math.min(h.maxNum, 64));
      const offsets = store.queryMessageOffsets(
        h.topic,
        h.key,
        maxNum,
        h.beginTimestamp,
        h.endTimestamp,
      );
      const buffers: Uint8Array[] = [];
      for (const offset of offsets) {
        const slices = store.lookMessageByOffset(offset);
        if (!slices) continue;
        held.push(slices);
        buffers.push(...slices.buffers);
      }
      if (held.length === 0) {
        return reply(
          request,
          ResponseCode.QUERY_NOT_FOUND,
          `no message of topic[${h.topic}] with key [${h.key}] in the time range; check the range and the key`,
        );
      }
      const stats = store.stats();
      const response = createResponse(request, ResponseCode.SUCCESS, undefined, {
        indexLastUpdateTimestamp: String(Date.now()),
        indexLastUpdatePhyoffset: String(stats.dispatchedPhysicalOffset),
      });
      const toRelease = held;
      held = [];
      this.ctx.transport.send(conn, response, buffers, () => {
        for (const slices of toRelease) slices.release();
      });
      return null;
    } catch (error) {
      for (const slices of held) slices.release();
      return errorResponse(request, error);
    }
  }

  /** VIEW_MESSAGE_BY_ID: the raw record at a commit-log offset. */
  viewMessageById(conn: C, request: RemotingCommand): RemotingCommand | null {
    try {
      const h = decodeViewMessageRequestHeader(request.extFields);
      const slices = this.ctx.store.lookMessageByOffset(h.offset);
      if (!slices) {
        return reply(
          request,
          ResponseCode.SYSTEM_ERROR,
          `no message at commit-log offset ${h.offset} (expired, or not a message id of this broker)`,
        );
      }
      const response = createResponse(request, ResponseCode.SUCCESS);
      this.ctx.transport.send(conn, response, slices.buffers, () => slices.release());
      return null;
    } catch (error) {
      return errorResponse(request, error);
    }
  }
}
