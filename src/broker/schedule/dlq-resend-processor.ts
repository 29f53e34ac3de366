/**
 * Re-sends a dead-letter message to the topic it originally came from. RocketMQ has no request
 * code for this (its dashboard pushes DLQ messages to a consumer with CONSUME_MESSAGE_DIRECTLY),
 * so Sluice adds one: {@link RESEND_MESSAGE_REQUEST_CODE}.
 *
 * Request header: `commitLogOffset` (long, the DLQ message's log offset, i.e. the offset part of
 * its offset message id), optional `topic` (target; default: the message's `RETRY_TOPIC`, i.e.
 * its original topic). Answer: `msgId` (offset id of the new copy), `queueId`, `queueOffset`.
 * The copy starts over with reconsumeTimes 0 and keeps UNIQ_KEY, keys, tags and properties.
 */
import { decodeRecord } from '../../common/codec/decoded-message.js';
import { encodeProperties } from '../../common/codec/properties.js';
import { optString, reqLong } from '../../protocol/headers/fields.js';
import type { RemotingCommand } from '../../protocol/remoting-command.js';
import { ResponseCode } from '../../protocol/response-code.js';
import type { LogSlices, MessageToStore } from '../../store/types.js';
import type { BrokerContext } from '../broker-context.js';
import { DLQ_GROUP_TOPIC_PREFIX, isWriteable } from '../perm.js';
import { errorResponse, ok, putStatusToCode, reply } from '../responses.js';
import { SpecialProperty, parseHostAddress } from './special-messages.js';

/**
 * Sluice's request code for "re-send a DLQ message to its original topic" (not a RocketMQ code;
 * chosen far from RocketMQ's ranges). The SDK's `Admin.resendDlqMessage` uses the same number.
 */
export const RESEND_MESSAGE_REQUEST_CODE = 90_001;

/** Properties that describe the dead-lettering and are dropped from the copy. */
const DROP: readonly string[] = [
  SpecialProperty.DLQ_ORIGIN_TOPIC,
  SpecialProperty.DLQ_ORIGIN_MESSAGE_ID,
  SpecialProperty.RECONSUME_TIME,
  SpecialProperty.DELAY,
  SpecialProperty.REAL_TOPIC,
  SpecialProperty.REAL_QID,
];

/** Handles {@link RESEND_MESSAGE_REQUEST_CODE}. */
export class DlqResendProcessor<C extends object> {
  constructor(private readonly ctx: BrokerContext<C>) {}

  /** Re-sends one DLQ message. */
  async resendMessage(_conn: C, request: RemotingCommand): Promise<RemotingCommand> {
    let slices: LogSlices | null = null;
    try {
      const offset = reqLong(request.extFields, 'commitLogOffset');
      const override = optString(request.extFields, 'topic');
      slices = this.ctx.store.lookMessageByOffset(offset);
      if (!slices) {
        return reply(
          request,
          ResponseCode.QUERY_NOT_FOUND,
          `no message at commit-log offset ${offset}; it may have expired`,
        );
      }
      const bytes =
        slices.buffers.length === 1 ? slices.buffers[0]! : Buffer.concat(slices.buffers);
      const dead = decodeRecord(bytes);
      if (!dead.topic.startsWith(DLQ_GROUP_TOPIC_PREFIX)) {
        return reply(
          request,
          ResponseCode.MESSAGE_ILLEGAL,
          `the message at offset ${offset} is in topic [${dead.topic}], not a dead-letter topic (%DLQ%<group>)`,
        );
      }
      const topic =
        override ??
        dead.properties.get(SpecialProperty.DLQ_ORIGIN_TOPIC) ??
        dead.properties.get(SpecialProperty.RETRY_TOPIC);
      if (!topic) {
        return reply(
          request,
          ResponseCode.MESSAGE_ILLEGAL,
          'the dead-letter message does not name its original topic (RETRY_TOPIC); pass topic',
        );
      }
      const config = this.ctx.topicConfigManager.selectTopicConfig(topic);
      if (!config || !isWriteable(config.perm) || config.writeQueueNums < 1) {
        return reply(
          request,
          ResponseCode.TOPIC_NOT_EXIST,
          `topic [${topic}] does not exist or is not writable on this broker`,
        );
      }
      const props = new Map(dead.properties);
      for (const name of DROP) props.delete(name);
      const queueId = Math.floor(Math.random() * config.writeQueueNums);
      const message: MessageToStore = {
        topic,
        queueId,
        flag: dead.flag,
        body: dead.body,
        properties: encodeProperties(props),
        sysFlag: dead.sysFlag,
        bornTimestamp: dead.bornTimestamp,
        bornHost: parseHostAddress(dead.bornHost),
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
      };
      const put = await this.ctx.store.putMessage(message);
      const { code, remark } = putStatusToCode(put.status);
      if (code !== ResponseCode.SUCCESS && code !== ResponseCode.FLUSH_DISK_TIMEOUT) {
        return reply(request, code, remark);
      }
      const appended = put.appended[0]!;
      return ok(request, {
        msgId: this.ctx.msgIdEncoder.encode(appended.physicalOffset),
        queueId: String(queueId),
        queueOffset: String(appended.queueOffset),
      });
    } catch (error) {
      return errorResponse(request, error);
    } finally {
      slices?.release();
    }
  }
}
