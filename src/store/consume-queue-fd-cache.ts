/**
 * A bounded LRU of open file descriptors shared by every ConsumeQueue: 10,000 topics × 8 queues
 * must neither exhaust the process's descriptors nor hold one mapping per queue. All I/O through
 * these descriptors is synchronous, so closing an evicted descriptor never races an operation.
 */
import fs from 'node:fs';
import { SluiceError } from '../common/errors.js';

/** A file that may or may not currently hold an open descriptor. */
export interface CachedFile {
  readonly path: string;
  /** The open descriptor, or -1. Managed by {@link FdCache}. */
  fd: number;
}

const OPEN_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;

/** LRU of open descriptors (read/write, created on first open). */
export class FdCache {
  private readonly lru = new Map<CachedFile, true>();
  /** Descriptor opens since creation (for tests and stats). */
  opens = 0;

  /** @param maxOpen the most descriptors held open at once (≥ 1). */
  constructor(readonly maxOpen: number) {
    if (!(maxOpen >= 1)) throw new SluiceError('CONFIG_INVALID', 'FdCache needs maxOpen >= 1');
  }

  /** Open descriptors right now. */
  get openCount(): number {
    return this.lru.size;
  }

  /** Returns an open descriptor for `file`, opening it (and evicting the LRU one) if needed. */
  fdOf(file: CachedFile): number {
    if (file.fd >= 0) {
      this.lru.delete(file);
      this.lru.set(file, true);
      return file.fd;
    }
    while (this.lru.size >= this.maxOpen) {
      const oldest = this.lru.keys().next().value as CachedFile;
      this.close(oldest);
    }
    try {
      file.fd = fs.openSync(file.path, OPEN_FLAGS, 0o644);
    } catch (err) {
      throw new SluiceError(
        'NATIVE_IO',
        `cannot open ${file.path}: ${(err as Error).message}; check permissions and the open-files limit`,
        { cause: err },
      );
    }
    this.opens++;
    this.lru.set(file, true);
    return file.fd;
  }

  /** Closes `file`'s descriptor if it is open. */
  close(file: CachedFile): void {
    if (file.fd < 0) return;
    this.lru.delete(file);
    const fd = file.fd;
    file.fd = -1;
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed: nothing to do.
    }
  }

  /** Closes every descriptor. */
  closeAll(): void {
    for (const file of [...this.lru.keys()]) this.close(file);
  }
}
