/**
 * The local cache of one queue inside a push consumer: messages pulled but not yet consumed,
 * which are handed to handlers in offset order, and the offset that is safe to commit (the
 * smallest offset still cached, or one past the highest offset seen when nothing is cached).
 */
import type { MessageQueue } from './message-queue.js';
import type { ReceivedMessage } from './message.js';

/** Flow-control thresholds for one queue. */
export interface QueueLimits {
  /** Pull pauses while more than this many messages are cached. */
  maxCachedMessages: number;
  /** Pull pauses while the cached messages take more than this many bytes. */
  maxCachedBytes: number;
  /** Pull pauses while highest − lowest cached offset exceeds this (concurrent mode only). */
  maxOffsetSpan: number;
}

/**
 * Messages and bytes cached over all the queues of one consumer, kept up to date by each
 * queue's changes (flow control reads it on every pull; summing thousands of queues there cost
 * time in proportion to their number).
 */
export interface CacheTotals {
  messages: number;
  bytes: number;
}

/** Per-queue cache and consumption state of a push consumer. */
export class ProcessQueue {
  /** The queue. */
  readonly mq: MessageQueue;
  /** Set when the queue was taken away (rebalance, shutdown): stop pulling and consuming. */
  dropped = false;
  /** Next queue offset to pull. */
  nextPullOffset = 0;
  /** Time of the last pull answer (ms). */
  lastPullMs = Date.now();
  /** Time the last handler finished (ms). */
  lastConsumeMs = Date.now();
  /** Orderly mode: the broker lock is held. */
  locked = false;
  /** Orderly mode: when the lock was last granted (ms). */
  lastLockMs = 0;
  /** Orderly mode: consumption is suspended until this time (ms), after a failure. */
  suspendedUntilMs = 0;
  /** Handlers currently running for this queue. */
  inFlight = 0;
  /** Incremented when the queue's offset is reset, so in-flight pull answers are discarded. */
  epoch = 0;

  /** Cached messages by queue offset; insertion order is offset order. */
  private readonly cache = new Map<number, ReceivedMessage>();
  /** Messages not yet handed to a handler, in offset order, from `pendingHead`. */
  private pending: ReceivedMessage[] = [];
  private pendingHead = 0;
  private cachedBytes = 0;
  /** Highest queue offset ever put into the cache, −1 when none. */
  private highestOffset = -1;

  /** The consumer's totals this queue's cache counts in; null once detached. */
  private totals: CacheTotals | null;

  constructor(mq: MessageQueue, totals: CacheTotals | null = null) {
    this.mq = mq;
    this.totals = totals;
  }

  /** Takes this queue's cache out of the consumer's totals (the queue is no longer assigned). */
  detachTotals(): void {
    this.uncountCache();
    this.totals = null;
  }

  /** Takes the whole cache out of the consumer's totals (before it is emptied or detached). */
  private uncountCache(): void {
    if (this.totals === null) return;
    this.totals.messages -= this.cache.size;
    this.totals.bytes -= this.cachedBytes;
  }

  /** Number of cached (unconsumed) messages. */
  get cachedCount(): number {
    return this.cache.size;
  }

  /** Bytes of cached messages (store sizes). */
  get cachedSizeBytes(): number {
    return this.cachedBytes;
  }

  /** Messages waiting for a handler. */
  get pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }

  /** Highest cached offset minus lowest, 0 when empty. */
  get offsetSpan(): number {
    if (this.cache.size === 0) return 0;
    return this.highestOffset - this.lowestCachedOffset();
  }

  /**
   * Adds freshly pulled messages (ascending offsets). Messages at or below an offset already
   * seen are ignored (duplicates after an offset reset).
   * @returns how many were added.
   */
  put(messages: readonly ReceivedMessage[]): number {
    let added = 0;
    let addedBytes = 0;
    for (const msg of messages) {
      if (msg.queueOffset <= this.highestOffset) continue;
      this.cache.set(msg.queueOffset, msg);
      this.pending.push(msg);
      addedBytes += msg.storeSizeBytes;
      this.highestOffset = msg.queueOffset;
      added++;
    }
    this.cachedBytes += addedBytes;
    if (this.totals !== null) {
      this.totals.messages += added;
      this.totals.bytes += addedBytes;
    }
    return added;
  }

  /**
   * Records that the queue was read up to `nextOffset` (exclusive) with nothing returned —
   * e.g. everything was filtered out. Moves the commit point when nothing is cached.
   */
  advanceEmpty(nextOffset: number): void {
    if (nextOffset - 1 > this.highestOffset) this.highestOffset = nextOffset - 1;
  }

  /** Takes the next message to hand to a handler, in offset order. */
  takeNext(): ReceivedMessage | undefined {
    if (this.pendingHead >= this.pending.length) return undefined;
    const msg = this.pending[this.pendingHead]!;
    this.pending[this.pendingHead] = undefined as unknown as ReceivedMessage;
    this.pendingHead++;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    return msg;
  }

  /** Puts a taken message back at the front (orderly retry); it will be taken next. */
  putBackFront(msg: ReceivedMessage): void {
    if (this.pendingHead > 0) {
      this.pendingHead--;
      this.pending[this.pendingHead] = msg;
    } else {
      this.pending.unshift(msg);
    }
  }

  /**
   * Removes a consumed message from the cache.
   * @returns the offset now safe to commit: the lowest still-cached offset, or one past the
   *   highest offset seen when the cache is empty; −1 when nothing was ever cached.
   */
  complete(msg: ReceivedMessage): number {
    if (this.cache.get(msg.queueOffset) === msg) {
      this.cache.delete(msg.queueOffset);
      this.cachedBytes -= msg.storeSizeBytes;
      if (this.totals !== null) {
        this.totals.messages--;
        this.totals.bytes -= msg.storeSizeBytes;
      }
    }
    return this.commitOffset();
  }

  /** The offset safe to commit now (see {@link complete}). */
  commitOffset(): number {
    if (this.cache.size > 0) return this.lowestCachedOffset();
    return this.highestOffset < 0 ? -1 : this.highestOffset + 1;
  }

  /** True when the cache is over one of `limits` and pulling should pause. */
  overLimits(limits: QueueLimits, orderly: boolean): boolean {
    if (this.cache.size > limits.maxCachedMessages) return true;
    if (this.cachedBytes > limits.maxCachedBytes) return true;
    return !orderly && this.offsetSpan > limits.maxOffsetSpan;
  }

  /** Empties the cache (the queue was dropped, or its offset was reset). */
  clear(): void {
    this.uncountCache();
    this.cache.clear();
    this.pending = [];
    this.pendingHead = 0;
    this.cachedBytes = 0;
    this.highestOffset = -1;
  }

  private lowestCachedOffset(): number {
    for (const offset of this.cache.keys()) return offset;
    return -1;
  }
}
