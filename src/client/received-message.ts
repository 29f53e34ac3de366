/**
 * Turns message records (pull and query bodies) into {@link ReceivedMessage}s: inflates
 * compressed bodies and restores the original topic of retried messages; the rest of each
 * message is decoded on access ({@link PulledMessage}).
 */
import { inflateSync } from 'node:zlib';
import {
  BLANK_MIN_BYTES,
  SYSFLAG_COMPRESSED,
  checkRecord,
  newRecordMeta,
  readRecordMeta,
  viewOf,
  type RecordMeta,
} from '../common/codec/message-record.js';
import { decodeText } from '../common/codec/decoded-message.js';
import { decodePropertiesRecord } from '../common/codec/properties.js';
import { equalBytes } from '../common/equal-bytes.js';
import { MQClientError } from './errors.js';
import { MessageProperty, type ReceivedMessage } from './message.js';
import { messageQueue, type MessageQueue } from './message-queue.js';
import { PulledMessage } from './pulled-message.js';

/** Prefix of retry topics: `%RETRY%<group>`. */
export const RETRY_TOPIC_PREFIX = '%RETRY%';
/** Prefix of dead-letter topics: `%DLQ%<group>`. */
export const DLQ_TOPIC_PREFIX = '%DLQ%';

/** The retry topic of a consumer group. */
export function retryTopicOf(group: string): string {
  return RETRY_TOPIC_PREFIX + group;
}

/** A Buffer view of `[start, end)` of `bytes` (one allocation when `bytes` is a Buffer). */
function bodyOf(bytes: Uint8Array, start: number, end: number): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes.subarray(start, end);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start);
}

const meta = newRecordMeta();

/**
 * Decodes a body of concatenated records (a pull or query answer) in one pass, straight into
 * {@link ReceivedMessage}s: the header is read into one reused meta object, what the records of
 * one body repeat (topic, queue) is built once, and properties, ids and hosts only when read.
 * @param queue the queue the body was read from; when omitted, built from each record's topic
 *   and queue id with `brokerName`.
 */
export function decodeMessages(
  body: Uint8Array | undefined,
  queue: MessageQueue | undefined,
  brokerName = '',
): ReceivedMessage[] {
  if (!body || body.length === 0) return [];
  const out: ReceivedMessage[] = [];
  const view = viewOf(body);
  let topicStart = -1;
  let topicLength = 0;
  let topic = '';
  let builtQueue: MessageQueue | undefined;
  let pos = 0;
  while (pos + BLANK_MIN_BYTES <= body.length) {
    const size = checkRecord(body, pos, body.length - pos, false);
    if (size === 0) break;
    if (size < 0) {
      throw new MQClientError(
        'PROTOCOL_ERROR',
        `a message record from broker '${brokerName || queue?.brokerName || '?'}' does not decode: invalid record at byte ${pos} of ${body.length}`,
      );
    }
    const m = meta;
    readRecordMeta(view, body, pos, m);
    if (
      topicStart < 0 ||
      !equalBytes(body, topicStart, topicLength, body, m.topicStart, m.topicLength)
    ) {
      topic = decodeText(body, m.topicStart, m.topicStart + m.topicLength);
      topicStart = m.topicStart;
      topicLength = m.topicLength;
    }
    let mq = queue;
    if (mq === undefined) {
      if (
        builtQueue === undefined ||
        builtQueue.topic !== topic ||
        builtQueue.queueId !== m.queueId
      ) {
        builtQueue = messageQueue(topic, brokerName, m.queueId);
      }
      mq = builtQueue;
    }
    out.push(toReceived(body, pos, m, topic, mq));
    pos += size;
  }
  return out;
}

/** One message from the record at `pos`, whose header is in `m`. */
function toReceived(
  bytes: Uint8Array,
  pos: number,
  m: RecordMeta,
  recordTopic: string,
  queue: MessageQueue,
): ReceivedMessage {
  let properties: Readonly<Record<string, string>> | undefined;
  let topic = recordTopic;
  if (recordTopic.startsWith(RETRY_TOPIC_PREFIX)) {
    properties = propertiesOf(bytes, m);
    topic = properties[MessageProperty.RETRY_TOPIC] ?? recordTopic;
  }
  let body = bodyOf(bytes, m.bodyStart, m.bodyStart + m.bodyLength);
  if ((m.sysFlag & SYSFLAG_COMPRESSED) !== 0) {
    try {
      body = inflateSync(body);
    } catch (err) {
      properties ??= propertiesOf(bytes, m);
      const id = properties[MessageProperty.UNIQ_KEY] ?? `at commit-log offset ${m.physicalOffset}`;
      throw new MQClientError(
        'MESSAGE_ILLEGAL',
        `message ${id} is flagged compressed but its body does not inflate`,
        { cause: err },
      );
    }
  }
  return new PulledMessage(bytes, pos, m, topic, body, queue, properties);
}

function propertiesOf(bytes: Uint8Array, m: RecordMeta): Record<string, string> {
  return decodePropertiesRecord(
    decodeText(bytes, m.propertiesStart, m.propertiesStart + m.propertiesLength),
  );
}
