/**
 * One fixed-size CommitLog segment file, behind one interface for both backends:
 * - `mmap` (mmap-segment.ts): the file is mapped whole; records are encoded straight into the
 *   mapping and reads are zero-copy views of it;
 * - `file` (file-segment.ts): positional I/O through a staging buffer; reads copy into Buffers.
 *
 * Life cycle: a segment starts with one reference owned by its queue. Readers `hold()` it while
 * they use views of it and `release()` afterwards; `close()` drops the owner's reference and the
 * memory/fd is released once the count reaches 0. After that every method throws
 * SEGMENT_CLOSED (a mapped buffer can no longer be touched safely).
 */
import { SluiceError } from '../../common/errors.js';
import type { StoreBackend } from '../types.js';
import { FileSegment } from './file-segment.js';
import { MmapSegment, type MmapSegmentOptions } from './mmap-segment.js';

/** How segments are opened (each backend reads its own fields). */
export interface SegmentOptions extends MmapSegmentOptions {
  /** File backend: reads are views of a mapping of the file (needs the native addon). */
  mapReads: boolean;
}

/** Where the next record must be encoded: `bytes`/`view` cover the same memory. */
export interface WriteWindow {
  bytes: Buffer;
  view: DataView;
  /** Position inside `bytes` at which to write. */
  pos: number;
}

/** A fixed-size segment file of the CommitLog. */
export interface SegmentFile {
  readonly backend: StoreBackend;
  readonly path: string;
  /** Log offset of the first byte (also the file name). */
  readonly startOffset: number;
  readonly sizeBytes: number;
  /** Bytes appended so far (in-segment position of the next record). */
  readonly wrotePosition: number;
  /** Bytes known to be durable. */
  readonly flushedPosition: number;
  /** True once the memory/fd has been released. */
  readonly closed: boolean;

  /**
   * Returns the window to encode `len` bytes at `wrotePosition`. The window is valid until
   * the next call on this segment. Follow with {@link SegmentFile.commitWrite}.
   */
  writeWindow(len: number): WriteWindow;
  /**
   * Marks `writtenBytes` (encoded into the last window) as appended and moves the write
   * position by `advanceBytes` (≥ writtenBytes; more for a BLANK that covers the tail).
   */
  commitWrite(writtenBytes: number, advanceBytes: number): void;
  /**
   * Bytes `[pos, pos+len)` of the segment: a zero-copy view (mmap; file with `mapReads`) or a
   * copy (file). Only bytes below `wrotePosition` are guaranteed to be meaningful; recovery may
   * read anything. A view is valid while the segment is held (it empties once unmapped).
   */
  read(pos: number, len: number): Uint8Array;
  /**
   * Copies bytes `[pos, pos+len)` of the segment into `dest` at `destAt` (for readers that
   * gather scattered records into one buffer rather than keep a view of each).
   */
  copyOut(pos: number, len: number, dest: Uint8Array, destAt: number): void;
  /**
   * Hands appended bytes still held in user space to the kernel (one `pwrite`, no fsync), so
   * that they survive the death of the process. A no-op for mmap, whose writes already are in
   * the page cache.
   */
  writeOut(): void;
  /** Writes zeros over `[pos, pos+len)` (used to wipe a torn tail during recovery). */
  zero(pos: number, len: number): void;
  /** Sets write and flushed positions after recovery (bytes beyond must already be zero). */
  resetPosition(pos: number): void;
  /**
   * Makes `[flushedPosition, wrotePosition)` durable — or `[flushedPosition, upTo)` when `upTo`
   * is lower, where the backend can flush a part (mmap; the file backend flushes everything);
   * resolves with the new flushed position. On the thread pool, or with `onThisThread` by a
   * blocking call before it returns (for small ranges: the hand-off to a worker and back costs
   * more than such a flush blocks).
   */
  flush(onThisThread?: boolean, upTo?: number): Promise<number>;
  /**
   * Warms the segment for writing off the JS thread (mmap): every page stored into, content
   * unchanged, so the pages are writable and dirty. Stops once the segment is being written,
   * unless `whileWriting`: then it starts at the write position and runs on ahead of the
   * appends — at most `leadBytes` ahead (default: to the end), after which
   * {@link SegmentFile.warmResumePosition} says when to call it again. Resolves true once the
   * whole segment is warm; at once (false) for the file backend.
   */
  prefault(whileWriting?: boolean, leadBytes?: number): Promise<boolean>;
  /**
   * Brings the segment from its write position to its end into the page cache off the JS
   * thread (mmap, without page-granular write-back): mapped read-only and clean, so the kernel
   * has nothing to write back, while an append that overtakes the warm lead meets a cached
   * page (a write-protect fault) instead of a new one. A no-op otherwise.
   */
  precache(): Promise<void>;
  /**
   * Write position from which a pre-fault that stopped at its lead should run again
   * (+Infinity: none is due).
   */
  readonly warmResumePosition: number;
  /**
   * Allocates the disk blocks of a segment created with `reserveLater` on the thread pool
   * (fallocate can wait for the file system's journal). Resolves at once when there is nothing
   * to do. Until it has, writes into a mapping could meet a full disk as SIGBUS: call
   * {@link SegmentFile.ensureReserved} before the first append.
   */
  reserve(): Promise<void>;
  /** Allocates the blocks now (synchronously) if {@link SegmentFile.reserve} has not yet. */
  ensureReserved(): void;
  /** Takes a reader reference. Returns false when the segment is closing or closed. */
  hold(): boolean;
  /** Drops a reference taken with {@link SegmentFile.hold}. */
  release(): void;
  /** Drops the owner's reference; resources go once no reader holds the segment. */
  close(): void;
  /** Closes and deletes the file: unmapped/closed first, unlinked once no reader holds it. */
  destroy(): void;
}

/** Zero-pads a log offset to the 20-digit segment file name. */
export function segmentFileName(startOffset: number): string {
  return String(startOffset).padStart(20, '0');
}

/**
 * Opens (or, with `create`, creates and pre-allocates) a segment file with the given backend.
 * With `reserveLater` (mmap) a new file is only sized; {@link SegmentFile.reserve} allocates it.
 * Throws STORE_CORRUPT when an existing file does not have exactly `sizeBytes`.
 */
export function openSegmentFile(
  backend: StoreBackend,
  path: string,
  startOffset: number,
  sizeBytes: number,
  create: boolean,
  reserveLater = false,
  options?: SegmentOptions,
): SegmentFile {
  try {
    return backend === 'mmap'
      ? MmapSegment.open(path, startOffset, sizeBytes, create, reserveLater, options)
      : FileSegment.open(path, startOffset, sizeBytes, create, options?.mapReads ?? false);
  } catch (err) {
    throw segmentAllocationError(err, path, sizeBytes);
  }
}

/**
 * What to throw for `err` from creating or allocating the blocks of segment `path`: DISK_FULL
 * for ENOSPC, `err` itself otherwise.
 */
export function segmentAllocationError(err: unknown, path: string, sizeBytes: number): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') return err;
  return new SluiceError(
    'DISK_FULL',
    `no space left on the disk to allocate CommitLog segment ${path} (${sizeBytes} bytes): ` +
      'free disk space, shorten fileReservedTime, or use smaller segments',
    { cause: err },
  );
}
