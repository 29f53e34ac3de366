/**
 * The message model of the SDK: what a producer sends ({@link Message}) and what a consumer
 * receives ({@link ReceivedMessage}), plus the property names RocketMQ brokers understand.
 */
import type { MessageQueue } from './message-queue.js';

/** Well-known message property names (RocketMQ `MessageConst`). */
export const MessageProperty = {
  /** Space-separated business keys (indexed by the broker). */
  KEYS: 'KEYS',
  /** The message tag. */
  TAGS: 'TAGS',
  /** Delay level 1..18 (1s 5s 10s 30s 1m … 2h). */
  DELAY: 'DELAY',
  /** The client-side unique message id. */
  UNIQ_KEY: 'UNIQ_KEY',
  /** Original topic of a retried message. */
  RETRY_TOPIC: 'RETRY_TOPIC',
  /** Message id of the original message, on retries. */
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  /** Times the message was consumed before, on retries sent by the client. */
  RECONSUME_TIME: 'RECONSUME_TIME',
  /** Maximum redeliveries before the dead-letter queue. */
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  /** Producer group. */
  PRODUCER_GROUP: 'PGROUP',
  /** Whether the broker should answer only after storing ("true"/"false"). */
  WAIT: 'WAIT',
  /** Sharding key (ordered messages). */
  SHARDING_KEY: '__SHARDINGKEY',
  /** Absolute delivery time in ms (RocketMQ 5 timer messages). */
  TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
  /** Queue min offset at pull time (set by the client on received messages). */
  MIN_OFFSET: 'MIN_OFFSET',
  /** Queue max offset at pull time (set by the client on received messages). */
  MAX_OFFSET: 'MAX_OFFSET',
  /** Time consumption started (ms), set by the client. */
  CONSUME_START_TIME: 'CONSUME_START_TIME',
} as const;

/** Property names the SDK sets itself: not allowed in {@link Message.properties}. */
export const RESERVED_PROPERTIES: ReadonlySet<string> = new Set([
  MessageProperty.KEYS,
  MessageProperty.TAGS,
  MessageProperty.DELAY,
  MessageProperty.UNIQ_KEY,
  MessageProperty.SHARDING_KEY,
  MessageProperty.TIMER_DELIVER_MS,
  MessageProperty.PRODUCER_GROUP,
]);

/** A message to send. */
export interface Message {
  /** Target topic (at most 127 bytes of `[%|a-zA-Z0-9_-]`). */
  topic: string;
  /** Payload. Strings are sent as UTF-8. */
  body: Buffer | Uint8Array | string;
  /** Tag, used for broker-side filtering (`subscribe(topic, 'TagA || TagB')`). */
  tags?: string;
  /** Business keys (indexed; find the message with `Admin.queryMessageByKey`). */
  keys?: string | readonly string[];
  /** User properties (also usable by SQL92 filters). */
  properties?: Readonly<Record<string, string>>;
  /** Delay level 1..18 (default broker table: 1s 5s 10s 30s 1m 2m … 2h). */
  delayLevel?: number;
  /**
   * Absolute delivery time (epoch ms), for brokers with timer messages (RocketMQ 5.x,
   * property `TIMER_DELIVER_MS`). Brokers without timers deliver at once.
   */
  deliverTimeMs?: number;
  /** Messages with the same sharding key go to the same queue (ordered per key). */
  shardingKey?: string;
  /** User flag (int32), stored with the message. */
  flag?: number;
}

/** A message delivered to a consumer. */
export interface ReceivedMessage {
  /** Topic (for retried messages: the original topic, not `%RETRY%<group>`). */
  readonly topic: string;
  /**
   * Payload, decompressed. A view of the answer the message came in (no copy): keeping it keeps
   * that memory (up to 128 KiB, or the whole answer); copy it (`Buffer.from(body)`) to keep a
   * few bodies for long.
   */
  readonly body: Buffer;
  /** Tag, if the message has one. */
  readonly tags: string | undefined;
  /** Business keys. */
  readonly keys: readonly string[];
  /** All properties, including system ones. */
  readonly properties: Readonly<Record<string, string>>;
  /** Client-side unique id (`UNIQ_KEY`), or the offset id when the producer set none. */
  readonly msgId: string;
  /** Broker-side id: store host + commit-log offset (32 hex digits). */
  readonly offsetMsgId: string;
  /** The queue the message was pulled from (for retries: the `%RETRY%` queue). */
  readonly queue: MessageQueue;
  /** Logical offset in that queue. */
  readonly queueOffset: number;
  /** Physical offset in the broker's commit log. */
  readonly commitLogOffset: number;
  /** Producer timestamp (ms). */
  readonly bornTimestampMs: number;
  /** Broker store timestamp (ms). */
  readonly storeTimestampMs: number;
  /** Producer address `host:port`. */
  readonly bornHost: string;
  /** Broker address `host:port`. */
  readonly storeHost: string;
  /** How many times the message was redelivered before. */
  readonly reconsumeTimes: number;
  /** User flag. */
  readonly flag: number;
  /** Size of the stored record in bytes (used for flow control). */
  readonly storeSizeBytes: number;
}
