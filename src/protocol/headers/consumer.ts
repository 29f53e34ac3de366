/**
 * Consumer-management headers: GET_CONSUMER_LIST_BY_GROUP (38), CONSUMER_SEND_MSG_BACK (36),
 * NOTIFY_CONSUMER_IDS_CHANGED (40), UNREGISTER_CLIENT (35), reset offset
 * (INVOKE_BROKER_TO_RESET_OFFSET 222 / RESET_CONSUMER_CLIENT_OFFSET 220) and GET_CONSUME_STATS
 * (208).
 */
import {
  optBool,
  optInt,
  optString,
  reqLong,
  reqString,
  toExtFields,
  type ExtFields,
} from './fields.js';

/** `{consumerGroup}`: GET_CONSUMER_LIST_BY_GROUP and NOTIFY_CONSUMER_IDS_CHANGED requests. */
export interface ConsumerGroupRequestHeader {
  consumerGroup: string;
}

/** Decodes a {@link ConsumerGroupRequestHeader}. */
export function decodeConsumerGroupRequestHeader(ext: ExtFields): ConsumerGroupRequestHeader {
  return { consumerGroup: reqString(ext, 'consumerGroup') };
}

/** Encodes a {@link ConsumerGroupRequestHeader}. */
export function encodeConsumerGroupRequestHeader(h: ConsumerGroupRequestHeader): ExtFields {
  return { consumerGroup: h.consumerGroup };
}

/** CONSUMER_SEND_MSG_BACK request: re-deliver the message at commit-log `offset` later. */
export interface ConsumerSendMsgBackRequestHeader {
  /** Commit-log offset of the failed message. */
  offset: number;
  group: string;
  /** 0 = broker chooses (3 + reconsumeTimes); negative = straight to the DLQ. */
  delayLevel: number;
  originMsgId?: string;
  originTopic?: string;
  unitMode?: boolean;
  maxReconsumeTimes?: number;
}

/** Decodes CONSUMER_SEND_MSG_BACK's request header. */
export function decodeConsumerSendMsgBackRequestHeader(
  ext: ExtFields,
): ConsumerSendMsgBackRequestHeader {
  return {
    offset: reqLong(ext, 'offset'),
    group: reqString(ext, 'group'),
    delayLevel: optInt(ext, 'delayLevel') ?? 0,
    originMsgId: optString(ext, 'originMsgId'),
    originTopic: optString(ext, 'originTopic'),
    unitMode: optBool(ext, 'unitMode'),
    maxReconsumeTimes: optInt(ext, 'maxReconsumeTimes'),
  };
}

/** Encodes CONSUMER_SEND_MSG_BACK's request header. */
export function encodeConsumerSendMsgBackRequestHeader(
  h: ConsumerSendMsgBackRequestHeader,
): ExtFields {
  return toExtFields({ ...h });
}

/** UNREGISTER_CLIENT request: one of the groups is set. */
export interface UnregisterClientRequestHeader {
  clientID: string;
  producerGroup?: string;
  consumerGroup?: string;
}

/** Decodes UNREGISTER_CLIENT's request header. */
export function decodeUnregisterClientRequestHeader(ext: ExtFields): UnregisterClientRequestHeader {
  return {
    clientID: reqString(ext, 'clientID'),
    producerGroup: optString(ext, 'producerGroup'),
    consumerGroup: optString(ext, 'consumerGroup'),
  };
}

/** Encodes UNREGISTER_CLIENT's request header. */
export function encodeUnregisterClientRequestHeader(h: UnregisterClientRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** Reset-offset request (222 to the broker, 220 from the broker to consumers). */
export interface ResetOffsetRequestHeader {
  topic: string;
  group: string;
  /** Target time in ms; offsets move to the first message stored at or after it. */
  timestamp: number;
  isForce: boolean;
}

/** Decodes a reset-offset request header. */
export function decodeResetOffsetRequestHeader(ext: ExtFields): ResetOffsetRequestHeader {
  return {
    topic: reqString(ext, 'topic'),
    group: reqString(ext, 'group'),
    timestamp: reqLong(ext, 'timestamp'),
    isForce: optBool(ext, 'isForce') ?? false,
  };
}

/** Encodes a reset-offset request header. */
export function encodeResetOffsetRequestHeader(h: ResetOffsetRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** GET_CONSUME_STATS request; without `topic` every subscribed topic is reported. */
export interface GetConsumeStatsRequestHeader {
  consumerGroup: string;
  topic?: string;
}

/** Decodes GET_CONSUME_STATS's request header. */
export function decodeGetConsumeStatsRequestHeader(ext: ExtFields): GetConsumeStatsRequestHeader {
  return { consumerGroup: reqString(ext, 'consumerGroup'), topic: optString(ext, 'topic') };
}

/** Encodes GET_CONSUME_STATS's request header. */
export function encodeGetConsumeStatsRequestHeader(h: GetConsumeStatsRequestHeader): ExtFields {
  return toExtFields({ ...h });
}
