/**
 * The dispatcher (RocketMQ's ReputMessageService): follows the CommitLog behind its end and, for
 * every record, writes the ConsumeQueue entry and the IndexFile entries, then tells listeners.
 * Woken by appends; works in time-boxed batches on the event loop and yields with
 * `setImmediate` so that it never starves I/O. Per record it allocates nothing: topics are
 * interned from their bytes, TAGS and KEYS are hashed straight from the log, and listeners get
 * one reused object.
 */
import {
  SYSFLAG_TRANSACTION_MASK,
  SYSFLAG_TRANSACTION_PREPARED,
  SYSFLAG_TRANSACTION_ROLLBACK,
  BLANK_MAGIC,
  newRecordMeta,
  readDispatchMeta,
  viewOf,
  type RecordMeta,
} from '../common/codec/message-record.js';
import { equalBytes } from '../common/equal-bytes.js';
import { createLogger } from '../common/logger.js';
import { indexKeyHash, javaHashContinueUtf8, javaHashUtf8 } from '../common/java-hash.js';
import type { ConsumeQueueStore } from './consume-queue-store.js';
import type { ConsumeQueue } from './consume-queue.js';
import { PropertyRanges } from './dispatch-properties.js';
import type { IndexService } from './index-service.js';
import { TopicInterner, type TopicEntry } from './topic-interner.js';
import type { TopicSlot } from './topic-slot.js';
import type { DispatchedMessage, LogSlices } from './types.js';

const log = createLogger('store');

export { SCHEDULE_TOPIC } from './topic-interner.js';

/** RocketMQ's default delay levels 1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h. */
export const DEFAULT_DELAY_LEVELS_MS: readonly number[] = Object.freeze(
  [1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200].map(
    (s) => s * 1000,
  ),
);

/** What the dispatcher reads. */
export interface DispatchLog {
  readonly maxOffset: number;
  readonly minOffset: number;
  /**
   * The log from `physicalOffset` on, at most `maxBytes` of one segment (null: nothing there).
   * The views may end in the middle of a record; a BLANK record ends the segment.
   */
  read(physicalOffset: number, maxBytes: number): LogSlices | null;
  /** Start of the first segment that begins after `offset`, or -1. */
  nextSegmentStart(offset: number): number;
  /**
   * The topic slot the record at `physicalOffset` was appended with, if the log still knows
   * (asked in log order). A hint: the record's topic bytes are checked against it.
   */
  slotAt(physicalOffset: number): TopicSlot | undefined;
}

/** Options of a {@link Dispatcher}. */
export interface DispatcherOptions {
  messageIndexEnable: boolean;
  delayLevelsMs?: readonly number[];
  /** Bytes read from the log per step (default 256 KiB). */
  readChunkBytes?: number;
  /** Stretch of work before yielding to the event loop (default 4 ms). */
  sliceMs?: number;
  /**
   * Backlog (log bytes not yet dispatched) above which a slice goes on past `sliceMs`, up to
   * `maxSliceMs` (defaults 4 MiB and 50 ms).
   */
  maxLagBytes?: number;
  maxSliceMs?: number;
}

/** The reused object handed to listeners. */
class DispatchedRecord implements DispatchedMessage {
  topic = '';
  queueId = 0;
  queueOffset = 0;
  physicalOffset = 0;
  sizeBytes = 0;
  tagsCode = 0;
  storeTimestamp = 0;
  sysFlag = 0;
  bytes: Uint8Array = new Uint8Array(0);
  propsStart = 0;
  propsLength = 0;
  private readonly decoder = new TextDecoder();

  get properties(): string {
    return this.decoder.decode(
      this.bytes.subarray(this.propsStart, this.propsStart + this.propsLength),
    );
  }
}

/** Follows the CommitLog and builds ConsumeQueues and the key index. */
export class Dispatcher {
  /** Next log offset to dispatch. */
  dispatchedOffset: number;
  /** Store time of the last dispatched record. */
  lastStoreTimestamp = 0;
  /** Records dispatched since creation. */
  dispatchedCount = 0;
  private readonly listeners: Array<(m: DispatchedMessage) => void> = [];
  private readonly interner = new TopicInterner();
  private readonly meta: RecordMeta = newRecordMeta();
  private readonly props = new PropertyRanges();
  private readonly out = new DispatchedRecord();
  private readonly delayLevelsMs: readonly number[];
  private readonly chunkBytes: number;
  private readonly sliceMs: number;
  private readonly maxLagBytes: number;
  private readonly maxSliceMs: number;
  private scheduled = false;
  private stopped = true;
  private readonly runBound = (): void => this.runSlice();
  /** Set by {@link dispatchBuffer}: it stopped at a BLANK (end of segment) record. */
  private hitBlank = false;
  /** Set by {@link dispatchBuffer}: size of the record the view's end cut (0: none). */
  private cutRecordBytes = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly source: DispatchLog,
    private readonly cqStore: ConsumeQueueStore,
    private readonly index: IndexService,
    private readonly options: DispatcherOptions,
    fromOffset: number,
  ) {
    this.dispatchedOffset = fromOffset;
    this.delayLevelsMs = options.delayLevelsMs ?? DEFAULT_DELAY_LEVELS_MS;
    this.chunkBytes = options.readChunkBytes ?? 256 * 1024;
    this.sliceMs = options.sliceMs ?? 4;
    this.maxLagBytes = options.maxLagBytes ?? 4 * 1024 * 1024;
    this.maxSliceMs = Math.max(this.sliceMs, options.maxSliceMs ?? 50);
  }

  /** Adds a listener called after each dispatched record. Returns an unsubscribe. */
  onDispatched(listener: (m: DispatchedMessage) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Begins following the log (call {@link wake} on appends). */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops following; work already queued is dropped. */
  stop(): void {
    this.stopped = true;
  }

  /** Schedules a slice when there is work. Cheap: call it on every append. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.runBound);
  }

  /** True when every appended record has been dispatched. */
  get caughtUp(): boolean {
    return this.dispatchedOffset >= this.source.maxOffset;
  }

  /** Resolves once the dispatcher has caught up with the log. */
  whenCaughtUp(): Promise<void> {
    if (this.caughtUp) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake();
    });
  }

  private runSlice(): void {
    this.scheduled = false;
    if (this.stopped) return;
    try {
      // A slice ends after sliceMs once the backlog is small. When the appends of a turn took
      // longer to dispatch than a slice, ending there let the backlog grow without bound (a
      // store put loop at 10,000 topics fell ~100k records behind, past what the log remembers
      // of each record's topic slot, and each record then cost more to dispatch).
      const start = performance.now();
      this.dispatchUntil(start + this.sliceMs, this.maxLagBytes, start + this.maxSliceMs);
    } catch (err) {
      log.error(`dispatch failed at log offset ${this.dispatchedOffset}; retrying in 1 s`, err);
      this.scheduled = true;
      setTimeout(() => this.runSlice(), 1000).unref();
      return;
    }
    if (!this.caughtUp) this.wake();
    else if (this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Dispatches records until caught up or until `deadlineMs` (`performance.now()` clock) once
   * at most `lagBytes` of the log are left, or `hardDeadlineMs` in any case. Returns the number
   * of records dispatched.
   */
  dispatchUntil(
    deadlineMs = Number.POSITIVE_INFINITY,
    lagBytes = 0,
    hardDeadlineMs = deadlineMs,
  ): number {
    try {
      return this.dispatchRecords(deadlineMs, lagBytes, hardDeadlineMs);
    } finally {
      // Index entries are queued in batches: none is left queued between runs.
      this.index.drain();
    }
  }

  private dispatchRecords(deadlineMs: number, lagBytes: number, hardDeadlineMs: number): number {
    let count = 0;
    const src = this.source;
    let want = this.chunkBytes;
    while (this.dispatchedOffset < src.maxOffset) {
      if (this.dispatchedOffset < src.minOffset) this.dispatchedOffset = src.minOffset;
      const slices = src.read(this.dispatchedOffset, want);
      want = this.chunkBytes;
      this.hitBlank = slices === null;
      this.cutRecordBytes = 0;
      let n = 0;
      if (slices !== null) {
        try {
          const bufs = slices.buffers;
          for (let b = 0; b < bufs.length && !this.hitBlank && this.cutRecordBytes === 0; b++) {
            n += this.dispatchBuffer(bufs[b]);
          }
        } finally {
          slices.release();
        }
      }
      count += n;
      if (this.hitBlank) {
        // A BLANK (end of segment) or a gap: go to the next segment.
        const next = src.nextSegmentStart(this.dispatchedOffset);
        if (next < 0 || next <= this.dispatchedOffset) break;
        this.dispatchedOffset = next;
        continue;
      }
      if (n === 0) {
        if (this.cutRecordBytes === 0) break; // nothing whole to read
        want = this.cutRecordBytes; // a record larger than a chunk: read it whole
        continue;
      }
      const now = performance.now();
      if (
        now > deadlineMs &&
        (src.maxOffset - this.dispatchedOffset <= lagBytes || now > hardDeadlineMs)
      ) {
        break;
      }
    }
    return count;
  }

  /** Dispatches the whole records of `bytes` (log from {@link dispatchedOffset}); one pass. */
  private dispatchBuffer(bytes: Uint8Array): number {
    const view = viewOf(bytes);
    const meta = this.meta;
    const len = bytes.length;
    let p = 0;
    let n = 0;
    const base = this.dispatchedOffset;
    while (p + 8 <= len) {
      const size = view.getInt32(p, false);
      if (size <= 8 || view.getUint32(p + 4, false) === BLANK_MAGIC) {
        this.hitBlank = true;
        break;
      }
      if (p + size > len) {
        this.cutRecordBytes = size;
        break;
      }
      readDispatchMeta(view, bytes, p, meta);
      meta.physicalOffset = base + p;
      this.dispatchRecord(bytes, meta);
      p += size;
      n++;
      this.dispatchedOffset = base + p;
    }
    return n;
  }

  private dispatchRecord(bytes: Uint8Array, meta: RecordMeta): void {
    const topic = this.topicOf(bytes, meta);
    const tx = meta.sysFlag & SYSFLAG_TRANSACTION_MASK;
    const props = this.props;
    props.scan(bytes, meta.propertiesStart, meta.propertiesLength);
    let tagsCode = 0;
    const inQueue = tx !== SYSFLAG_TRANSACTION_PREPARED && tx !== SYSFLAG_TRANSACTION_ROLLBACK;
    if (inQueue) {
      if (topic.isSchedule) {
        tagsCode = meta.storeTimestamp + this.delayOf(bytes);
      } else if (props.tagsStart >= 0) {
        tagsCode = javaHashUtf8(bytes, props.tagsStart, props.tagsEnd);
      }
      const cq = this.queueOf(topic, meta.queueId);
      cq.put(meta.queueOffset, meta.physicalOffset, meta.totalSize, tagsCode);
    }
    if (
      this.options.messageIndexEnable &&
      tx !== SYSFLAG_TRANSACTION_ROLLBACK &&
      this.index.needsIndex(meta.physicalOffset)
    ) {
      this.indexKeys(bytes, meta, topic.indexPrefixHash);
    }
    this.lastStoreTimestamp = meta.storeTimestamp;
    this.dispatchedCount++;
    if (inQueue && this.listeners.length > 0) {
      const o = this.out;
      o.topic = topic.topic;
      o.queueId = meta.queueId;
      o.queueOffset = meta.queueOffset;
      o.physicalOffset = meta.physicalOffset;
      o.sizeBytes = meta.totalSize;
      o.tagsCode = tagsCode;
      o.storeTimestamp = meta.storeTimestamp;
      o.sysFlag = meta.sysFlag;
      o.bytes = bytes;
      o.propsStart = meta.propertiesStart;
      o.propsLength = meta.propertiesLength;
      for (let i = 0; i < this.listeners.length; i++) {
        try {
          this.listeners[i](o);
        } catch (err) {
          log.error('onDispatched listener threw', err);
        }
      }
    }
  }

  /**
   * The record's topic: from the slot it was appended with when the log still knows it and the
   * slot's entry has the record's topic bytes, else interned from the bytes (and then kept on
   * the slot).
   */
  private topicOf(bytes: Uint8Array, meta: RecordMeta): TopicEntry {
    const start = meta.topicStart;
    const len = meta.topicLength;
    const slot = this.source.slotAt(meta.physicalOffset);
    if (slot === undefined) return this.interner.get(bytes, start, len);
    const kept = slot.dispatchEntry as TopicEntry | null;
    if (kept !== null && equalBytes(kept.bytes, 0, kept.bytes.length, bytes, start, len)) {
      return kept;
    }
    const entry = this.interner.get(bytes, start, len);
    if (entry.topic === slot.topic) slot.dispatchEntry = entry;
    return entry;
  }

  /** The ConsumeQueue of a topic entry's queue, without a map lookup in the common case. */
  private queueOf(t: TopicEntry, queueId: number): ConsumeQueue {
    const store = this.cqStore;
    if (t.queues === null || t.queuesGen !== store.generation) {
      t.queues = store.queuesOf(t.topic);
      t.queuesGen = store.generation;
    }
    const q = t.queues[queueId];
    return q !== undefined ? q : store.getOrCreate(t.topic, queueId);
  }

  /** Delay of a SCHEDULE_TOPIC record from its DELAY level (clamped to the table). */
  private delayOf(bytes: Uint8Array): number {
    const props = this.props;
    if (props.delayStart < 0) return 0;
    let level = 0;
    for (let i = props.delayStart; i < props.delayEnd; i++) {
      const c = bytes[i];
      if (c < 0x30 || c > 0x39) break;
      level = level * 10 + (c - 0x30);
    }
    const table = this.delayLevelsMs;
    if (level <= 0 || table.length === 0) return 0;
    return table[Math.min(level, table.length) - 1];
  }

  /** Index entries for UNIQ_KEY and each space-separated KEYS entry. */
  private indexKeys(bytes: Uint8Array, meta: RecordMeta, prefixHash: number): void {
    const props = this.props;
    const phy = meta.physicalOffset;
    const ts = meta.storeTimestamp;
    if (props.uniqStart >= 0 && props.uniqEnd > props.uniqStart) {
      const h = javaHashContinueUtf8(prefixHash, bytes, props.uniqStart, props.uniqEnd);
      this.index.put(indexKeyHash(h), phy, ts);
    }
    if (props.keysStart >= 0) {
      let s = props.keysStart;
      const end = props.keysEnd;
      while (s < end) {
        while (s < end && bytes[s] === 0x20) s++;
        let e = s;
        while (e < end && bytes[e] !== 0x20) e++;
        if (e > s) {
          const h = javaHashContinueUtf8(prefixHash, bytes, s, e);
          this.index.put(indexKeyHash(h), phy, ts);
        }
        s = e;
      }
    }
  }
}
