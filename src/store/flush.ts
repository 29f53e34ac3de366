/**
 * CommitLog flushing.
 *
 * - Group commit (sync flush): callers of {@link FlushService.waitDurable} are queued; a flush
 *   (msync of the dirty range, or fdatasync for the file backend), started on the next
 *   `setImmediate`, covers every record appended before it. Waiters whose end offset is then
 *   durable resolve together. A waiter that arrives while a flush is under way does not wait
 *   for it to finish before its own starts: up to {@link MAX_SYNC_FLUSHES_IN_FLIGHT} flushes
 *   overlap, each from the durable offset at its start to the end of the log, so a record
 *   waits for about one flush instead of up to two when the disk is slow (a flush covers every
 *   byte before its end, whichever of the overlapping flushes finishes first). Small group
 *   commits with no flush under way run on the event loop's thread instead of the pool (see
 *   {@link InlineFlushPolicy}).
 *   A waiter not served within `syncFlushTimeoutMs` is rejected with FLUSH_TIMEOUT.
 * - Background flush (async mode): every `flushIntervalMs` flush when at least
 *   `flushLeastPages` pages are dirty, and everything every `flushThoroughIntervalMs`. With
 *   `wholeBlockBytes` (the mmap backend), these flushes stop at the last whole block of that
 *   size before the end of the active segment (see {@link LARGE_FOLIO_BYTES}); the thorough
 *   flush, flushAll and group commits go to the end.
 */
import { SluiceError } from '../common/errors.js';
import {
  INLINE_FLUSH_LIMITS,
  InlineFlushPolicy,
  type InlineFlushLimits,
} from './inline-flush-policy.js';
import type { SegmentQueue } from './segment-queue.js';

/** OS page size used for the "dirty pages" threshold (as RocketMQ's OS_PAGE_SIZE). */
export const FLUSH_PAGE_BYTES = 4096;

/**
 * Group-commit flushes allowed to overlap. Two: a record appended during a flush gets its own
 * at once; records appended while two run join the next one.
 */
export const MAX_SYNC_FLUSHES_IN_FLIGHT = 2;

/**
 * The largest unit in which the page cache of a CommitLog segment is tracked dirty and written
 * back: Linux 6.16+ caches ext4 files in folios of up to 2 MiB, and the pre-fault of an
 * async-flush segment brings them in at that size (see `mmap-segment.ts`). An msync that ends
 * inside such a folio writes all of it and leaves it clean and write-protected, so the appends
 * that follow fault on each of its pages again (each fault preparing the whole folio's blocks)
 * and the next flush writes the folio once more. At low rates that doubled the disk writes
 * (~150 MB for ~83 MB of log at 2,400 1 KiB messages/s) and gave the event loop a fault every
 * few appends. Background flushes therefore stop at a multiple of this size; the folio the
 * appends are in waits until they leave it, or for the thorough flush.
 */
export const LARGE_FOLIO_BYTES = 2 * 1024 * 1024;

interface Waiter {
  endOffset: number;
  deadlineMs: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Flush settings (a subset of StoreConfig). */
export interface FlushOptions {
  flushMode: 'async' | 'sync';
  flushIntervalMs: number;
  flushLeastPages: number;
  flushThoroughIntervalMs: number;
  syncFlushTimeoutMs: number;
  /**
   * Background flushes (below the thorough interval, `flushLeastPages` > 0) end at a multiple
   * of this many bytes in the active segment; 0 or unset: at the end of the log.
   */
  wholeBlockBytes?: number;
}

/** Flushes the segments of a {@link SegmentQueue} and tracks the durable offset. */
export class FlushService {
  private flushed: number;
  /** Flushes under way (group commit and background alike). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Log end offset the flushes under way will have made durable. */
  private coveredOffset: number;
  private scheduled = false;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private lastThoroughMs = Date.now();
  private stopped = false;
  /** Number of flushes performed (diagnostics). */
  flushCount = 0;
  private readonly inlinePolicy: InlineFlushPolicy;

  /** `inlineLimits`: when a group commit runs on the event loop's thread (InlineFlushPolicy). */
  constructor(
    private readonly queue: SegmentQueue,
    private readonly options: FlushOptions,
    flushedOffset: number,
    inlineLimits: Readonly<InlineFlushLimits> = INLINE_FLUSH_LIMITS,
  ) {
    this.flushed = flushedOffset;
    this.coveredOffset = flushedOffset;
    this.inlinePolicy = new InlineFlushPolicy(inlineLimits);
  }

  /** Segment flushes done on the event loop's thread (diagnostics). */
  get inlineFlushCount(): number {
    return this.inlinePolicy.inlineCount;
  }

  /** Log offset below which every byte is durable. */
  get flushedOffset(): number {
    return this.flushed;
  }

  /** Sets the durable offset (after recovery). */
  reset(offset: number): void {
    this.flushed = offset;
    this.coveredOffset = offset;
  }

  /** Starts the background flusher (async mode only). */
  start(): void {
    if (this.options.flushMode !== 'async' || this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.inFlight.size > 0) return;
    const now = Date.now();
    let least = this.options.flushLeastPages;
    if (now - this.lastThoroughMs >= this.options.flushThoroughIntervalMs) {
      this.lastThoroughMs = now;
      least = 0;
    }
    void this.flush(least, least > 0).catch(() => {
      // Errors surface to sync waiters; the background flusher retries next tick.
    });
  }

  /**
   * Resolves once bytes up to `endOffset` are durable; rejects with FLUSH_TIMEOUT after
   * `syncFlushTimeoutMs`. Concurrent callers share flushes (group commit).
   */
  waitDurable(endOffset: number): Promise<void> {
    if (endOffset <= this.flushed) return Promise.resolve();
    if (this.stopped) {
      return Promise.reject(new SluiceError('STORE_CLOSED', 'the CommitLog is closed'));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({
        endOffset,
        deadlineMs: Date.now() + this.options.syncFlushTimeoutMs,
        resolve,
        reject,
      });
      this.armSweep();
      this.schedule();
    });
  }

  /**
   * Starts a group-commit flush on the next turn when a waiter's bytes are not covered by the
   * flushes under way and fewer than {@link MAX_SYNC_FLUSHES_IN_FLIGHT} run; otherwise the
   * completion of one of them calls this again.
   */
  private schedule(): void {
    if (this.scheduled || this.stopped || this.waiters.length === 0) return;
    if (this.inFlight.size >= MAX_SYNC_FLUSHES_IN_FLIGHT) return;
    if (this.waiters[this.waiters.length - 1].endOffset <= this.coveredOffset) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight.size >= MAX_SYNC_FLUSHES_IN_FLIGHT) return;
      void this.startFlush(0, true).catch(() => undefined);
    });
  }

  /**
   * Flushes dirty segments: the active one only when ≥ `leastPages` pages are dirty (0 = any),
   * full ones always. Waits for the flushes under way first, so that when it resolves every byte
   * appended before the call is durable (with `leastPages` 0 and not `wholeBlocks`). With
   * `wholeBlocks`, the active segment is flushed up to a multiple of `wholeBlockBytes` only.
   */
  async flush(leastPages: number, wholeBlocks = false): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight);
    await this.startFlush(leastPages, false, wholeBlocks);
  }

  /**
   * Runs one flush from the durable offset to the end of the log, overlapping any under way; a
   * `groupCommit` may run on this thread (see {@link InlineFlushPolicy}).
   */
  private startFlush(leastPages: number, groupCommit = false, wholeBlocks = false): Promise<void> {
    const last = this.queue.last;
    const end = last === undefined ? this.flushed : last.startOffset + last.wrotePosition;
    const inline =
      groupCommit &&
      this.inFlight.size === 0 &&
      this.inlinePolicy.allows(end - this.flushed, performance.now());
    if (end > this.coveredOffset) this.coveredOffset = end;
    const block = wholeBlocks ? (this.options.wholeBlockBytes ?? 0) : 0;
    const p = this.doFlush(leastPages, groupCommit, inline, block);
    this.inFlight.add(p);
    const done = (): void => {
      this.inFlight.delete(p);
      if (this.inFlight.size === 0 && this.coveredOffset > this.flushed) {
        // A background flush below the page threshold left bytes undone.
        this.coveredOffset = this.flushed;
      }
    };
    return p.then(
      () => {
        done();
        this.settle(null);
        this.schedule();
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  }

  private async doFlush(
    leastPages: number,
    groupCommit: boolean,
    inline: boolean,
    blockBytes: number,
  ): Promise<void> {
    const segs = this.queue.segments;
    let i = Math.max(0, this.queue.indexOf(this.flushed));
    if (this.queue.indexOf(this.flushed) < 0 && segs.length > 0) {
      // flushed offset is at the very end of the last segment or before the first one.
      i = this.flushed >= (segs[segs.length - 1]?.startOffset ?? 0) ? segs.length - 1 : 0;
    }
    try {
      for (; i < segs.length; i++) {
        const seg = segs[i];
        if (seg.closed) continue;
        const active = i === segs.length - 1;
        const to =
          active && blockBytes > 0
            ? seg.wrotePosition - (seg.wrotePosition % blockBytes)
            : seg.wrotePosition;
        const dirtyPages =
          Math.floor(to / FLUSH_PAGE_BYTES) - Math.floor(seg.flushedPosition / FLUSH_PAGE_BYTES);
        const due =
          to > seg.flushedPosition && (!active || leastPages <= 0 || dirtyPages >= leastPages);
        if (due) {
          this.flushCount++;
          const bytes = to - seg.flushedPosition;
          const startMs = performance.now();
          if (inline) {
            const flushed = seg.flush(true, to);
            this.inlinePolicy.record(bytes, performance.now() - startMs, true);
            await flushed;
          } else {
            await seg.flush(false, to);
            if (groupCommit) this.inlinePolicy.record(bytes, performance.now() - startMs, false);
          }
        }
        // Everything before this segment is durable, so its flushed part is too, even when
        // appends arrived during the flush (they wait for the next one).
        const end = seg.startOffset + seg.flushedPosition;
        if (end > this.flushed) this.flushed = end;
        if (seg.flushedPosition < seg.wrotePosition) break;
      }
    } catch (err) {
      this.settle(err);
      throw err;
    }
  }

  /** Resolves the waiters that are durable now; with `err`, rejects all of them. */
  private settle(err: unknown): void {
    if (this.waiters.length === 0) return;
    let n = 0;
    for (const w of this.waiters) {
      if (err !== null) {
        w.reject(
          new SluiceError('FLUSH_TIMEOUT', `flush failed: ${String(err)}; check the disk`, {
            cause: err,
          }),
        );
        n++;
      } else if (w.endOffset <= this.flushed) {
        w.resolve();
        n++;
      } else break;
    }
    this.waiters.splice(0, n);
    if (this.waiters.length === 0) this.disarmSweep();
  }

  private armSweep(): void {
    if (this.sweepTimer !== null) return;
    const every = Math.max(1, Math.min(100, Math.floor(this.options.syncFlushTimeoutMs / 4)));
    // Kept ref'd: a pending waiter always settles (durable or FLUSH_TIMEOUT).
    this.sweepTimer = setInterval(() => this.sweep(), every);
  }

  private disarmSweep(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  private sweep(): void {
    const now = Date.now();
    let n = 0;
    while (n < this.waiters.length && this.waiters[n].deadlineMs <= now) {
      this.waiters[n].reject(
        new SluiceError(
          'FLUSH_TIMEOUT',
          `data was not flushed within syncFlushTimeoutMs=${this.options.syncFlushTimeoutMs}: ` +
            'the disk is too slow or stalled',
        ),
      );
      n++;
    }
    if (n > 0) this.waiters.splice(0, n);
    if (this.waiters.length === 0) this.disarmSweep();
  }

  /** Flushes everything written so far. */
  async flushAll(): Promise<void> {
    await this.flush(0);
  }

  /** Stops timers; pending waiters are rejected with STORE_CLOSED. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.disarmSweep();
    for (const w of this.waiters.splice(0)) {
      w.reject(new SluiceError('STORE_CLOSED', 'the CommitLog closed before the data was flushed'));
    }
  }
}
