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
  optBool,
  optInt,
  optString,
  reqInt,
  reqLong,
  reqString,
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

const V2_TO_V1: ReadonlyArray<readonly [string, keyof SendMessageRequestHeader]> = [
  ['a', 'producerGroup'],
  ['b', 'topic'],
  ['c', 'defaultTopic'],
  ['d', 'defaultTopicQueueNums'],
  ['e', 'queueId'],
  ['f', 'sysFlag'],
  ['g', 'bornTimestamp'],
  ['h', 'flag'],
  ['i', 'properties'],
  ['j', 'reconsumeTimes'],
  ['k', 'unitMode'],
  ['l', 'maxReconsumeTimes'],
  ['m', 'batch'],
  ['n', 'brokerName'],
];

/** True when the header uses the V2 one-letter names. */
export function isSendMessageHeaderV2(ext: ExtFields): boolean {
  return ext.b !== undefined && ext.topic === undefined;
}

/** Rewrites V2 one-letter fields to their V1 names (other fields are kept). */
function toV1Names(ext: ExtFields): ExtFields {
  const out: ExtFields = { ...ext };
  for (const [short, long] of V2_TO_V1) {
    const v = ext[short];
    if (v !== undefined) out[long] = v;
  }
  return out;
}

/** Decodes a send request header in either the V1 or the V2 form. */
export function decodeSendMessageRequestHeader(ext: ExtFields): SendMessageRequestHeader {
  const e = isSendMessageHeaderV2(ext) ? toV1Names(ext) : ext;
  return {
    producerGroup: reqString(e, 'producerGroup'),
    topic: reqString(e, 'topic'),
    defaultTopic: optString(e, 'defaultTopic') ?? 'TBW102',
    defaultTopicQueueNums: optInt(e, 'defaultTopicQueueNums') ?? 4,
    queueId: reqInt(e, 'queueId'),
    sysFlag: optInt(e, 'sysFlag') ?? 0,
    bornTimestamp: reqLong(e, 'bornTimestamp'),
    flag: optInt(e, 'flag') ?? 0,
    properties: optString(e, 'properties'),
    reconsumeTimes: optInt(e, 'reconsumeTimes'),
    unitMode: optBool(e, 'unitMode'),
    maxReconsumeTimes: optInt(e, 'maxReconsumeTimes'),
    batch: optBool(e, 'batch'),
    brokerName: optString(e, 'brokerName'),
  };
}

/** Encodes with the V1 long field names (for SEND_MESSAGE 10). */
export function encodeSendMessageRequestHeaderV1(h: SendMessageRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** Encodes with the V2 one-letter names (for SEND_MESSAGE_V2 310 / SEND_BATCH_MESSAGE 320). */
export function encodeSendMessageRequestHeaderV2(h: SendMessageRequestHeader): ExtFields {
  const fields: Record<string, string | number | boolean | undefined> = {};
  for (const [short, long] of V2_TO_V1) fields[short] = h[long];
  return toExtFields(fields);
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
  return {
    msgId: reqString(ext, 'msgId'),
    queueId: reqInt(ext, 'queueId'),
    queueOffset: reqLong(ext, 'queueOffset'),
    transactionId: optString(ext, 'transactionId'),
    batchUniqId: optString(ext, 'batchUniqId'),
  };
}

/** Encodes a send response header (64-bit values as strings, as ali-ons needs). */
export function encodeSendMessageResponseHeader(h: SendMessageResponseHeader): ExtFields {
  return toExtFields({ ...h });
}
