/**
 * The `file` segment backend: positional I/O. Appends are encoded into a staging buffer that
 * is written out with one `pwrite` when full, on flush, and before a read of bytes still in it.
 * Reads copy into fresh Buffers with `pread` — or, with `mapReads` (the native addon built), are
 * views of a shared mapping of the file that is only ever read: the pages the `pwrite`s filled
 * are the page cache pages the mapping shows, so a read is a view, not a system call and a copy
 * (a pull of 1,000 messages spread over 10,000 queues is 1,000 of them). The writes stay plain
 * positional I/O: with sync flush they cost less CPU than stores into a mapping whose pages each
 * group commit write-protects again (see docs/architecture.md). The file is pre-allocated to its
 * full size like the mmap one, so both backends read each other's files.
 */
import { closeSync, unlinkSync, fdatasync, fdatasyncSync, writeSync } from 'node:fs';
import { POS_MAGIC } from '../../common/codec/message-record.js';
import { invariant } from '../../common/errors.js';
import * as native from './native.js';
import { readFullySync } from './positional-io.js';
import { RefCount } from './ref-count.js';
import { openSegmentFd } from './segment-fd.js';
import type { SegmentFile, WriteWindow } from './segment-file.js';

/** Default staging buffer size for appends. */
export const STAGING_BYTES = 1024 * 1024;

const ZEROS = Buffer.alloc(64 * 1024);

/**
 * Writes `buf[0, used)` (whole records, the first at `buf[0]`) at file position `base`, the
 * first record's magic code last. A process killed inside a write of several pages can leave
 * any prefix of them in the file, and a record cut off after its first page could pass
 * recovery's checks (length, magic, body CRC: see `encodeRecord`). Until the final 4-byte write
 * the batch's first record has no magic in the file, so recovery ends the log where the batch
 * begins (none of it was acknowledged: acknowledgements wait for this write). The buffer keeps
 * its magic code whatever happens.
 */
export function writeRecordsMagicLast(
  fd: number,
  buf: Buffer,
  used: number,
  base: number,
  write: typeof writeSync = writeSync,
): void {
  const writeAll = (from: number, to: number): void => {
    let done = from;
    while (done < to) done += write(fd, buf, done, to - done, base + done);
  };
  if (used < POS_MAGIC + 4) {
    writeAll(0, used);
    return;
  }
  const magic = buf.readUInt32BE(POS_MAGIC);
  buf.writeUInt32BE(0, POS_MAGIC);
  try {
    writeAll(0, used);
  } finally {
    buf.writeUInt32BE(magic, POS_MAGIC);
  }
  writeAll(POS_MAGIC, POS_MAGIC + 4);
}

/** A CommitLog segment accessed with pread/pwrite. */
export class FileSegment implements SegmentFile {
  readonly backend = 'file' as const;
  /** No pre-fault with plain file I/O. */
  readonly warmResumePosition = Number.POSITIVE_INFINITY;
  private staging: Buffer;
  private stagingView: DataView;
  /** File position of staging[0]. */
  private stagingBase = 0;
  private stagingUsed = 0;
  private readonly window: WriteWindow;
  private readonly refs: RefCount;
  private wrote = 0;
  private flushed = 0;
  private deleteOnRelease = false;
  /** A mapping of the file that is only read (`mapReads`); unmapped once the segment is released. */
  private readonly mapped: ArrayBuffer | null;

  private constructor(
    readonly path: string,
    readonly startOffset: number,
    readonly sizeBytes: number,
    private readonly fd: number,
    mapReads: boolean,
  ) {
    this.mapped = mapReads ? native.map(fd, sizeBytes, 0) : null;
    this.staging = Buffer.allocUnsafeSlow(STAGING_BYTES);
    this.stagingView = new DataView(
      this.staging.buffer,
      this.staging.byteOffset,
      this.staging.length,
    );
    this.window = { bytes: this.staging, view: this.stagingView, pos: 0 };
    this.refs = new RefCount(`segment ${path}`, () => {
      try {
        this.drain();
      } finally {
        if (this.mapped !== null) native.unmap(this.mapped);
        closeSync(this.fd);
        if (this.deleteOnRelease) this.unlink();
      }
    });
  }

  /**
   * Creates (pre-allocated) or opens a segment file of exactly `sizeBytes`; with `mapReads`
   * (needs the native addon) reads are views of a mapping of it.
   */
  static open(
    path: string,
    startOffset: number,
    sizeBytes: number,
    create: boolean,
    mapReads = false,
  ): FileSegment {
    const fd = openSegmentFd(path, sizeBytes, create);
    try {
      return new FileSegment(path, startOffset, sizeBytes, fd, mapReads);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** True when reads are views of a mapping (no copy). */
  get readsMapped(): boolean {
    return this.mapped !== null;
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
    if (this.stagingUsed + len > this.staging.length) {
      this.drain();
      if (len > this.staging.length) {
        this.staging = Buffer.allocUnsafeSlow(len);
        this.stagingView = new DataView(this.staging.buffer, this.staging.byteOffset, len);
        this.window.bytes = this.staging;
        this.window.view = this.stagingView;
      }
    }
    this.window.pos = this.stagingUsed;
    return this.window;
  }

  commitWrite(writtenBytes: number, advanceBytes: number): void {
    invariant(advanceBytes >= writtenBytes, 'advance smaller than written');
    this.stagingUsed += writtenBytes;
    this.wrote += advanceBytes;
    if (advanceBytes !== writtenBytes) {
      this.drain();
      this.stagingBase = this.wrote;
    }
  }

  writeOut(): void {
    if (this.stagingUsed > 0 && !this.refs.isReleased) this.drain();
  }

  /** Writes the staging buffer out at its file position. */
  private drain(): void {
    writeRecordsMagicLast(this.fd, this.staging, this.stagingUsed, this.stagingBase);
    this.stagingBase += this.stagingUsed;
    this.stagingUsed = 0;
  }

  read(pos: number, len: number): Uint8Array {
    this.refs.check();
    invariant(pos >= 0 && pos + len <= this.sizeBytes, 'read beyond the end of a segment');
    // Bytes still in the staging buffer are written out first rather than served from it: what a
    // reader (the dispatcher above all) has seen must be in the page cache, or a process crash
    // could leave ConsumeQueue entries and a checkpoint pointing at bytes the file never got.
    if (this.stagingUsed > 0 && pos + len > this.stagingBase) this.drain();
    if (this.mapped !== null) return new Uint8Array(this.mapped, pos, len);
    const out = Buffer.allocUnsafe(len);
    const done = readFullySync(this.fd, out, 0, len, pos);
    if (done < len) out.fill(0, done);
    return out;
  }

  copyOut(pos: number, len: number, dest: Uint8Array, destAt: number): void {
    this.refs.check();
    invariant(pos >= 0 && pos + len <= this.sizeBytes, 'copy beyond the end of a segment');
    if (this.stagingUsed > 0 && pos + len > this.stagingBase) this.drain(); // as in read()
    if (this.mapped !== null) {
      dest.set(new Uint8Array(this.mapped, pos, len), destAt);
      return;
    }
    const done = readFullySync(this.fd, dest, destAt, len, pos);
    if (done < len) dest.fill(0, destAt + done, destAt + len);
  }

  zero(pos: number, len: number): void {
    this.refs.check();
    this.drain();
    let done = 0;
    while (done < len) {
      const n = Math.min(ZEROS.length, len - done);
      done += writeSync(this.fd, ZEROS, 0, n, pos + done);
    }
  }

  resetPosition(pos: number): void {
    this.drain();
    this.wrote = pos;
    this.flushed = pos;
    this.stagingBase = pos;
  }

  async flush(onThisThread = false): Promise<number> {
    this.refs.check();
    const to = this.wrote;
    if (to <= this.flushed) return this.flushed;
    if (!this.refs.hold()) return this.flushed;
    try {
      this.drain();
      if (onThisThread) {
        fdatasyncSync(this.fd);
      } else {
        await new Promise<void>((resolve, reject) =>
          fdatasync(this.fd, (err) => (err ? reject(err) : resolve())),
        );
      }
    } finally {
      this.refs.release();
    }
    if (to > this.flushed) this.flushed = to;
    return this.flushed;
  }

  reserve(): Promise<void> {
    return Promise.resolve();
  }

  ensureReserved(): void {}

  prefault(): Promise<boolean> {
    return Promise.resolve(false);
  }

  precache(): Promise<void> {
    return Promise.resolve();
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
