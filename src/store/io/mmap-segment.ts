/**
 * The `mmap` segment backend: the whole pre-allocated file is mapped shared read/write.
 * Appends encode straight into the mapping; reads are `Uint8Array` views of it; flush is an
 * msync of the dirty range on the libuv thread pool (or, for small group commits, on the
 * event loop's thread).
 */
import { closeSync, unlinkSync } from 'node:fs';
import { invariant } from '../../common/errors.js';
import * as native from './native.js';
import { RefCount } from './ref-count.js';
import { openSegmentFd } from './segment-fd.js';
import type { SegmentFile, WriteWindow } from './segment-file.js';

/**
 * Warm-up granularity with a warm lead: a quarter of the lead (one thread-pool job each), at
 * least 1 MiB. Each step is issued from the JS thread when the one before completes, at most
 * one per event-loop turn, and a loaded broker appends ~10 MiB per turn; steps of a quarter of
 * the lead keep a 64 MiB lead ahead of that.
 */
const WARM_STEP_MIN_BYTES = 1024 * 1024;
/**
 * Warm-up granularity without a lead (warm to the end of the segment), and of the read-only
 * pre-fault. In 1 MiB steps a loaded loop (8,192 puts per turn, ~10 MiB of log) warmed the next
 * segment only ~115 MiB ahead by the roll, and the appends then faulted every page in
 * themselves (the store's put loop fell from ~1M to ~250k puts/s after 2 GiB).
 */
const WARM_STEP_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Page-granular write-back (sync flush). Linux 6.16+ caches ext4 files in large folios: the
 * kernel aligns a 1 GiB mapping for 2 MiB folios, and the read-around of the pre-fault's page
 * faults brings them in once it has ramped up. Dirtiness is tracked per folio, so an msync
 * writes whole folios, and the next appends dirty the folio around its end again: a group
 * commit of ~0.7 MB wrote 2-4 MB, and a sync-flush broker wrote 4.3-4.6 KB to the disk per
 * 1 KiB message (one topic or 10,000). MADV_RANDOM on the part of the mapping not yet written
 * turns read-around off there, so the pre-fault and the appends bring in 4 KiB pages and an
 * msync writes what changed (1.2 KB per message). Once the segment is full the advice is taken
 * back (read-ahead helps whoever reads it later). Folios cached before the advice (the active
 * segment of a restarted broker) stay as they are. Not used with async flush: its flushes
 * cover hundreds of MB at a time, where large folios cost next to nothing in extra writes and
 * save page faults (broker CPU per message was ~1.3 µs higher with 4 KiB pages at ~130k msgs/s).
 */
export interface MmapSegmentOptions {
  pageGranularWriteback: boolean;
}

/** A memory-mapped CommitLog segment. */
export class MmapSegment implements SegmentFile {
  readonly backend = 'mmap' as const;
  private ab: ArrayBuffer;
  private readonly bytes: Buffer;
  private readonly view: DataView;
  private readonly window: WriteWindow;
  private readonly refs: RefCount;
  private wrote = 0;
  private flushed = 0;
  private deleteOnRelease = false;
  /** The descriptor, kept open only until the blocks of a `reserveLater` file are allocated. */
  private unreservedFd = -1;
  private reserving: Promise<void> | null = null;
  private reserved = false;
  /** Bytes from the start known to be warm (stored into: writable and dirty). */
  private warmedTo = 0;
  private resumeWarmAt = Number.POSITIVE_INFINITY;
  /** Bytes from the start known to be in the page cache (read-only pre-fault). */
  private cachedTo = 0;
  private caching: Promise<void> | null = null;
  private readonly pageGranular: boolean;
  /** Start of the range advised MADV_RANDOM; -1 until advised, +Infinity when not or no more. */
  private pageGranularFrom: number;

  private constructor(
    readonly path: string,
    readonly startOffset: number,
    readonly sizeBytes: number,
    fd: number,
    keepFd: boolean,
    pageGranular: boolean,
  ) {
    this.pageGranular = pageGranular;
    this.pageGranularFrom = pageGranular ? -1 : Number.POSITIVE_INFINITY;
    try {
      this.ab = native.map(fd, sizeBytes, 0);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (keepFd) this.unreservedFd = fd;
    else closeSync(fd);
    this.bytes = Buffer.from(this.ab);
    this.view = new DataView(this.ab);
    this.window = { bytes: this.bytes, view: this.view, pos: 0 };
    this.refs = new RefCount(`segment ${path}`, () => {
      native.unmap(this.ab);
      this.closeUnreservedFd();
      if (this.deleteOnRelease) this.unlink();
    });
  }

  /**
   * Creates (fallocate) or opens a segment file of exactly `sizeBytes` and maps it. With
   * `reserveLater`, a new file is only sized and {@link reserve} allocates its blocks.
   */
  static open(
    path: string,
    startOffset: number,
    sizeBytes: number,
    create: boolean,
    reserveLater = false,
    options: MmapSegmentOptions = { pageGranularWriteback: false },
  ): MmapSegment {
    // With reserveLater the descriptor stays open for reserve(), also for a file that exists
    // already (it may be one a stopped process sized but never allocated; fallocate of an
    // allocated range costs nothing).
    const fd = openSegmentFd(path, sizeBytes, create, reserveLater);
    return new MmapSegment(
      path,
      startOffset,
      sizeBytes,
      fd,
      reserveLater,
      options.pageGranularWriteback,
    );
  }

  reserve(): Promise<void> {
    if (this.unreservedFd < 0 || this.reserved) return Promise.resolve();
    if (this.reserving === null) {
      const fd = this.unreservedFd;
      this.reserving = native.fallocateAsync(fd, 0, this.sizeBytes).then(
        () => {
          this.reserved = true;
          this.reserving = null;
          this.closeUnreservedFd();
        },
        (err: unknown) => {
          this.reserving = null; // ensureReserved() tries again, synchronously
          this.closeUnreservedFd();
          throw err;
        },
      );
    }
    return this.reserving;
  }

  ensureReserved(): void {
    if (this.unreservedFd < 0 || this.reserved) return;
    native.fallocate(this.unreservedFd, 0, this.sizeBytes);
    this.reserved = true;
    this.closeUnreservedFd();
  }

  /** Closes the kept descriptor once it is no longer needed and no thread-pool job uses it. */
  private closeUnreservedFd(): void {
    if (this.unreservedFd < 0 || this.reserving !== null) return;
    if (!this.reserved && !this.refs.isReleased) return;
    const fd = this.unreservedFd;
    this.unreservedFd = -1;
    closeSync(fd);
  }

  get wrotePosition(): number {
    return this.wrote;
  }

  get flushedPosition(): number {
    return this.flushed;
  }

  get closed(): boolean {
    return this.refs.isReleased;
  }

  writeWindow(len: number): WriteWindow {
    this.refs.check();
    invariant(this.wrote + len <= this.sizeBytes, 'write beyond the end of a segment');
    if (this.pageGranularFrom < 0) this.advisePageGranular();
    this.window.pos = this.wrote;
    return this.window;
  }

  commitWrite(writtenBytes: number, advanceBytes: number): void {
    invariant(advanceBytes >= writtenBytes, 'advance smaller than written');
    this.wrote += advanceBytes;
    if (this.wrote >= this.sizeBytes) this.endPageGranular();
  }

  /**
   * Advises the part of the mapping from the write position on MADV_RANDOM (see
   * {@link MmapSegmentOptions}); once, before the first pre-fault or write, whichever is first.
   * Advice only: should madvise fail, the segment is written as it is, never refused.
   */
  private advisePageGranular(): void {
    const from = this.wrote - (this.wrote % native.PAGE_SIZE);
    this.pageGranularFrom = Number.POSITIVE_INFINITY;
    if (from >= this.sizeBytes) return;
    try {
      native.madvise(this.ab, from, this.sizeBytes - from, 'random');
      this.pageGranularFrom = from;
    } catch {
      // Left with read-around: whole-folio write-back, as without the option.
    }
  }

  /** The segment is full: read-ahead back on for whoever reads it later. */
  private endPageGranular(): void {
    const from = this.pageGranularFrom;
    if (from < 0 || from >= this.sizeBytes) return;
    this.pageGranularFrom = Number.POSITIVE_INFINITY;
    if (this.refs.isReleased) return;
    try {
      native.madvise(this.ab, from, this.sizeBytes - from, 'normal');
    } catch {
      // Read-ahead stays off for this segment: slower cold reads of it, nothing else.
    }
  }

  read(pos: number, len: number): Uint8Array {
    this.refs.check();
    invariant(pos >= 0 && pos + len <= this.sizeBytes, 'read beyond the end of a segment');
    return new Uint8Array(this.ab, pos, len);
  }

  copyOut(pos: number, len: number, dest: Uint8Array, destAt: number): void {
    this.refs.check();
    invariant(pos >= 0 && pos + len <= this.sizeBytes, 'copy beyond the end of a segment');
    dest.set(new Uint8Array(this.ab, pos, len), destAt);
  }

  writeOut(): void {
    // Stores into the mapping are in the page cache already.
  }

  zero(pos: number, len: number): void {
    this.refs.check();
    this.bytes.fill(0, pos, pos + len);
  }

  resetPosition(pos: number): void {
    this.wrote = pos;
    this.flushed = pos;
  }

  async flush(onThisThread = false, upTo = Number.POSITIVE_INFINITY): Promise<number> {
    this.refs.check();
    const from = this.flushed;
    const to = Math.min(this.wrote, upTo);
    if (to <= from) return this.flushed;
    if (!this.refs.hold()) return this.flushed;
    try {
      if (onThisThread) native.msync(this.ab, from, to - from, true);
      else await native.msyncAsync(this.ab, from, to - from);
    } finally {
      this.refs.release();
    }
    if (to > this.flushed) this.flushed = to;
    return this.flushed;
  }

  /** Bytes from the start known to be warm (writable, dirty). */
  get warmedBytes(): number {
    return this.warmedTo;
  }

  get warmResumePosition(): number {
    return this.resumeWarmAt;
  }

  async prefault(whileWriting = false, leadBytes = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (!this.refs.hold()) return false;
    this.resumeWarmAt = Number.POSITIVE_INFINITY;
    try {
      if (this.pageGranularFrom < 0) this.advisePageGranular();
      // In steps, each a user-space store into every page on a pool thread (touchAsync): the
      // page is then writable for this process and the appends' copies into it fault no more.
      // (MADV_POPULATE_WRITE, used before, left the first user-space store to each page a fault
      // on this kind of VM: 1 KiB copies cost ~310 ns after it, ~125 ns after a touch, and it
      // took ~1.5 s per GiB on the pool against ~0.4 s.) Unless `whileWriting`, warming stops
      // once appends (and flushes) begin. With `leadBytes` it stays at most that far ahead of
      // the write position and asks to be resumed (see warmResumePosition) once the appends
      // have used half of the lead.
      const bounded = Number.isFinite(leadBytes);
      const step = bounded
        ? Math.min(WARM_STEP_MAX_BYTES, Math.max(WARM_STEP_MIN_BYTES, alignDown(leadBytes / 4)))
        : WARM_STEP_MAX_BYTES;
      const fromWrite = whileWriting ? alignDown(this.wrote) : 0;
      let off = Math.max(fromWrite, this.warmedTo);
      for (
        ;
        off < this.sizeBytes && !this.refs.isClosing && (whileWriting || this.wrote === 0);
        off += step
      ) {
        if (off >= this.wrote + leadBytes) {
          this.resumeWarmAt = off - Math.floor(leadBytes / 2);
          break;
        }
        if (whileWriting && off + step <= this.wrote) {
          // The appends overtook the warm-up (one step per event-loop turn, and a loaded loop
          // appends more than that per turn): warming what is written is no use. With a lead,
          // stop and be resumed at once (the caller sizes the next lead to the new rate);
          // without, go on from the write position.
          if (bounded) {
            this.resumeWarmAt = this.wrote;
            break;
          }
          off = alignDown(this.wrote);
        }
        const len = Math.min(step, this.sizeBytes - off);
        await native.touchAsync(this.ab, off, len);
        this.warmedTo = Math.max(this.warmedTo, off + len);
      }
    } finally {
      this.refs.release();
    }
    return this.warmedTo >= this.sizeBytes;
  }

  precache(): Promise<void> {
    if (this.pageGranular) return Promise.resolve();
    if (this.caching === null) {
      this.caching = this.precacheSteps().finally(() => {
        this.caching = null;
      });
    }
    return this.caching;
  }

  private async precacheSteps(): Promise<void> {
    if (!this.refs.hold()) return;
    try {
      let off = Math.max(this.cachedTo, alignDown(this.wrote));
      for (; off < this.sizeBytes && !this.refs.isClosing; off += WARM_STEP_MAX_BYTES) {
        const len = Math.min(WARM_STEP_MAX_BYTES, this.sizeBytes - off);
        await native.prefaultReadAsync(this.ab, off, len);
        this.cachedTo = off + len;
      }
    } finally {
      this.refs.release();
    }
  }

  hold(): boolean {
    return this.refs.hold();
  }

  release(): void {
    this.refs.release();
  }

  close(): void {
    this.refs.close();
  }

  destroy(): void {
    this.deleteOnRelease = true;
    if (this.refs.isReleased) this.unlink();
    else this.refs.close();
  }

  private unlink(): void {
    try {
      unlinkSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** `bytes` rounded down to a whole MiB (warm-up steps start at MiB boundaries). */
function alignDown(bytes: number): number {
  return bytes - (bytes % WARM_STEP_MIN_BYTES);
}
