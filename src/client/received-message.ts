/**
 * Turns decoded message records (pull and query bodies) into {@link ReceivedMessage}s: inflates
 * compressed bodies, restores the original topic of retried messages and splits keys.
 */
import { inflateSync } from 'node:zlib';
import {
  decodeRecords,
  SYSFLAG_COMPRESSED,
  type DecodedMessage,
} from '../common/codec/message-record.js';
import { MQClientError } from './errors.js';
import { MessageProperty, type ReceivedMessage } from './message.js';
import { messageQueue, type MessageQueue } from './message-queue.js';

/** Prefix of retry topics: `%RETRY%<group>`. */
export const RETRY_TOPIC_PREFIX = '%RETRY%';
/** Prefix of dead-letter topics: `%DLQ%<group>`. */
export const DLQ_TOPIC_PREFIX = '%DLQ%';

/** The retry topic of a consumer group. */
export function retryTopicOf(group: string): string {
  return RETRY_TOPIC_PREFIX + group;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Converts one decoded record.
 * @param queue the queue it was read from; when omitted, built from the record's topic and
 *   queue id with `brokerName`.
 */
export function toReceivedMessage(
  d: DecodedMessage,
  queue: MessageQueue | undefined,
  brokerName = '',
): ReceivedMessage {
  let body = toBuffer(d.body);
  if ((d.sysFlag & SYSFLAG_COMPRESSED) !== 0) {
    try {
      body = inflateSync(body);
    } catch (err) {
      throw new MQClientError(
        'MESSAGE_ILLEGAL',
        `message ${d.msgId} is flagged compressed but its body does not inflate`,
        { cause: err },
      );
    }
  }
  const properties: Record<string, string> = {};
  for (const [k, v] of d.properties) properties[k] = v;
  const retryTopic = properties[MessageProperty.RETRY_TOPIC];
  const topic =
    retryTopic !== undefined && d.topic.startsWith(RETRY_TOPIC_PREFIX) ? retryTopic : d.topic;
  const keysText = properties[MessageProperty.KEYS];
  return {
    topic,
    body,
    tags: properties[MessageProperty.TAGS],
    keys: keysText ? keysText.split(' ').filter((k) => k.length > 0) : [],
    properties,
    msgId: d.msgId,
    offsetMsgId: d.offsetMsgId,
    queue: queue ?? messageQueue(d.topic, brokerName, d.queueId),
    queueOffset: d.queueOffset,
    commitLogOffset: d.physicalOffset,
    bornTimestampMs: d.bornTimestamp,
    storeTimestampMs: d.storeTimestamp,
    bornHost: d.bornHost,
    storeHost: d.storeHost,
    reconsumeTimes: d.reconsumeTimes,
    flag: d.flag,
    storeSizeBytes: d.totalSize,
  };
}

/** Decodes a body of concatenated records. */
export function decodeMessages(
  body: Uint8Array | undefined,
  queue: MessageQueue | undefined,
  brokerName = '',
): ReceivedMessage[] {
  if (!body || body.length === 0) return [];
  let records: DecodedMessage[];
  try {
    records = decodeRecords(body);
  } catch (err) {
    throw new MQClientError(
      'PROTOCOL_ERROR',
      `a message record from broker '${brokerName || queue?.brokerName || '?'}' does not decode: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return records.map((d) => toReceivedMessage(d, queue, brokerName));
}
