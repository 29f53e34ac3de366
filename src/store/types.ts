/**
 * The store's public contract: what the broker may call. The broker imports only this file and
 * `message-store.ts`; everything else under `src/store/` is internal.
 *
 * Offsets: physical (CommitLog) offsets and queue offsets are `number`s. They are exact while
 * below 2^53 (8 PiB of log); every codec boundary that reads an int64 checks
 * `Number.isSafeInteger` and throws a `STORE_CORRUPT` error instead of losing precision.
 */

import type { TopicSlot } from './topic-slot.js';

export type { TopicSlot } from './topic-slot.js';

/** Which file layer backs the CommitLog segments. */
export type StoreBackend = 'mmap' | 'file';

export type FlushMode = 'async' | 'sync';

/** A host as stored in a record: IPv4 (4 bytes) or IPv6 (16 bytes) address bytes + port. */
export interface HostAddress {
  /** 4 bytes for IPv4, 16 bytes for IPv6. */
  readonly address: Uint8Array;
  readonly port: number;
}

/** A message to append. Built by the broker from a send request; never retained by the store. */
export interface MessageToStore {
  topic: string;
  queueId: number;
  /** User flag from the producer (int32). */
  flag: number;
  /** Body bytes as sent (possibly compressed; the store never looks inside). */
  body: Uint8Array;
  /**
   * Properties already encoded as `name\u0001value\u0002` pairs (UTF-8 bytes), or a string in
   * that format. The store parses only TAGS/KEYS/UNIQ_KEY/DELAY out of it when dispatching.
   */
  properties: string | Uint8Array;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  reconsumeTimes: number;
  /** Physical offset of the prepared (half) message for transaction commit/rollback records. */
  preparedTransactionOffset: number;
  /**
   * The topic's slot from this store's {@link MessageStoreApi.topicSlot}, when the caller keeps
   * one: the append then skips looking the topic up by name. Ignored unless it is this store's
   * slot of `topic`.
   */
  slot?: TopicSlot;
}

export type PutStatus =
  | 'PUT_OK'
  | 'FLUSH_DISK_TIMEOUT'
  | 'MESSAGE_ILLEGAL'
  | 'PROPERTIES_SIZE_EXCEEDED'
  | 'SERVICE_NOT_AVAILABLE'
  | 'DISK_FULL';

export interface AppendResult {
  /** Physical offset of the record's first byte in the CommitLog. */
  physicalOffset: number;
  /** Logical offset in its ConsumeQueue (entry index). */
  queueOffset: number;
  /** Record size in bytes (TOTALSIZE). */
  sizeBytes: number;
  storeTimestamp: number;
}

export interface PutResult {
  status: PutStatus;
  /** One entry per stored message (one for `putMessage`, n for `putMessages`). */
  appended: AppendResult[];
}

/**
 * A view of records in the log that the caller must `release()` once it no longer needs the
 * bytes (e.g. in the socket write callback): segments are unmapped only when no view holds them.
 */
export interface LogSlices {
  /**
   * Whole records in log order: zero-copy views into the log, or (short runs a get gathered)
   * copies of them. Valid until {@link release}.
   */
  readonly buffers: Uint8Array[];
  readonly totalBytes: number;
  release(): void;
}

export type GetStatus =
  | 'FOUND'
  | 'NO_MATCHED_MESSAGE'
  | 'MESSAGE_WAS_REMOVING'
  | 'OFFSET_FOUND_NULL'
  | 'OFFSET_OVERFLOW_BADLY'
  | 'OFFSET_OVERFLOW_ONE'
  | 'OFFSET_TOO_SMALL'
  | 'NO_MATCHED_LOGIC_QUEUE'
  | 'NO_MESSAGE_IN_QUEUE';

/** Decides from a ConsumeQueue entry (and, if needed, the record) whether a message matches. */
export interface MessageFilter {
  /** Cheap check on the ConsumeQueue tag hash code. */
  isMatchedByTagsCode(tagsCode: number): boolean;
  /** Optional full check on the stored record (e.g. SQL92 over properties). */
  isMatchedByRecord?(record: Uint8Array): boolean;
}

export interface GetResult {
  status: GetStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** Present when status is FOUND; the caller owns it and must release it. */
  slices?: LogSlices;
  messageCount: number;
}

export interface StoreConfig {
  /** Root folder: commitlog/, consumequeue/, index/, checkpoint, abort, config/. */
  storePath: string;
  backend: StoreBackend;
  commitLogSegmentSizeBytes: number;
  consumeQueueEntriesPerFile: number;
  flushMode: FlushMode;
  flushIntervalMs: number;
  flushLeastPages: number;
  flushThoroughIntervalMs: number;
  syncFlushTimeoutMs: number;
  warmSegments: boolean;
  /**
   * With `warmSegments`, how far ahead of the appends segments are warmed (stored into, so the
   * appends take no page fault; resumed from the append path at half the lead). Unset: a lead
   * that follows the append rate (what the appends reach within 1 s, 2-64 MiB), the rest of the
   * segment being only brought into the page cache (clean). Every page warmed ahead is a dirty
   * page of zeros that the kernel may write back before the appends reach it (whole segments
   * warmed ahead made an idle broker write 1 GB of zeros within a minute of starting).
   * +Infinity warms whole segments as soon as they are allocated.
   */
  warmLeadBytes?: number;
  /**
   * File backend: serve reads from a mapping of each segment instead of `pread` copies (the
   * writes stay positional). Default true; ignored without the native addon.
   */
  fileReadsMapped?: boolean;
  maxMessageSizeBytes: number;
  maxPropertiesSizeBytes: number;
  fileReservedTimeMs: number;
  /** Hours of the day (0-23) at which expired segments are deleted. */
  deleteWhenHours: number[];
  cleanResourceIntervalMs: number;
  diskMaxUsedSpaceRatio: number;
  diskSpaceCleanForciblyRatio: number;
  diskSpaceWarningLevelRatio: number;
  messageIndexEnable: boolean;
  indexMaxHashSlots: number;
  indexMaxEntries: number;
  /** The store host written into every record (the broker's address). */
  storeHost: HostAddress;
  /** Pull reads: at most this many messages / bytes per get. */
  maxTransferCount: number;
  maxTransferBytes: number;
  /**
   * Delay per level in ms (index 0 = level 1): the ConsumeQueue tag code of a
   * `SCHEDULE_TOPIC_XXXX` message is its delivery time, store time + this delay. Default:
   * RocketMQ's 18 levels (1s 5s 10s 30s 1m … 2h).
   */
  delayLevelsMs?: readonly number[];
  /** How often ConsumeQueue/index buffers are written and the checkpoint saved (default 1000). */
  consumeQueueFlushIntervalMs?: number;
  /** How often ConsumeQueue/index files are also fsynced (default 60000). */
  consumeQueueFlushThoroughIntervalMs?: number;
  /** Most ConsumeQueue file descriptors open at once (default 1024). */
  consumeQueueMaxOpenFiles?: number;
  /**
   * Bytes of ConsumeQueue write buffers kept after their queues went idle, so that reads of
   * recent entries need no file read (default 64 MiB; 0 drops every idle buffer).
   */
  consumeQueueBufferBudgetBytes?: number;
  /**
   * Write ConsumeQueue files on a writer thread (default true): with thousands of queues,
   * creating, opening and writing their files would otherwise cost the JS thread more than the
   * appends themselves.
   */
  consumeQueueWriteThread?: boolean;
}

export const DEFAULT_STORE_CONFIG: Readonly<StoreConfig> = Object.freeze({
  storePath: './sluice-data/store',
  backend: 'mmap',
  commitLogSegmentSizeBytes: 1024 * 1024 * 1024,
  consumeQueueEntriesPerFile: 300_000,
  flushMode: 'async',
  flushIntervalMs: 500,
  flushLeastPages: 4,
  flushThoroughIntervalMs: 10_000,
  syncFlushTimeoutMs: 5_000,
  warmSegments: true,
  maxMessageSizeBytes: 4 * 1024 * 1024,
  maxPropertiesSizeBytes: 32 * 1024,
  fileReservedTimeMs: 72 * 3600 * 1000,
  deleteWhenHours: [4],
  cleanResourceIntervalMs: 10_000,
  diskMaxUsedSpaceRatio: 0.75,
  diskSpaceCleanForciblyRatio: 0.85,
  diskSpaceWarningLevelRatio: 0.9,
  messageIndexEnable: true,
  indexMaxHashSlots: 5_000_000,
  indexMaxEntries: 20_000_000,
  storeHost: { address: new Uint8Array([127, 0, 0, 1]), port: 10911 },
  maxTransferCount: 32,
  maxTransferBytes: 256 * 1024,
});

/**
 * What the dispatcher tells listeners for every record it indexes. The object is reused between
 * calls: copy what you keep.
 */
export interface DispatchedMessage {
  topic: string;
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
  sizeBytes: number;
  tagsCode: number;
  storeTimestamp: number;
  sysFlag: number;
  /** Raw properties string of the record (decoded lazily by the dispatcher only if asked). */
  readonly properties: string;
}

/** One CommitLog segment, as shown to operators. */
export interface SegmentInfo {
  fileName: string;
  startOffset: number;
  sizeBytes: number;
  /** Bytes written into this segment so far. */
  wroteBytes: number;
  /**
   * True for the segment taking appends (the last one in use). The all-zero segment pre-allocated
   * after it is not listed: it is unused until the log rolls into it.
   */
  active: boolean;
}

export interface StoreStats {
  minPhysicalOffset: number;
  maxPhysicalOffset: number;
  flushedPhysicalOffset: number;
  dispatchedPhysicalOffset: number;
  segments: SegmentInfo[];
  /** Fraction 0..1 of the store's filesystem in use. */
  diskUsedRatio: number;
  putMessageCount: number;
  putMessageBytes: number;
  writable: boolean;
  /** CommitLog segment flushes (fdatasync or msync calls) since the store opened. */
  commitLogFlushes: number;
  /** Of {@link commitLogFlushes}, those run on the event loop's thread (small group commits). */
  commitLogInlineFlushes: number;
}

/** The store as the broker sees it; implemented by `MessageStore` in `message-store.ts`. */
export interface MessageStoreApi {
  readonly config: Readonly<StoreConfig>;
  /** Appends one message. Resolves once stored (and, in sync mode, flushed). */
  putMessage(message: MessageToStore): Promise<PutResult>;
  /** Appends a batch of messages for one topic+queue contiguously. */
  putMessages(messages: MessageToStore[]): Promise<PutResult>;
  /**
   * {@link putMessage} without the promise when nothing has to be awaited: the append is
   * synchronous, so in async-flush mode on mmap the result comes back directly. (The file
   * backend still returns a promise, settled once the event-loop turn's records are written to
   * the file; sync flush, once they are durable.)
   */
  putMessageNow(message: MessageToStore): PutResult | Promise<PutResult>;
  /**
   * The slot of `topic` to pass as `MessageToStore.slot` (see there); throws TOPIC_ILLEGAL when
   * the name is not a valid topic. Keep it as long as you like.
   */
  topicSlot(topic: string): TopicSlot;
  /** {@link putMessages} without the promise when nothing has to be awaited. */
  putMessagesNow(messages: MessageToStore[]): PutResult | Promise<PutResult>;
  /** Reads up to `maxMessages` from a queue starting at `queueOffset`, filtered. */
  getMessage(
    topic: string,
    queueId: number,
    queueOffset: number,
    maxMessages: number,
    filter?: MessageFilter,
  ): GetResult;
  getMaxOffsetInQueue(topic: string, queueId: number): number;
  getMinOffsetInQueue(topic: string, queueId: number): number;
  /** First queue offset whose store time is >= timestampMs (max offset when none). */
  getOffsetInQueueByTime(topic: string, queueId: number, timestampMs: number): number;
  getEarliestMessageTime(topic: string, queueId: number): number;
  /** The store timestamp of the message at a queue offset, or -1. */
  getMessageStoreTimestamp(topic: string, queueId: number, queueOffset: number): number;
  /** The whole record at a physical offset, or null when the offset holds no valid record. */
  lookMessageByOffset(physicalOffset: number): LogSlices | null;
  /** Physical offsets of messages whose KEYS or UNIQ_KEY equal `key`, newest first. */
  queryMessageOffsets(
    topic: string,
    key: string,
    maxCount: number,
    beginTimestampMs: number,
    endTimestampMs: number,
  ): number[];
  /** Called after each dispatched record (ConsumeQueue entry written). Returns an unsubscribe. */
  onDispatched(listener: (message: DispatchedMessage) => void): () => void;
  /** Removes a topic's ConsumeQueues (the log keeps its records until retention). */
  deleteTopic(topic: string): void;
  /** Topic → queue ids that have a ConsumeQueue. */
  listQueues(): Map<string, number[]>;
  stats(): StoreStats;
  /** Stops services, flushes everything, writes the checkpoint, removes the abort marker. */
  shutdown(): Promise<void>;
}
