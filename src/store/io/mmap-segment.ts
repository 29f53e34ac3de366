/**
 * The `mmap` segment backend: the whole pre-allocated file is mapped shared read/write.
 * Appends encode straight into the mapping; reads are `Uint8Array` views of it; flush is an
 * msync of the dirty range on the libuv thread pool.
 */
import { closeSync, unlinkSync } from 'node:fs';
import { invariant } from '../../common/errors.js';
import * as native from './native.js';
import { RefCount } from './ref-count.js';
import { openSegmentFd } from './segment-fd.js';
import type { SegmentFile, WriteWindow } from './segment-file.js';

/** Pre-fault granularity (one thread-pool job each). */
const PREFAULT_STEP_BYTES = 1024 * 1024;

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

  private constructor(
    readonly path: string,
    readonly startOffset: number,
    readonly sizeBytes: number,
    fd: number,
  ) {
    try {
      this.ab = native.map(fd, sizeBytes, 0);
    } finally {
      closeSync(fd);
    }
    this.bytes = Buffer.from(this.ab);
    this.view = new DataView(this.ab);
    this.window = { bytes: this.bytes, view: this.view, pos: 0 };
    this.refs = new RefCount(`segment ${path}`, () => {
      native.unmap(this.ab);
      if (this.deleteOnRelease) this.unlink();
    });
  }

  /** Creates (fallocate) or opens a segment file of exactly `sizeBytes` and maps it. */
  static open(path: string, startOffset: number, sizeBytes: number, create: boolean): MmapSegment {
    return new MmapSegment(path, startOffset, sizeBytes, openSegmentFd(path, sizeBytes, create));
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
    this.window.pos = this.wrote;
    return this.window;
  }

  commitWrite(writtenBytes: number, advanceBytes: number): void {
    invariant(advanceBytes >= writtenBytes, 'advance smaller than written');
    this.wrote += advanceBytes;
  }

  read(pos: number, len: number): Uint8Array {
    this.refs.check();
    invariant(pos >= 0 && pos + len <= this.sizeBytes, 'read beyond the end of a segment');
    return new Uint8Array(this.ab, pos, len);
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

  async flush(): Promise<number> {
    this.refs.check();
    const from = this.flushed;
    const to = this.wrote;
    if (to <= from) return this.flushed;
    if (!this.refs.hold()) return this.flushed;
    try {
      await native.msyncAsync(this.ab, from, to - from);
    } finally {
      this.refs.release();
    }
    if (to > this.flushed) this.flushed = to;
    return this.flushed;
  }

  async prefault(whileWriting = false): Promise<void> {
    if (!this.refs.hold()) return;
    try {
      // In steps. An msync of this mapping can stall while a pre-fault of it runs, so unless
      // `whileWriting` (async flush, where no put waits for an msync) warming stops once appends
      // (and flushes) begin.
      const first = whileWriting ? this.wrote - (this.wrote % PREFAULT_STEP_BYTES) : 0;
      for (
        let off = first;
        off < this.sizeBytes && !this.refs.isClosing && (whileWriting || this.wrote === 0);
        off += PREFAULT_STEP_BYTES
      ) {
        await native.prefaultAsync(
          this.ab,
          off,
          Math.min(PREFAULT_STEP_BYTES, this.sizeBytes - off),
        );
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
