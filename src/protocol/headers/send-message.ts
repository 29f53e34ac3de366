/**
 * SEND_MESSAGE (10, long field names), SEND_MESSAGE_V2 (310, one-letter names) and
 * SEND_BATCH_MESSAGE (320, either form) request header; the send response header.
 *
 * | V2 | V1 name               | type    |
 * |----|-----------------------|---------|
 * | a  | producerGroup         | string  |
 * | b  | topic                 | string  |
 * | c  | defaultTopic          | string  |
 * | d  | defaultTopicQueueNums | int     |
 * | e  | queueId               | int     |
 * | f  | sysFlag               | int     |
 * | g  | bornTimestamp         | long    |
 * | h  | flag                  | int     |
 * | i  | properties            | string? |
 * | j  | reconsumeTimes        | int?    |
 * | k  | unitMode              | bool?   |
 * | l  | maxReconsumeTimes     | int?    |
 * | m  | batch                 | bool?   |
 * | n  | brokerName            | string? |
 */
import {
  boolValue,
  intValue,
  optString,
  reqInt,
  reqIntValue,
  reqLong,
  reqLongValue,
  reqString,
  reqStringValue,
  toExtFields,
  type ExtFields,
} from './fields.js';

/** Typed send request header (both wire forms decode to this). */
export interface SendMessageRequestHeader {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties?: string;
  reconsumeTimes?: number;
  unitMode?: boolean;
  maxReconsumeTimes?: number;
  batch?: boolean;
  brokerName?: string;
}

/** True when the header uses the V2 one-letter names. */
export function isSendMessageHeaderV2(ext: ExtFields): boolean {
  return ext.b !== undefined && ext.topic === undefined;
}

/**
 * Decodes a send request header in either the V1 or the V2 form, reading each field straight
 * from its wire name (no intermediate copy of the fields). In the V2 form a missing one-letter
 * field falls back to its long name; errors always name the long field.
 */
export function decodeSendMessageRequestHeader(ext: ExtFields): SendMessageRequestHeader {
  return isSendMessageHeaderV2(ext) ? decodeV2(ext) : decodeV1(ext);
}

function decodeV1(e: ExtFields): SendMessageRequestHeader {
  return {
    producerGroup: reqStringValue('producerGroup', e.producerGroup),
    topic: reqStringValue('topic', e.topic),
    defaultTopic: e.defaultTopic ?? 'TBW102',
    defaultTopicQueueNums: intValue('defaultTopicQueueNums', e.defaultTopicQueueNums) ?? 4,
    queueId: reqIntValue('queueId', e.queueId),
    sysFlag: intValue('sysFlag', e.sysFlag) ?? 0,
    bornTimestamp: reqLongValue('bornTimestamp', e.bornTimestamp),
    flag: intValue('flag', e.flag) ?? 0,
    properties: e.properties,
    reconsumeTimes: intValue('reconsumeTimes', e.reconsumeTimes),
    unitMode: boolValue('unitMode', e.unitMode),
    maxReconsumeTimes: intValue('maxReconsumeTimes', e.maxReconsumeTimes),
    batch: boolValue('batch', e.batch),
    brokerName: e.brokerName,
  };
}

function decodeV2(e: ExtFields): SendMessageRequestHeader {
  return {
    producerGroup: reqStringValue('producerGroup', e.a ?? e.producerGroup),
    topic: reqStringValue('topic', e.b),
    defaultTopic: e.c ?? e.defaultTopic ?? 'TBW102',
    defaultTopicQueueNums: intValue('defaultTopicQueueNums', e.d ?? e.defaultTopicQueueNums) ?? 4,
    queueId: reqIntValue('queueId', e.e ?? e.queueId),
    sysFlag: intValue('sysFlag', e.f ?? e.sysFlag) ?? 0,
    bornTimestamp: reqLongValue('bornTimestamp', e.g ?? e.bornTimestamp),
    flag: intValue('flag', e.h ?? e.flag) ?? 0,
    properties: e.i ?? e.properties,
    reconsumeTimes: intValue('reconsumeTimes', e.j ?? e.reconsumeTimes),
    unitMode: boolValue('unitMode', e.k ?? e.unitMode),
    maxReconsumeTimes: intValue('maxReconsumeTimes', e.l ?? e.maxReconsumeTimes),
    batch: boolValue('batch', e.m ?? e.batch),
    brokerName: e.n ?? e.brokerName,
  };
}

/** Encodes with the V1 long field names (for SEND_MESSAGE 10). */
export function encodeSendMessageRequestHeaderV1(h: SendMessageRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** Encodes with the V2 one-letter names (for SEND_MESSAGE_V2 310 / SEND_BATCH_MESSAGE 320). */
export function encodeSendMessageRequestHeaderV2(h: SendMessageRequestHeader): ExtFields {
  // Field by field, not a literal: see createRequest() in ../remoting-command.ts.
  const out: ExtFields = {};
  out.a = h.producerGroup;
  out.b = h.topic;
  out.c = h.defaultTopic;
  out.d = String(h.defaultTopicQueueNums);
  out.e = String(h.queueId);
  out.f = String(h.sysFlag);
  out.g = String(h.bornTimestamp);
  out.h = String(h.flag);
  if (h.properties !== undefined) out.i = h.properties;
  if (h.reconsumeTimes !== undefined) out.j = String(h.reconsumeTimes);
  if (h.unitMode !== undefined) out.k = String(h.unitMode);
  if (h.maxReconsumeTimes !== undefined) out.l = String(h.maxReconsumeTimes);
  if (h.batch !== undefined) out.m = String(h.batch);
  if (h.brokerName !== undefined) out.n = h.brokerName;
  return out;
}

/** Send response header. */
export interface SendMessageResponseHeader {
  /** Offset message id (store host + commit-log offset); comma-joined for batches. */
  msgId: string;
  queueId: number;
  queueOffset: number;
  transactionId?: string;
  batchUniqId?: string;
}

/** Decodes a send response header. */
export function decodeSendMessageResponseHeader(ext: ExtFields): SendMessageResponseHeader {
  // Field by field, not a literal: see createRequest() in ../remoting-command.ts.
  const h = {} as SendMessageResponseHeader;
  h.msgId = reqString(ext, 'msgId');
  h.queueId = reqInt(ext, 'queueId');
  h.queueOffset = reqLong(ext, 'queueOffset');
  h.transactionId = optString(ext, 'transactionId');
  h.batchUniqId = optString(ext, 'batchUniqId');
  return h;
}

/** Encodes a send response header (64-bit values as strings, as ali-ons needs). */
export function encodeSendMessageResponseHeader(h: SendMessageResponseHeader): ExtFields {
  return toExtFields({ ...h });
}
