/**
 * Validation and encoding of outgoing messages: body bytes (zlib-compressed above a threshold,
 * flagged with sysFlag bit 0), the property string (tags, keys, delay, UNIQ_KEY, sharding key,
 * user properties) and the client unique id.
 */
import { deflateSync } from 'node:zlib';
import {
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  encodeProperties,
} from '../common/codec/properties.js';
import { SYSFLAG_COMPRESSED } from '../common/codec/message-record.js';
import { MQClientError } from './errors.js';
import { MessageProperty, RESERVED_PROPERTIES, type Message } from './message.js';

/** Limits applied to outgoing messages. */
export interface OutgoingLimits {
  /** Largest accepted body (before compression). */
  maxBodyBytes: number;
  /** Bodies larger than this are zlib-compressed (if that makes them smaller). */
  compressOverBytes: number;
}

/** A message ready for the wire. */
export interface EncodedMessage {
  topic: string;
  body: Buffer;
  sysFlag: number;
  flag: number;
  /** Property string. */
  properties: string;
  /** Client unique id. */
  uniqKey: string;
}

const NAME_VALUE = String.fromCharCode(NAME_VALUE_SEPARATOR);
const PAIR_END = String.fromCharCode(PROPERTY_SEPARATOR);
const WAIT_TRUE = MessageProperty.WAIT + NAME_VALUE + 'true' + PAIR_END;

/** One `name 0x01 value 0x02` pair of a reserved property (the name has no separator). */
function pair(name: string, value: string): string {
  if (value.includes(PAIR_END)) {
    throw new MQClientError(
      'INVALID_ARGUMENT',
      `property ${name} has a value containing \\u0002 (the pair separator); remove it`,
    );
  }
  return name + NAME_VALUE + value + PAIR_END;
}

function isEmpty(record: object): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}

const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;
const MAX_TOPIC_BYTES = 127;
const MAX_PROPERTIES_BYTES = 32767;

/** Throws `TOPIC_ILLEGAL` unless `topic` is a valid RocketMQ topic name. */
export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new MQClientError('TOPIC_ILLEGAL', 'message topic is missing; set message.topic');
  }
  if (!TOPIC_PATTERN.test(topic) || Buffer.byteLength(topic) > MAX_TOPIC_BYTES) {
    throw new MQClientError(
      'TOPIC_ILLEGAL',
      `topic '${topic.slice(0, 60)}' is invalid: use at most ${MAX_TOPIC_BYTES} characters of [%|a-zA-Z0-9_-]`,
    );
  }
}

/** The body as a Buffer (strings as UTF-8; Uint8Array viewed, not copied). */
export function bodyBytes(body: Message['body']): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new MQClientError('MESSAGE_ILLEGAL', 'message body must be a Buffer, Uint8Array or string');
}

/**
 * Validates and encodes `msg`.
 * @param allowCompression false for batch items (brokers do not decompress batch items).
 */
export function encodeMessage(
  msg: Message,
  uniqKey: string,
  limits: OutgoingLimits,
  allowCompression = true,
): EncodedMessage {
  if (typeof msg !== 'object' || msg === null) {
    throw new MQClientError('INVALID_ARGUMENT', 'send() needs a message object {topic, body}');
  }
  checkTopic(msg.topic);
  let body = bodyBytes(msg.body);
  if (body.length === 0) {
    throw new MQClientError('MESSAGE_ILLEGAL', `message body for topic '${msg.topic}' is empty`);
  }
  if (body.length > limits.maxBodyBytes) {
    throw new MQClientError(
      'MESSAGE_TOO_LARGE',
      `message body is ${body.length} bytes; the limit is ${limits.maxBodyBytes} (raise maxMessageSizeBytes on producer and broker, or split the payload)`,
    );
  }
  let sysFlag = 0;
  if (allowCompression && body.length > limits.compressOverBytes) {
    const compressed = deflateSync(body, { level: 5 });
    if (compressed.length < body.length) {
      body = compressed;
      sysFlag |= SYSFLAG_COMPRESSED;
    }
  }
  const flag = msg.flag ?? 0;
  if (!Number.isInteger(flag) || flag < -0x80000000 || flag > 0x7fffffff) {
    throw new MQClientError('INVALID_ARGUMENT', `message flag ${flag} is not an int32`);
  }
  const tags = msg.tags !== undefined && msg.tags !== '' ? msg.tags : undefined;
  let keys: string | undefined;
  if (msg.keys !== undefined) {
    const list = typeof msg.keys === 'string' ? [msg.keys] : [...msg.keys];
    const joined = list.filter((k) => k.length > 0).join(' ');
    if (joined) keys = joined;
  }
  let delay: string | undefined;
  if (msg.delayLevel !== undefined && msg.delayLevel !== 0) {
    if (!Number.isInteger(msg.delayLevel) || msg.delayLevel < 1) {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        `delayLevel ${msg.delayLevel} must be an integer ≥ 1 (1 = 1s … 18 = 2h)`,
      );
    }
    delay = String(msg.delayLevel);
  }
  let deliverAt: string | undefined;
  if (msg.deliverTimeMs !== undefined) {
    if (!Number.isSafeInteger(msg.deliverTimeMs) || msg.deliverTimeMs < 0) {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        `deliverTimeMs ${msg.deliverTimeMs} must be epoch milliseconds`,
      );
    }
    deliverAt = String(msg.deliverTimeMs);
  }
  const shardingKey =
    msg.shardingKey !== undefined && msg.shardingKey !== '' ? msg.shardingKey : undefined;
  let properties: string;
  if (msg.properties === undefined || isEmpty(msg.properties)) {
    // The usual case: the property string is built directly (no map, no entry arrays), in the
    // same order as below.
    properties = '';
    if (tags !== undefined) properties += pair(MessageProperty.TAGS, tags);
    if (keys !== undefined) properties += pair(MessageProperty.KEYS, keys);
    if (delay !== undefined) properties += pair(MessageProperty.DELAY, delay);
    if (deliverAt !== undefined) properties += pair(MessageProperty.TIMER_DELIVER_MS, deliverAt);
    if (shardingKey !== undefined) properties += pair(MessageProperty.SHARDING_KEY, shardingKey);
    properties += pair(MessageProperty.UNIQ_KEY, uniqKey) + WAIT_TRUE;
  } else {
    const props = new Map<string, string>();
    if (tags !== undefined) props.set(MessageProperty.TAGS, tags);
    if (keys !== undefined) props.set(MessageProperty.KEYS, keys);
    if (delay !== undefined) props.set(MessageProperty.DELAY, delay);
    if (deliverAt !== undefined) props.set(MessageProperty.TIMER_DELIVER_MS, deliverAt);
    if (shardingKey !== undefined) props.set(MessageProperty.SHARDING_KEY, shardingKey);
    props.set(MessageProperty.UNIQ_KEY, uniqKey);
    props.set(MessageProperty.WAIT, 'true');
    for (const [k, v] of Object.entries(msg.properties)) {
      if (RESERVED_PROPERTIES.has(k)) {
        throw new MQClientError(
          'INVALID_ARGUMENT',
          `property '${k}' is set by the client; use the message field instead (tags, keys, delayLevel, shardingKey, deliverTimeMs)`,
        );
      }
      if (typeof v !== 'string') {
        throw new MQClientError('INVALID_ARGUMENT', `property '${k}' must be a string`);
      }
      props.set(k, v);
    }
    try {
      properties = encodeProperties(props);
    } catch (err) {
      throw new MQClientError('INVALID_ARGUMENT', (err as Error).message, { cause: err });
    }
  }
  // A UTF-16 unit takes at most 3 UTF-8 bytes: short strings need no byte count.
  if (
    properties.length * 3 > MAX_PROPERTIES_BYTES &&
    Buffer.byteLength(properties) > MAX_PROPERTIES_BYTES
  ) {
    throw new MQClientError(
      'PROPERTIES_TOO_LARGE',
      `message properties take ${Buffer.byteLength(properties)} bytes; the limit is ${MAX_PROPERTIES_BYTES}`,
    );
  }
  return { topic: msg.topic, body, sysFlag, flag, properties, uniqKey };
}
