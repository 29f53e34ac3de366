/**
 * Pre-allocation of the next CommitLog segment (RocketMQ's AllocateMappedFileService): the file
 * is created at full size and opened before the active segment fills up, so a roll costs
 * nothing on the append path. On the mmap backend the file is sized with ftruncate and its
 * blocks are allocated with fallocate on the libuv thread pool (under write-back load fallocate
 * waits for the file system's journal: ~250 ms on the event loop was seen in a broker profile);
 * the roll onto it allocates synchronously only if that has not finished.
 *
 * With `warmSegments` on the mmap backend, segments are then warmed in two ways, both on the
 * thread pool, so that the JS thread's copies into the mapping fault as little as possible:
 * - **cached**: the whole segment is pre-faulted read-only (`precache`: MADV_POPULATE_READ),
 *   which brings its pages into the page cache (zero-filled; ~80 ms per GiB here, ~4 s when the
 *   VM's memory is fresh) but leaves them clean;
 * - **warm**: a lead ahead of the appends is stored into from user space (`prefault`, with
 *   `touchAsync`), which makes the pages writable and dirty, resumed from the append path.
 * Measured, 1 KiB copies into a fresh 1 GiB mapping: ~1.3-3.4 µs each without any warming (a
 * page fault per page, with the page's allocation), ~620 ns into cached pages (a write-protect
 * fault per page), ~125 ns into warm ones.
 * The lead is kept short because every page warmed and not yet written is a dirty page of
 * zeros: the kernel writes a dirty file back ~30 s after it was first dirtied, with whatever it
 * then holds, and each page written back takes a write-protect fault when the appends reach it.
 * Warming whole segments ahead (as before, and as RocketMQ's warm-up) made an idle broker write
 * 1.07 GB of zeros to the disk in its first minute, and a store appending ~2.4 MB/s had written
 * 2.2 GB 40 s after it opened; with the short lead the zeros written are at most one lead per
 * write-back pass. By default the lead follows the append
 * rate (`AdaptiveWarmLead`: what the appends reach within {@link WARM_LEAD_HORIZON_MS}, between
 * {@link WARM_LEAD_MIN_BYTES} and {@link WARM_LEAD_MAX_BYTES}); `warmLeadBytes` fixes it
 * (+Infinity: whole segments, warmed at allocation, as before).
 * With sync flush the segments' write-back is page-granular (MADV_RANDOM, see
 * `MmapSegmentOptions`) and they are not cached ahead: a read-only pre-fault would fault each
 * 4 KiB page singly, and an msync of a mapping being pre-faulted was seen to stall ~100 ms.
 * (Not warming the active segment at all in sync mode cost the JS thread a page fault that
 * zeroes each new page: sync publish went from ~66k to ~86k msgs/s with a lead.)
 * With a bounded lead the next segment is cached at allocation; its warm lead is laid once the
 * active segment is warm to its end, i.e. when the appends are within a lead of the roll.
 * Warmed at allocation, its first lead of dirty zeros waited there while the active segment
 * filled, and the kernel wrote it back after 30 s in one burst beside the msyncs.
 */
import type { StoreBackend } from './types.js';
import { openSegmentFile, type SegmentFile, type SegmentOptions } from './io/segment-file.js';
import { nativeAvailable } from './io/native.js';

/** Warm-up durations a {@link SegmentAllocator} keeps. */
export const WARM_DURATIONS_KEPT = 64;
/** Adaptive warm lead while the append rate is unknown or low. */
export const WARM_LEAD_MIN_BYTES = 2 * 1024 * 1024;
/** Largest adaptive warm lead. */
export const WARM_LEAD_MAX_BYTES = 64 * 1024 * 1024;
/** The adaptive warm lead is what the appends reach within this time at their latest rate. */
export const WARM_LEAD_HORIZON_MS = 1000;

/**
 * A warm lead sized to the append rate, measured between the calls of {@link next} (each is
 * made when the appends have used half of the last lead, so the rate is over that half).
 */
export class AdaptiveWarmLead {
  private lastOffset = -1;
  private lastAtMs = 0;
  private leadBytes = WARM_LEAD_MIN_BYTES;

  /** The lead last computed. */
  get current(): number {
    return this.leadBytes;
  }

  /** The lead for a warm-up that starts with the log's end at `logOffset`. */
  next(logOffset: number, nowMs: number = performance.now()): number {
    if (logOffset > this.lastOffset) {
      if (this.lastOffset >= 0 && nowMs > this.lastAtMs) {
        const reach =
          ((logOffset - this.lastOffset) * WARM_LEAD_HORIZON_MS) / (nowMs - this.lastAtMs);
        this.leadBytes = Math.min(WARM_LEAD_MAX_BYTES, Math.max(WARM_LEAD_MIN_BYTES, reach));
      }
      this.lastOffset = logOffset;
      this.lastAtMs = nowMs;
    }
    return this.leadBytes;
  }
}

/** Creates next segments ahead of time and warms them off the JS thread. */
export class SegmentAllocator {
  private readonly running = new Set<Promise<unknown>>();
  /** Segments with a warm-up under way (one at a time each). */
  private readonly warming = new Set<SegmentFile>();
  /**
   * Durations of the last {@link WARM_DURATIONS_KEPT} completed warm-ups (ms), newest last. (With
   * sync flush a segment is warmed in many short steps ahead of the appends.)
   */
  readonly warmDurationsMs: number[] = [];
  /** Last warm-up error, if any (warming is best effort). */
  lastError: string | null = null;
  /**
   * With a finite lead: the allocated next segment, warmed once the segment before it is warm
   * to its end (`ready` settles true once its blocks are allocated).
   */
  private deferred: { seg: SegmentFile; ready: Promise<boolean> } | null = null;
  /** Warming keeps a finite lead (and the next segment's waits for the active one's). */
  private readonly leadBounded: boolean;
  private readonly adaptiveLead = new AdaptiveWarmLead();

  constructor(
    private readonly backend: StoreBackend,
    private readonly sizeBytes: number,
    private readonly warm: boolean,
    /** Keep warming a segment once appends have begun. */
    private readonly warmWhileWriting = false,
    /**
     * How far ahead of the appends warming may run (+Infinity: to the end of the segment;
     * undefined: an {@link AdaptiveWarmLead}).
     */
    private readonly warmLeadBytes?: number,
    /** How segments are opened (page-granular write-back with sync flush, mapped file reads). */
    private readonly segmentOptions?: SegmentOptions,
  ) {
    this.leadBounded = warmLeadBytes === undefined || Number.isFinite(warmLeadBytes);
  }

  /** Segments are warmed at all (mmap backend with the addon, `warmSegments` on). */
  private get warms(): boolean {
    return this.warm && this.backend === 'mmap' && nativeAvailable;
  }

  /**
   * Creates (or opens, if present) the segment file at `path`, then allocates its blocks and
   * caches and warms it in the background (with a lead: caches it, and warms it once the segment
   * before it is warm to its end).
   */
  allocate(path: string, startOffset: number): SegmentFile {
    const reserveLater = this.backend === 'mmap' && nativeAvailable;
    const seg = openSegmentFile(
      this.backend,
      path,
      startOffset,
      this.sizeBytes,
      true,
      reserveLater,
      this.segmentOptions,
    );
    const ready = reserveLater ? this.reserve(seg) : Promise.resolve(true);
    if (this.leadBounded && this.warmWhileWriting) {
      this.deferred = { seg, ready };
      void ready.then((ok) => {
        if (ok) this.precache(seg);
      });
    } else {
      void ready.then((ok) => {
        if (ok) this.warmUp(seg);
      });
    }
    return seg;
  }

  /** Allocates the blocks of `seg` on the thread pool; settles true when they are. */
  private reserve(seg: SegmentFile): Promise<boolean> {
    const p = seg.reserve().then(
      () => true,
      (err: unknown) => {
        // The roll onto this segment allocates synchronously and reports a full disk there.
        this.lastError = String(err);
        return false;
      },
    );
    return this.track(p);
  }

  /** Counts `p` as running (see {@link idle}) until it settles; returns it. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  /** Brings the rest of `seg` into the page cache in the background (mmap + warmSegments only). */
  private precache(seg: SegmentFile): void {
    if (!this.warms || seg.closed) return;
    void this.track(
      seg.precache().catch((err: unknown) => {
        this.lastError = String(err);
      }),
    );
  }

  /**
   * Warms `seg` in the background from its write position (mmap + warmSegments only), as far as
   * the lead, then caches the rest of it.
   */
  warmUp(seg: SegmentFile): void {
    if (!this.warms) return;
    if (this.deferred?.seg === seg) this.deferred = null;
    if (this.warming.has(seg) || !seg.hold()) return;
    this.warming.add(seg);
    // The rate is sampled where appends go on (not at a roll or a segment's first warm-up).
    const lead =
      this.warmLeadBytes ??
      (seg.wrotePosition > 0
        ? this.adaptiveLead.next(seg.startOffset + seg.wrotePosition)
        : this.adaptiveLead.current);
    const warming = async (): Promise<void> => {
      const started = performance.now();
      let warmToEnd = false;
      try {
        if (!seg.closed) warmToEnd = await seg.prefault(this.warmWhileWriting, lead);
        this.warmDurationsMs.push(performance.now() - started);
        if (this.warmDurationsMs.length > WARM_DURATIONS_KEPT) this.warmDurationsMs.shift();
      } catch (err) {
        this.lastError = String(err);
      } finally {
        this.warming.delete(seg);
        seg.release();
      }
      if (!warmToEnd && this.leadBounded) this.precache(seg);
      const next = this.deferred;
      if (warmToEnd && next !== null && next.seg !== seg) {
        this.deferred = null;
        if (await next.ready) this.warmUp(next.seg);
      }
    };
    void this.track(warming());
  }

  /** Resolves once every running warm-up has finished. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Waits for running warm-ups to finish. */
  async close(): Promise<void> {
    await this.idle();
  }
}
