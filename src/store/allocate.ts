/**
 * Pre-allocation of the next CommitLog segment (RocketMQ's AllocateMappedFileService): the file
 * is created at full size and opened before the active segment fills up, so a roll costs
 * nothing on the append path. On the mmap backend the file is sized with ftruncate and its
 * blocks are allocated with fallocate on the libuv thread pool (under write-back load fallocate
 * waits for the file system's journal: ~250 ms on the event loop was seen in a broker profile);
 * the roll onto it allocates synchronously only if that has not finished. With `warmSegments`
 * on the mmap backend the segment's mapping is then pre-faulted for writing on the libuv thread
 * pool (`prefaultAsync`: MADV_POPULATE_WRITE, in 32 MiB steps, 1 MiB with a warm lead), so the
 * JS thread's stores into it take no page fault.
 * A read-only pre-fault is not enough: the first store to each page of a shared file mapping
 * then still takes a write-protect fault, which cost ~0.25 µs per 1 KiB record here. The pages
 * become dirty zeros (as RocketMQ's warm-up makes them); appends overwrite them long before the
 * kernel's 30 s writeback would write them. (An earlier first step — a worker thread reading one
 * byte per page through its own mapping — cost ~4 CPU-seconds per GiB on the other core and is
 * not needed: the populate call brings the pages in itself, ~0.2 s per GiB.)
 * Warming goes on ahead of the appends (`warmWhileWriting`), and the active segment found at
 * startup is warmed from its write position too. With async flush it runs to the end of the
 * segment (unless `warmLeadBytes` is set). With sync flush it keeps only `warmLeadBytes` ahead
 * and is resumed from the append path: an msync of a mapping that is being pre-faulted was seen
 * to stall for ~100 ms when a whole segment was warmed at once, and pages warmed far ahead are
 * dirty zeros for the kernel to write back beside the msyncs. (Not warming the active segment at
 * all in sync mode cost the JS thread a page fault that zeroes each new page: sync publish went
 * from ~66k to ~86k msgs/s with the lead.) (No MADV_WILLNEED, for the same reason.) With a lead,
 * the next segment is only allocated ahead; its warm-up starts once the active segment is warm
 * to its end, i.e. when the appends are within a lead of the roll. Warmed at allocation, its
 * first lead of dirty zeros waited there while the active segment filled, and the kernel wrote
 * it back after 30 s in one burst beside the msyncs (a sync-flush broker at 10,000 topics held
 * 64 MB of them for the whole of a benchmark cell).
 */
import type { StoreBackend } from './types.js';
import { openSegmentFile, type SegmentFile, type SegmentOptions } from './io/segment-file.js';
import { nativeAvailable } from './io/native.js';

/** Warm-up durations a {@link SegmentAllocator} keeps. */
export const WARM_DURATIONS_KEPT = 64;

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

  constructor(
    private readonly backend: StoreBackend,
    private readonly sizeBytes: number,
    private readonly warm: boolean,
    /** Keep warming a segment once appends have begun. */
    private readonly warmWhileWriting = false,
    /** How far ahead of the appends warming may run (default: to the end of the segment). */
    private readonly warmLeadBytes = Number.POSITIVE_INFINITY,
    /** How segments are opened (page-granular write-back with sync flush, mapped file reads). */
    private readonly segmentOptions?: SegmentOptions,
  ) {}

  /**
   * Creates (or opens, if present) the segment file at `path`, then allocates its blocks and
   * warms it in the background (with a lead: once the segment before it is warm to its end).
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
    if (Number.isFinite(this.warmLeadBytes) && this.warmWhileWriting) {
      this.deferred = { seg, ready };
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
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  /** Warms `seg` in the background (mmap + warmSegments only). */
  warmUp(seg: SegmentFile): void {
    if (!this.warm || this.backend !== 'mmap' || !nativeAvailable) return;
    if (this.deferred?.seg === seg) this.deferred = null;
    if (this.warming.has(seg) || !seg.hold()) return;
    this.warming.add(seg);
    const p = (async () => {
      const started = performance.now();
      let warmToEnd = false;
      try {
        if (!seg.closed) warmToEnd = await seg.prefault(this.warmWhileWriting, this.warmLeadBytes);
        this.warmDurationsMs.push(performance.now() - started);
        if (this.warmDurationsMs.length > WARM_DURATIONS_KEPT) this.warmDurationsMs.shift();
      } catch (err) {
        this.lastError = String(err);
      } finally {
        this.warming.delete(seg);
        seg.release();
      }
      const next = this.deferred;
      if (warmToEnd && next !== null && next.seg !== seg) {
        this.deferred = null;
        if (await next.ready) this.warmUp(next.seg);
      }
    })();
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
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
