/**
 * CONSUMER_SEND_MSG_BACK (36): a consumer failed to process a message. The broker finds the
 * message by commit-log offset and stores a copy in the group's `%RETRY%` topic with
 * reconsumeTimes + 1 (properties RETRY_TOPIC, ORIGIN_MESSAGE_ID and RECONSUME_TIME set), or in
 * its write-only `%DLQ%` topic once the retries are used up. A retry waits in the schedule topic
 * for its delay level (the request's, or 3 + reconsumeTimes when the client passes 0).
 */
import { decodeRecord, type DecodedMessage } from '../common/codec/decoded-message.js';
import { encodeProperties } from '../common/codec/properties.js';
import { decodeConsumerSendMsgBackRequestHeader } from '../protocol/headers/consumer.js';
import { ipToBytes } from '../protocol/message-id.js';
import type { RemotingCommand } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { HostAddress, LogSlices, MessageToStore } from '../store/types.js';
import type { BrokerContext } from './broker-context.js';
import { MessageConst } from './message-properties.js';
import { PERM_READ_WRITE, PERM_WRITE, dlqTopicOf, retryTopicOf } from './perm.js';
import { routeSpecialMessage } from './schedule/special-messages.js';
import { errorResponse, ok, putStatusToCode, reply } from './responses.js';

function parseHost(text: string): HostAddress {
  const colon = text.lastIndexOf(':');
  let ip = text.slice(0, colon);
  if (ip.startsWith('[')) ip = ip.slice(1, -1);
  return { address: ipToBytes(ip), port: Number(text.slice(colon + 1)) };
}

function recordBytes(slices: LogSlices): Uint8Array {
  if (slices.buffers.length === 1) return slices.buffers[0]!;
  return Buffer.concat(slices.buffers);
}

/** Handles CONSUMER_SEND_MSG_BACK. */
export class SendBackProcessor<C extends object> {
  private readonly ctx: BrokerContext<C>;

  constructor(ctx: BrokerContext<C>) {
    this.ctx = ctx;
  }

  /** CONSUMER_SEND_MSG_BACK. */
  async consumerSendMsgBack(_conn: C, request: RemotingCommand): Promise<RemotingCommand> {
    let slices: LogSlices | null = null;
    try {
      const h = decodeConsumerSendMsgBackRequestHeader(request.extFields);
      const ctx = this.ctx;
      const group = ctx.subscriptionGroupManager.findSubscriptionGroupConfig(h.group);
      if (!group) {
        return reply(
          request,
          ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
          `consumer group [${h.group}] does not exist and autoCreateSubscriptionGroup is off`,
        );
      }
      slices = ctx.store.lookMessageByOffset(h.offset);
      if (!slices) {
        return reply(
          request,
          ResponseCode.SYSTEM_ERROR,
          `no message at commit-log offset ${h.offset}; it may have expired`,
        );
      }
      const original: DecodedMessage = decodeRecord(recordBytes(slices));
      const maxTimes = h.maxReconsumeTimes ?? group.retryMaxTimes;
      const toDlq = original.reconsumeTimes >= maxTimes || h.delayLevel < 0;
      const topic = toDlq ? dlqTopicOf(h.group) : retryTopicOf(h.group);
      const queueNums = toDlq ? 1 : Math.max(group.retryQueueNums, 1);
      ctx.topicConfigManager.createTopicIfAbsent(
        topic,
        queueNums,
        toDlq ? PERM_WRITE : PERM_READ_WRITE,
      );

      const props = new Map(original.properties);
      if (!props.has(MessageConst.RETRY_TOPIC)) props.set(MessageConst.RETRY_TOPIC, original.topic);
      if (!props.has(MessageConst.ORIGIN_MESSAGE_ID)) {
        props.set(MessageConst.ORIGIN_MESSAGE_ID, h.originMsgId || original.msgId);
      }
      props.delete(MessageConst.DELAY);
      props.set(MessageConst.RECONSUME_TIME, String(original.reconsumeTimes + 1));
      if (toDlq) {
        props.set('DLQ_ORIGIN_TOPIC', props.get(MessageConst.RETRY_TOPIC)!);
        props.set('DLQ_ORIGIN_MESSAGE_ID', props.get(MessageConst.ORIGIN_MESSAGE_ID)!);
      } else {
        const level = h.delayLevel > 0 ? h.delayLevel : 3 + original.reconsumeTimes;
        props.set(MessageConst.DELAY, String(level));
      }
      const message: MessageToStore = {
        topic,
        queueId: Math.floor(Math.random() * queueNums),
        flag: original.flag,
        body: original.body,
        properties: encodeProperties(props),
        sysFlag: original.sysFlag,
        bornTimestamp: original.bornTimestamp,
        bornHost: parseHost(original.bornHost),
        reconsumeTimes: original.reconsumeTimes + 1,
        preparedTransactionOffset: 0,
      };
      routeSpecialMessage(message, ctx.config, Date.now());
      const result = await ctx.store.putMessage(message);
      const { code, remark } = putStatusToCode(result.status);
      if (code === ResponseCode.SUCCESS || code === ResponseCode.FLUSH_DISK_TIMEOUT) {
        return ok(request);
      }
      return reply(request, code, remark);
    } catch (error) {
      return errorResponse(request, error);
    } finally {
      slices?.release();
    }
  }
}
