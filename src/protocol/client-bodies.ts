/**
 * Client ↔ broker JSON bodies: heartbeat data (HEART_BEAT 34), consumer id list
 * (GET_CONSUMER_LIST_BY_GROUP 38), lock/unlock batch (41/42), consume stats
 * (GET_CONSUME_STATS 208) and reset-offset tables (220/222).
 *
 * Maps keyed by a message queue are written fastjson-style with the queue object as the key;
 * decoders accept that and standard JSON alike (see `json-compat.ts`).
 */
import { parseLenientJson, stringifyCompat } from './json-compat.js';
import {
  asArray,
  asObject,
  bodyError,
  numberField,
  parseObjectBody,
  stringField,
} from './body-fields.js';

/** A queue of a topic on a broker group. */
export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** One subscription of a consumer group. */
export interface SubscriptionData {
  topic: string;
  /** Original expression: `*`, `TagA || TagB` or SQL. */
  subString: string;
  classFilterMode: boolean;
  tagsSet: string[];
  /** Java String.hashCode of each tag (int32). */
  codeSet: number[];
  subVersion: number;
  /** `TAG` (default) or `SQL92`. */
  expressionType?: string;
}

/** A consumer group as announced in a heartbeat. */
export interface ConsumerData {
  groupName: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  subscriptionDataSet: SubscriptionData[];
  unitMode: boolean;
}

/** HEART_BEAT body. */
export interface HeartbeatData {
  clientID: string;
  producerDataSet: { groupName: string }[];
  consumerDataSet: ConsumerData[];
}

function decodeSubscription(v: unknown): SubscriptionData {
  const o = asObject(v, 'subscriptionData');
  return {
    topic: stringField(o, 'topic', 'subscriptionData'),
    subString: stringField(o, 'subString', 'subscriptionData', '*'),
    classFilterMode: o.classFilterMode === true,
    tagsSet: asArray(o.tagsSet, 'tagsSet').map(String),
    codeSet: asArray(o.codeSet, 'codeSet').map((c) => Number(c) | 0),
    subVersion: numberField(o, 'subVersion', 'subscriptionData', 0),
    expressionType: typeof o.expressionType === 'string' ? o.expressionType : undefined,
  };
}

/** Decodes a HEART_BEAT body. */
export function decodeHeartbeatData(body: Buffer | string | undefined): HeartbeatData {
  const o = parseObjectBody(body, 'heartbeat');
  return {
    clientID: stringField(o, 'clientID', 'heartbeat'),
    producerDataSet: asArray(o.producerDataSet, 'producerDataSet').map((p) => ({
      groupName: stringField(asObject(p, 'producerData'), 'groupName', 'producerData'),
    })),
    consumerDataSet: asArray(o.consumerDataSet, 'consumerDataSet').map((c) => {
      const co = asObject(c, 'consumerData');
      return {
        groupName: stringField(co, 'groupName', 'consumerData'),
        consumeType: stringField(co, 'consumeType', 'consumerData', 'CONSUME_PASSIVELY'),
        messageModel: stringField(co, 'messageModel', 'consumerData', 'CLUSTERING'),
        consumeFromWhere: stringField(
          co,
          'consumeFromWhere',
          'consumerData',
          'CONSUME_FROM_LAST_OFFSET',
        ),
        subscriptionDataSet: asArray(co.subscriptionDataSet, 'subscriptionDataSet').map(
          decodeSubscription,
        ),
        unitMode: co.unitMode === true,
      };
    }),
  };
}

/** Encodes a HEART_BEAT body. */
export function encodeHeartbeatData(data: HeartbeatData): Buffer {
  return Buffer.from(stringifyCompat(data), 'utf8');
}

/** Encodes the GET_CONSUMER_LIST_BY_GROUP answer body. */
export function encodeConsumerIdList(ids: readonly string[]): Buffer {
  return Buffer.from(stringifyCompat({ consumerIdList: ids }), 'utf8');
}

/** Decodes the GET_CONSUMER_LIST_BY_GROUP answer body. */
export function decodeConsumerIdList(body: Buffer | string | undefined): string[] {
  return asArray(parseObjectBody(body, 'consumer list').consumerIdList, 'consumerIdList').map(
    String,
  );
}

function decodeMessageQueue(v: unknown): MessageQueue {
  const o = asObject(v, 'messageQueue');
  return {
    topic: stringField(o, 'topic', 'messageQueue'),
    brokerName: stringField(o, 'brokerName', 'messageQueue'),
    queueId: numberField(o, 'queueId', 'messageQueue'),
  };
}

/** LOCK_BATCH_MQ / UNLOCK_BATCH_MQ request body. */
export interface LockBatchRequestBody {
  consumerGroup: string;
  clientId: string;
  mqSet: MessageQueue[];
}

/** Encodes a lock/unlock batch request body. */
export function encodeLockBatchRequestBody(body: LockBatchRequestBody): Buffer {
  return Buffer.from(stringifyCompat(body), 'utf8');
}

/** Decodes a lock/unlock batch request body. */
export function decodeLockBatchRequestBody(
  body: Buffer | string | undefined,
): LockBatchRequestBody {
  const o = parseObjectBody(body, 'lock batch request');
  return {
    consumerGroup: stringField(o, 'consumerGroup', 'lock batch request'),
    clientId: stringField(o, 'clientId', 'lock batch request'),
    mqSet: asArray(o.mqSet, 'mqSet').map(decodeMessageQueue),
  };
}

/** Encodes the LOCK_BATCH_MQ answer body: the queues now locked by the caller. */
export function encodeLockBatchResponseBody(lockOKMQSet: readonly MessageQueue[]): Buffer {
  return Buffer.from(stringifyCompat({ lockOKMQSet }), 'utf8');
}

/** Decodes the LOCK_BATCH_MQ answer body. */
export function decodeLockBatchResponseBody(body: Buffer | string | undefined): MessageQueue[] {
  return asArray(parseObjectBody(body, 'lock batch response').lockOKMQSet, 'lockOKMQSet').map(
    decodeMessageQueue,
  );
}

function mqKey(mq: MessageQueue): { brokerName: string; queueId: number; topic: string } {
  return { brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic };
}

/** Turns a map keyed by a serialized MessageQueue back into entries. */
function queueKeyedEntries(v: unknown, what: string): [MessageQueue, unknown][] {
  const out: [MessageQueue, unknown][] = [];
  for (const [key, value] of Object.entries(asObject(v ?? {}, what))) {
    out.push([decodeMessageQueue(parseLenientJson(key)), value]);
  }
  return out;
}

/** Offsets of one queue for a consumer group. */
export interface OffsetWrapper {
  brokerOffset: number;
  consumerOffset: number;
  /** Store time (ms) of the last consumed message, 0 if unknown. */
  lastTimestamp: number;
}

/** GET_CONSUME_STATS answer. */
export interface ConsumeStats {
  offsetTable: { queue: MessageQueue; offsets: OffsetWrapper }[];
  consumeTps: number;
}

/** Encodes a consume-stats body (fastjson form: the queue object is the map key). */
export function encodeConsumeStats(stats: ConsumeStats): Buffer {
  const table = new Map<unknown, unknown>();
  for (const { queue, offsets } of stats.offsetTable) table.set(mqKey(queue), offsets);
  return Buffer.from(stringifyCompat({ offsetTable: table, consumeTps: stats.consumeTps }), 'utf8');
}

/** Decodes a consume-stats body. */
export function decodeConsumeStats(body: Buffer | string | undefined): ConsumeStats {
  const o = parseObjectBody(body, 'consume stats');
  return {
    offsetTable: queueKeyedEntries(o.offsetTable, 'offsetTable').map(([queue, v]) => {
      const w = asObject(v, 'offsetWrapper');
      return {
        queue,
        offsets: {
          brokerOffset: numberField(w, 'brokerOffset', 'offsetWrapper', 0),
          consumerOffset: numberField(w, 'consumerOffset', 'offsetWrapper', 0),
          lastTimestamp: numberField(w, 'lastTimestamp', 'offsetWrapper', 0),
        },
      };
    }),
    consumeTps: numberField(o, 'consumeTps', 'consume stats', 0),
  };
}

/** Reset-offset body: the new offset of each queue. */
export interface ResetOffsetBody {
  offsetTable: { queue: MessageQueue; offset: number }[];
}

/** Encodes a reset-offset body (fastjson form). */
export function encodeResetOffsetBody(body: ResetOffsetBody): Buffer {
  const table = new Map<unknown, unknown>();
  for (const { queue, offset } of body.offsetTable) table.set(mqKey(queue), offset);
  return Buffer.from(stringifyCompat({ offsetTable: table }), 'utf8');
}

/** Decodes a reset-offset body. */
export function decodeResetOffsetBody(body: Buffer | string | undefined): ResetOffsetBody {
  const o = parseObjectBody(body, 'reset offset');
  return {
    offsetTable: queueKeyedEntries(o.offsetTable, 'offsetTable').map(([queue, v]) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bodyError('offsetTable value');
      return { queue, offset: v };
    }),
  };
}
