/**
 * The chain of CommitLog segment files (RocketMQ's MappedFileQueue): files under
 * `<storePath>/commitlog/` named by their 20-digit zero-padded start offset, each exactly
 * `segmentSizeBytes` long. The last segment of the list is the active one; the next one is
 * pre-allocated (and warmed) ahead of time by the {@link SegmentAllocator} and kept apart
 * (`next`) until the log rolls into it.
 *
 * So on disk there is almost always one more file than the log uses: an all-zero trailing
 * segment after the last *written* one. It is unused, whatever its name suggests:
 * - at open it is loaded like the others; recovery ends the log in the segment before it and
 *   deletes it after a crash (it might hold stale bytes if the crash hit a recovery) or keeps
 *   it as the pre-allocated next segment after a clean shutdown;
 * - retention only deletes from the head and never the active segment, so it never counts;
 * - `SegmentInfo.active` (store stats) marks the segment taking appends, and offline tools (the store
 *   checker) take the last segment with any written byte as the end of the log.
 */
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError, invariant } from '../common/errors.js';
import { SegmentAllocator } from './allocate.js';
import {
  openSegmentFile,
  segmentAllocationError,
  segmentFileName,
  type SegmentFile,
  type SegmentOptions,
} from './io/segment-file.js';
import type { StoreBackend } from './types.js';

const NAME_RE = /^\d{20}$/;

/** Options of a {@link SegmentQueue}. */
export interface SegmentQueueOptions {
  dir: string;
  backend: StoreBackend;
  segmentSizeBytes: number;
  /** Pre-fault the next segment for writing off the JS thread (mmap only). */
  warmSegments: boolean;
  /**
   * Keep warming a segment while it is being written, and warm the active segment found at
   * startup.
   */
  warmWhileWriting?: boolean;
  /**
   * How far ahead of the appends warming may run: +Infinity for the whole segment; unset, a
   * lead that follows the append rate (see `allocate.ts`: pages warmed far ahead are dirty
   * zeros the kernel writes back).
   */
  warmLeadBytes?: number;
  /**
   * Map mmap segments for page-granular write-back while they are written (sync flush): see
   * `MmapSegmentOptions`.
   */
  pageGranularWriteback?: boolean;
  /** File backend: serve reads from a mapping of each segment (needs the native addon). */
  mapReads?: boolean;
}

/** Ordered, contiguous list of segment files. */
export class SegmentQueue {
  private readonly list: SegmentFile[] = [];
  /** The pre-allocated segment after the last one, not yet in use. */
  private next: SegmentFile | null = null;
  readonly allocator: SegmentAllocator;
  private readonly segmentOptions: SegmentOptions;

  private constructor(readonly options: SegmentQueueOptions) {
    this.segmentOptions = {
      pageGranularWriteback: options.pageGranularWriteback ?? false,
      mapReads: options.mapReads ?? false,
    };
    this.allocator = new SegmentAllocator(
      options.backend,
      options.segmentSizeBytes,
      options.warmSegments,
      options.warmWhileWriting ?? false,
      options.warmLeadBytes,
      this.segmentOptions,
    );
  }

  /**
   * Opens the folder (created if missing) and loads the existing segments in offset order. A
   * zero-length last file (a crash during creation) is removed; a file of another size or a gap
   * in the offsets is a STORE_CORRUPT error.
   */
  static open(options: SegmentQueueOptions): SegmentQueue {
    const q = new SegmentQueue(options);
    mkdirSync(options.dir, { recursive: true });
    const size = options.segmentSizeBytes;
    const names = readdirSync(options.dir)
      .filter((n) => NAME_RE.test(n))
      .sort();
    try {
      for (let i = 0; i < names.length; i++) {
        const path = join(options.dir, names[i]);
        const fileSize = statSync(path).size;
        if (fileSize === 0 && i === names.length - 1) {
          unlinkSync(path);
          break;
        }
        const start = Number(names[i]);
        if (!Number.isSafeInteger(start) || start % size !== 0) {
          throw new SluiceError(
            'STORE_CORRUPT',
            `segment name ${names[i]} is not a multiple of the segment size ${size}: check ` +
              'commitLogSegmentSizeBytes against the files in ' +
              options.dir,
          );
        }
        const prev = q.list[q.list.length - 1];
        if (prev !== undefined && prev.startOffset + size !== start) {
          throw new SluiceError(
            'STORE_CORRUPT',
            `gap in the CommitLog between ${segmentFileName(prev.startOffset)} and ${names[i]}: ` +
              'a segment file is missing; restore it from backup',
          );
        }
        q.list.push(
          openSegmentFile(options.backend, path, start, size, false, false, q.segmentOptions),
        );
      }
    } catch (err) {
      for (const s of q.list) s.close();
      throw err;
    }
    return q;
  }

  /** Segment size in bytes. */
  get segmentSizeBytes(): number {
    return this.options.segmentSizeBytes;
  }

  /** All segments, oldest first (do not modify). */
  get segments(): readonly SegmentFile[] {
    return this.list;
  }

  get first(): SegmentFile | undefined {
    return this.list[0];
  }

  get last(): SegmentFile | undefined {
    return this.list[this.list.length - 1];
  }

  /** The segment holding log offset `offset`, or undefined. */
  findByOffset(offset: number): SegmentFile | undefined {
    const first = this.list[0];
    if (first === undefined || offset < first.startOffset) return undefined;
    const idx = Math.floor((offset - first.startOffset) / this.options.segmentSizeBytes);
    return this.list[idx];
  }

  /** Index of the segment holding `offset`, or -1. */
  indexOf(offset: number): number {
    const first = this.list[0];
    if (first === undefined || offset < first.startOffset) return -1;
    const idx = Math.floor((offset - first.startOffset) / this.options.segmentSizeBytes);
    return idx < this.list.length ? idx : -1;
  }

  /**
   * Appends a new active segment starting at `startOffset` (default: right after the last
   * one), then pre-allocates the one after it.
   */
  roll(startOffset?: number): SegmentFile {
    const size = this.options.segmentSizeBytes;
    const last = this.last;
    const start = startOffset ?? (last === undefined ? 0 : last.startOffset + size);
    invariant(start % size === 0, 'segment start must be a multiple of the segment size');
    invariant(
      last === undefined || start === last.startOffset + size,
      'segments must be contiguous',
    );
    let seg: SegmentFile;
    if (this.next !== null && this.next.startOffset === start && !this.next.closed) {
      seg = this.next;
      // Its blocks are normally allocated by now (off the event loop); if not, now: a write
      // into a mapping without blocks on a full disk would be a SIGBUS, not an error.
      try {
        seg.ensureReserved();
      } catch (err) {
        throw segmentAllocationError(err, seg.path, size);
      }
      // With a warm lead its warm-up may not have begun yet (it waits for the active segment's).
      if (this.options.warmWhileWriting === true) this.allocator.warmUp(seg);
    } else {
      this.dropNext();
      seg = openSegmentFile(
        this.options.backend,
        this.pathOf(start),
        start,
        size,
        true,
        false,
        this.segmentOptions,
      );
      if (this.options.warmWhileWriting === true) this.allocator.warmUp(seg);
    }
    this.next = null;
    this.list.push(seg);
    this.next = this.allocator.allocate(this.pathOf(start + size), start + size);
    return seg;
  }

  private dropNext(): void {
    this.next?.destroy();
    this.next = null;
  }

  /** The pre-allocated segment the log rolls into next, if there is one. */
  get nextSegment(): SegmentFile | null {
    return this.next;
  }

  /** Path of the segment file starting at `startOffset`. */
  pathOf(startOffset: number): string {
    return join(this.options.dir, segmentFileName(startOffset));
  }

  /**
   * Deletes every segment after index `keepIndex` (and the pre-allocated next file). With
   * `keepFollowing`, the segment right after `keepIndex` is known to be unused (all zero) and
   * becomes the pre-allocated next segment instead of being deleted.
   */
  truncateAfter(keepIndex: number, keepFollowing = false): void {
    this.dropNext();
    let following: SegmentFile | undefined;
    if (keepFollowing && this.list.length - 1 > keepIndex) following = this.list[keepIndex + 1];
    while (this.list.length - 1 > keepIndex) {
      const seg = this.list.pop();
      if (seg !== following) seg?.destroy();
    }
    if (following !== undefined) {
      following.resetPosition(0);
      this.next = following;
      this.allocator.warmUp(following);
    }
  }

  /**
   * Warms the active segment from its write position on (with `warmWhileWriting` only); with a
   * lead, call it again once the writes reach the segment's `warmResumePosition`.
   */
  warmActive(): void {
    const active = this.last;
    if (active !== undefined && this.options.warmWhileWriting === true) {
      this.allocator.warmUp(active);
    }
  }

  /**
   * Pre-allocates (and warms) the segment after the last one — or, for an empty log, the first
   * one at `emptyStart` — if it is not there yet.
   */
  ensureNext(emptyStart = 0): void {
    if (this.next !== null) return;
    const last = this.last;
    const start =
      last === undefined ? emptyStart : last.startOffset + this.options.segmentSizeBytes;
    this.next = this.allocator.allocate(this.pathOf(start), start);
  }

  /**
   * Deletes up to `maxCount` segments from the head whose file was last modified more than
   * `olderThanMs` ago (any age when `force`). The active segment is never deleted. Segments
   * still held by readers are unlinked once released. Returns the number removed.
   */
  deleteFromHead(olderThanMs: number, force: boolean, maxCount: number, nowMs: number): number {
    let removed = 0;
    while (removed < maxCount && this.list.length > 1) {
      const seg = this.list[0];
      if (!force) {
        let mtimeMs: number;
        try {
          mtimeMs = statSync(seg.path).mtimeMs;
        } catch {
          mtimeMs = 0;
        }
        if (nowMs - mtimeMs < olderThanMs) break;
      }
      this.list.shift();
      seg.destroy();
      removed++;
    }
    return removed;
  }

  /** Closes every segment (resources go once readers release them) and stops the allocator. */
  async close(): Promise<void> {
    this.next?.close();
    this.next = null;
    for (const s of this.list) s.close();
    this.list.length = 0;
    await this.allocator.close();
  }
}
