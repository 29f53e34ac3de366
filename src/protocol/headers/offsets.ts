/**
 * Offset headers: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15),
 * SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
 * GET_EARLIEST_MSG_STORETIME (32).
 */
import { optBool, reqInt, reqLong, reqString, toExtFields, type ExtFields } from './fields.js';

/** QUERY_CONSUMER_OFFSET request. */
export interface QueryConsumerOffsetRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  setZeroIfNotFound?: boolean;
}

/** Decodes QUERY_CONSUMER_OFFSET's request header. */
export function decodeQueryConsumerOffsetRequestHeader(
  ext: ExtFields,
): QueryConsumerOffsetRequestHeader {
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: reqInt(ext, 'queueId'),
    setZeroIfNotFound: optBool(ext, 'setZeroIfNotFound'),
  };
}

/** Encodes QUERY_CONSUMER_OFFSET's request header. */
export function encodeQueryConsumerOffsetRequestHeader(
  h: QueryConsumerOffsetRequestHeader,
): ExtFields {
  return toExtFields({ ...h });
}

/** UPDATE_CONSUMER_OFFSET request (ali-ons may send `commitOffset: -1`). */
export interface UpdateConsumerOffsetRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  commitOffset: number;
}

/** Decodes UPDATE_CONSUMER_OFFSET's request header. */
export function decodeUpdateConsumerOffsetRequestHeader(
  ext: ExtFields,
): UpdateConsumerOffsetRequestHeader {
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: reqInt(ext, 'queueId'),
    commitOffset: reqLong(ext, 'commitOffset'),
  };
}

/** Encodes UPDATE_CONSUMER_OFFSET's request header. */
export function encodeUpdateConsumerOffsetRequestHeader(
  h: UpdateConsumerOffsetRequestHeader,
): ExtFields {
  return toExtFields({ ...h });
}

/** A queue address: GET_MAX_OFFSET, GET_MIN_OFFSET and GET_EARLIEST_MSG_STORETIME requests. */
export interface QueueRequestHeader {
  topic: string;
  queueId: number;
}

/** Decodes a {@link QueueRequestHeader}. */
export function decodeQueueRequestHeader(ext: ExtFields): QueueRequestHeader {
  return { topic: reqString(ext, 'topic'), queueId: reqInt(ext, 'queueId') };
}

/** Encodes a {@link QueueRequestHeader}. */
export function encodeQueueRequestHeader(h: QueueRequestHeader): ExtFields {
  return toExtFields({ topic: h.topic, queueId: h.queueId });
}

/** SEARCH_OFFSET_BY_TIMESTAMP request. */
export interface SearchOffsetRequestHeader extends QueueRequestHeader {
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** Decodes SEARCH_OFFSET_BY_TIMESTAMP's request header. */
export function decodeSearchOffsetRequestHeader(ext: ExtFields): SearchOffsetRequestHeader {
  return { ...decodeQueueRequestHeader(ext), timestamp: reqLong(ext, 'timestamp') };
}

/** Encodes SEARCH_OFFSET_BY_TIMESTAMP's request header. */
export function encodeSearchOffsetRequestHeader(h: SearchOffsetRequestHeader): ExtFields {
  return toExtFields({ topic: h.topic, queueId: h.queueId, timestamp: h.timestamp });
}

/** Response `{offset}` of QUERY_CONSUMER_OFFSET, GET_MAX/MIN_OFFSET, SEARCH_OFFSET_BY_TIMESTAMP. */
export interface OffsetResponseHeader {
  offset: number;
}

/** Decodes an {@link OffsetResponseHeader}. */
export function decodeOffsetResponseHeader(ext: ExtFields): OffsetResponseHeader {
  return { offset: reqLong(ext, 'offset') };
}

/** Encodes an {@link OffsetResponseHeader}. */
export function encodeOffsetResponseHeader(h: OffsetResponseHeader): ExtFields {
  return { offset: String(h.offset) };
}

/** GET_EARLIEST_MSG_STORETIME response. */
export interface EarliestMsgStoretimeResponseHeader {
  /** Store time (ms) of the queue's oldest message. */
  timestamp: number;
}

/** Decodes GET_EARLIEST_MSG_STORETIME's response header. */
export function decodeEarliestMsgStoretimeResponseHeader(
  ext: ExtFields,
): EarliestMsgStoretimeResponseHeader {
  return { timestamp: reqLong(ext, 'timestamp') };
}

/** Encodes GET_EARLIEST_MSG_STORETIME's response header. */
export function encodeEarliestMsgStoretimeResponseHeader(
  h: EarliestMsgStoretimeResponseHeader,
): ExtFields {
  return { timestamp: String(h.timestamp) };
}
