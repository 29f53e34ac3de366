/**
 * The files of one ConsumeQueue, oldest first. Each holds up to `entriesPerFile` 20-byte entries
 * and is named by the byte offset of its first entry (`offsetToFileName`); a file's length is
 * the amount of valid data (files are not pre-allocated). Descriptors come from the store's
 * shared {@link FdCache}, so a queue keeps no descriptor open of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SluiceError, invariant } from '../common/errors.js';
import { CQ_ENTRY_SIZE, offsetToFileName } from './consume-queue-entry.js';
import type { CachedFile, FdCache } from './consume-queue-fd-cache.js';
import type { ConsumeQueueWriter, WriterFile } from './consume-queue-writer.js';
import { writeFullySync } from './io/positional-io.js';

/** What the files of every queue share (a part of the store's ConsumeQueue context). */
export interface CqFilesContext {
  readonly entriesPerFile: number;
  readonly fdCache: FdCache;
  /**
   * The writer thread, when files are written off the JS thread (null: written here); told when
   * a file goes away.
   */
  readonly writer: ConsumeQueueWriter | null;
  /** ConsumeQueue files started since the store opened (each a new file, maybe new folders). */
  filesCreated: number;
}

/** One ConsumeQueue file. */
export class CqFile implements CachedFile, WriterFile {
  fd = -1;
  writerId = 0;
  /** Bytes of the file that hold entries. */
  lengthBytes: number;
  /** Written since the last fsync. */
  unsynced = false;
  constructor(
    readonly path: string,
    /** Queue offset of the file's first entry. */
    readonly startIndex: number,
    lengthBytes: number,
  ) {
    this.lengthBytes = lengthBytes;
  }
}

/** The files of one queue's folder, sorted by their first entry. */
export class CqFiles {
  private readonly list: CqFile[] = [];

  constructor(
    private readonly ctx: CqFilesContext,
    /** The queue's folder. */
    private readonly dir: string,
  ) {}

  /** Number of files. */
  get count(): number {
    return this.list.length;
  }

  /** The oldest file. */
  get first(): CqFile | undefined {
    return this.list[0];
  }

  /** The newest file (the one appended to). */
  get last(): CqFile | undefined {
    return this.list[this.list.length - 1];
  }

  /**
   * Lists the folder's files. Returns false when the folder does not exist. A file name that is
   * not a multiple of the file size is a typed STORE_CORRUPT error (the setting changed).
   */
  load(): boolean {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return false;
    }
    const fileBytes = this.ctx.entriesPerFile * CQ_ENTRY_SIZE;
    const starts = names
      .filter((n) => /^\d{20}$/.test(n))
      .map((n) => Number(n))
      .sort((a, b) => a - b);
    for (const start of starts) {
      const p = path.join(this.dir, offsetToFileName(start));
      if (start % fileBytes !== 0) {
        throw new SluiceError(
          'STORE_CORRUPT',
          `ConsumeQueue file ${p} is not aligned to ${fileBytes} bytes (consumeQueueEntriesPerFile changed?); delete the folder to rebuild it`,
        );
      }
      const size = fs.statSync(p).size;
      this.list.push(new CqFile(p, start / CQ_ENTRY_SIZE, Math.min(size, fileBytes)));
    }
    return true;
  }

  /** The file whose first entry is `startIndex`, if there is one. */
  find(startIndex: number): CqFile | undefined {
    const files = this.list;
    const last = files[files.length - 1];
    if (last !== undefined && last.startIndex === startIndex) return last;
    let lo = 0;
    let hi = files.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = files[mid].startIndex;
      if (s === startIndex) return files[mid];
      if (s < startIndex) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The file starting at `startIndex`; a new (empty) one after the last when there is none. */
  findOrCreate(startIndex: number): CqFile {
    const found = this.find(startIndex);
    if (found !== undefined) return found;
    const last = this.last;
    invariant(last === undefined || startIndex > last.startIndex, 'CQ file created out of order');
    const file = new CqFile(
      path.join(this.dir, offsetToFileName(startIndex * CQ_ENTRY_SIZE)),
      startIndex,
      0,
    );
    this.list.push(file);
    this.ctx.filesCreated++;
    return file;
  }

  /** Reads entry `indexInFile` of `file` into `out` (zeros past the file's end). */
  readEntry(file: CqFile, indexInFile: number, out: Uint8Array): void {
    const fd = this.ctx.fdCache.fdOf(file);
    const n = fs.readSync(fd, out, 0, CQ_ENTRY_SIZE, indexInFile * CQ_ENTRY_SIZE);
    if (n < CQ_ENTRY_SIZE) out.fill(0, n, CQ_ENTRY_SIZE);
  }

  /** Reads `bytes` at `position` of `file` into the start of `out`; returns the bytes read. */
  read(file: CqFile, out: Uint8Array, bytes: number, position: number): number {
    return fs.readSync(this.ctx.fdCache.fdOf(file), out, 0, bytes, position);
  }

  /** Writes `len` bytes of `buf` from `from` at `position` of `file` (this thread). */
  write(file: CqFile, buf: Uint8Array, from: number, len: number, position: number): void {
    writeFullySync(this.ctx.fdCache.fdOf(file), buf, from, len, position);
    if (position + len > file.lengthBytes) file.lengthBytes = position + len;
    file.unsynced = true;
  }

  /** Cuts `file` to `lengthBytes`. */
  truncate(file: CqFile, lengthBytes: number): void {
    fs.ftruncateSync(this.ctx.fdCache.fdOf(file), lengthBytes);
    file.lengthBytes = lengthBytes;
    file.unsynced = true;
  }

  /** Deletes the oldest file. */
  removeFirst(): void {
    this.removeAt(0);
  }

  /** Deletes the newest file. */
  removeLast(): void {
    this.removeAt(this.list.length - 1);
  }

  private removeAt(i: number): void {
    const [file] = this.list.splice(i, 1);
    this.ctx.fdCache.close(file);
    this.ctx.writer?.forget(file);
    fs.rmSync(file.path, { force: true });
  }

  /** Appends to `out` the paths of files written since the last sync and clears their flag. */
  takeUnsynced(out: string[]): void {
    for (const file of this.list) {
      if (!file.unsynced) continue;
      out.push(file.path);
      file.unsynced = false;
    }
  }

  /** fsyncs the files written since the last sync. */
  sync(): void {
    for (const file of this.list) {
      if (!file.unsynced) continue;
      fs.fdatasyncSync(this.ctx.fdCache.fdOf(file));
      file.unsynced = false;
    }
  }

  /** Closes the files' descriptors. */
  close(): void {
    for (const f of this.list) {
      this.ctx.fdCache.close(f);
      this.ctx.writer?.forget(f);
    }
  }

  /** Closes the files and forgets them (the caller deletes the folder). */
  clear(): void {
    this.close();
    this.list.length = 0;
  }
}
