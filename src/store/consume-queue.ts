/**
 * One ConsumeQueue: the index of one topic+queue into the CommitLog (entry layout in
 * `consume-queue-entry.ts`), stored under `<storePath>/consumequeue/<topic>/<queueId>/` in files
 * of `entriesPerFile` entries named by the byte offset of their first entry.
 *
 * No permanent mapping and no permanent descriptor: appended entries collect in a small
 * per-queue buffer that the store's flusher writes with positional `write`s; recent entries are
 * served from that buffer; older ones are read with `pread` through the shared {@link FdCache}.
 * Files are not pre-allocated, so a file's length is the amount of valid data (after recovery).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SluiceError, invariant } from '../common/errors.js';
import {
  BLANK_ENTRY_SIZE,
  CQ_ENTRY_SIZE,
  cqEntryIsValid,
  cqPhyOffset,
  cqSizeBytes,
  cqTagsCode,
  writeCqEntry,
} from './consume-queue-entry.js';
import { CqFiles, type CqFilesContext } from './consume-queue-files.js';
import { firstOffsetInLog, firstOffsetStoredFrom, syncedEnd } from './consume-queue-search.js';
import type { ConsumeQueueWriter, WriterQueue } from './consume-queue-writer.js';

/** What every queue of a store shares (its files' part is {@link CqFilesContext}). */
export interface ConsumeQueueContext extends CqFilesContext {
  readonly rootDir: string;
  /** Entries a fresh write buffer holds; it doubles up to `maxBufferEntries`. */
  readonly initialBufferEntries: number;
  readonly maxBufferEntries: number;
  /**
   * Bytes all write buffers may hold before written entries are given up: under it a full
   * buffer grows and keeps its written entries (reads of recent entries stay in memory).
   */
  readonly bufferBudgetBytes: number;
  /** Bytes all write buffers hold now (kept by the queues). */
  bufferBytes: number;
  /** The CommitLog's min offset: entries below it are expired (min offset moves past them). */
  logMinOffset: number;
  /** Called when a queue gets unwritten entries (the store keeps a dirty set). */
  markDirty(queue: ConsumeQueue): void;
}

/** One ConsumeQueue entry, filled by {@link ConsumeQueue.entryAt} (reusable). */
export interface CqEntry {
  phyOffset: number;
  sizeBytes: number;
  tagsCode: number;
}

const scratch = new Uint8Array(CQ_ENTRY_SIZE);
const scratchView = new DataView(scratch.buffer);

/** Checks that a topic can be used as a folder name. */
export function checkTopicForPath(topic: string): void {
  if (
    topic.length === 0 ||
    topic === '.' ||
    topic === '..' ||
    topic.includes('/') ||
    topic.includes('\\') ||
    topic.includes('\0')
  ) {
    throw new SluiceError(
      'TOPIC_ILLEGAL',
      `topic ${JSON.stringify(topic)} cannot name a ConsumeQueue folder; use letters, digits, %, |, _ and -`,
    );
  }
}

/** The ConsumeQueue of one topic+queue. */
export class ConsumeQueue implements WriterQueue {
  readonly dir: string;
  private readonly files: CqFiles;
  private maxOffsetValue = 0;
  private minOffsetValue = 0;
  /** Log min offset for which `minOffsetValue` was last corrected (-1: never). */
  private minCorrectedFor = -1;
  private buf: Uint8Array | null = null;
  private bufView: DataView | null = null;
  /** Queue offset of the buffer's first entry. */
  private bufStart = 0;
  /** Entries below this queue offset are in the files. */
  private writtenUpTo = 0;
  /** Entries below this queue offset are in the files or on their way (writer thread). */
  private postedUpTo = 0;
  private appendsSinceFlush = 0;
  /** CommitLog offset of the last message entry (-1: none). */
  lastPhyOffset = -1;
  /** Set by the store while the queue is in its dirty set. */
  inDirtySet = false;
  /** Flush round of the store in which the queue became dirty (set by the store). */
  dirtyRound = 0;
  /**
   * True once the queue's folder exists. The store creates new folders on the thread pool (a
   * mkdir costs ~0.75 ms and 10,000 topics × 8 queues need 80,000): until then the periodic
   * flush leaves the queue's entries in memory.
   */
  dirReady = false;

  constructor(
    private readonly ctx: ConsumeQueueContext,
    readonly topic: string,
    readonly queueId: number,
  ) {
    checkTopicForPath(topic);
    this.dir = path.join(ctx.rootDir, topic, String(queueId));
    this.files = new CqFiles(ctx, this.dir);
  }

  /** Loads the queue's files from disk and recovers its tail (drops a torn/zeroed end). */
  load(): void {
    if (!this.files.load()) return;
    this.dirReady = true;
    this.recoverTail();
    const first = this.files.first;
    this.minOffsetValue = first === undefined ? 0 : first.startIndex;
    this.bufStart = this.maxOffsetValue;
    this.writtenUpTo = this.maxOffsetValue;
    this.postedUpTo = this.maxOffsetValue;
  }

  /** Finds the last valid entry; cuts everything after it. */
  private recoverTail(): void {
    for (let file = this.files.last; file !== undefined; file = this.files.last) {
      let n = Math.floor(file.lengthBytes / CQ_ENTRY_SIZE);
      while (n > 0) {
        this.files.readEntry(file, n - 1, scratch);
        if (cqEntryIsValid(scratchView, 0)) break;
        n--;
      }
      if (n * CQ_ENTRY_SIZE !== file.lengthBytes) this.files.truncate(file, n * CQ_ENTRY_SIZE);
      if (n === 0 && this.files.count > 1) {
        this.files.removeLast();
        continue;
      }
      this.maxOffsetValue = file.startIndex + n;
      this.lastPhyOffset = -1;
      for (let i = n - 1; i >= 0; i--) {
        this.files.readEntry(file, i, scratch);
        if (cqSizeBytes(scratchView, 0) !== BLANK_ENTRY_SIZE) {
          this.lastPhyOffset = cqPhyOffset(scratchView, 0);
          break;
        }
      }
      if (n === 0) this.maxOffsetValue = file.startIndex;
      return;
    }
    this.maxOffsetValue = 0;
  }

  /** Next queue offset to be written (= number of entries ever written, for a fresh queue). */
  get maxOffset(): number {
    return this.maxOffsetValue;
  }

  /** First queue offset whose entry still points into the CommitLog. */
  get minOffset(): number {
    if (this.minCorrectedFor !== this.ctx.logMinOffset) this.correctMinOffset();
    return this.minOffsetValue;
  }

  /** Moves the min offset past entries that point below the log's min offset. */
  private correctMinOffset(): void {
    const logMin = this.ctx.logMinOffset;
    this.minCorrectedFor = logMin;
    const first = this.files.first;
    if (first !== undefined && this.minOffsetValue < first.startIndex) {
      this.minOffsetValue = first.startIndex;
    }
    if (logMin <= 0) return;
    this.minOffsetValue = firstOffsetInLog(this, this.minOffsetValue, this.maxOffsetValue, logMin);
  }

  /**
   * Adds the entry for `queueOffset`. Returns false (and writes nothing) when the queue already
   * holds that offset (redispatch of an indexed record). A gap is filled with filler entries.
   */
  put(queueOffset: number, phyOffset: number, sizeBytes: number, tagsCode: number): boolean {
    if (queueOffset < this.maxOffsetValue) return false;
    while (this.maxOffsetValue < queueOffset) {
      this.append(0, BLANK_ENTRY_SIZE, 0);
    }
    this.append(phyOffset, sizeBytes, tagsCode);
    this.lastPhyOffset = phyOffset;
    return true;
  }

  private append(phyOffset: number, sizeBytes: number, tagsCode: number): void {
    if (this.buf === null) this.allocBuffer(this.ctx.initialBufferEntries);
    if (this.maxOffsetValue - this.bufStart === this.buf!.length / CQ_ENTRY_SIZE) this.makeRoom();
    writeCqEntry(
      this.bufView!,
      (this.maxOffsetValue - this.bufStart) * CQ_ENTRY_SIZE,
      phyOffset,
      sizeBytes,
      tagsCode,
    );
    this.maxOffsetValue++;
    this.appendsSinceFlush++;
    if (!this.inDirtySet) this.ctx.markDirty(this);
  }

  private allocBuffer(entries: number): void {
    const b = new Uint8Array(entries * CQ_ENTRY_SIZE);
    const old = this.buf;
    if (old !== null) b.set(old.subarray(0, (this.maxOffsetValue - this.bufStart) * CQ_ENTRY_SIZE));
    else {
      invariant(this.writtenUpTo === this.maxOffsetValue, 'CQ buffer dropped with unwritten data');
      this.bufStart = this.maxOffsetValue;
    }
    this.ctx.bufferBytes += b.length - (old === null ? 0 : old.length);
    this.buf = b;
    this.bufView = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /**
   * The buffer is full: grow it while all buffers fit the budget (written entries stay readable
   * from memory), else drop written entries (keeping at most the newer half), else grow beyond
   * the budget (unwritten entries need the room), else write them out.
   */
  private makeRoom(): void {
    const buf = this.buf!;
    const ctx = this.ctx;
    const capacity = buf.length / CQ_ENTRY_SIZE;
    const canGrow = capacity < ctx.maxBufferEntries;
    const hasWritten = this.writtenUpTo > this.bufStart;
    if (canGrow && (!hasWritten || ctx.bufferBytes + buf.length <= ctx.bufferBudgetBytes)) {
      this.allocBuffer(Math.min(capacity * 2, ctx.maxBufferEntries));
      return;
    }
    if (hasWritten) {
      const keepFrom = Math.max(
        this.bufStart + 1,
        Math.min(this.writtenUpTo, this.maxOffsetValue - (capacity >> 1)),
      );
      const from = (keepFrom - this.bufStart) * CQ_ENTRY_SIZE;
      buf.copyWithin(0, from, (this.maxOffsetValue - this.bufStart) * CQ_ENTRY_SIZE);
      this.bufStart = keepFrom;
      return;
    }
    this.flush();
    this.bufStart = this.maxOffsetValue;
  }

  /** Drops the buffer (callers check that nothing unwritten is lost). */
  private dropBuffer(): void {
    if (this.buf !== null) this.ctx.bufferBytes -= this.buf.length;
    this.buf = null;
    this.bufView = null;
  }

  /** True while the queue holds a write buffer. */
  get hasBuffer(): boolean {
    return this.buf !== null;
  }

  /** True when some entries are not yet in the files. */
  get hasUnwritten(): boolean {
    return this.writtenUpTo < this.maxOffsetValue;
  }

  /** True once the queue has a file (written, or handed to the writer thread). */
  get hasFile(): boolean {
    return this.files.count > 0;
  }

  /** Entries neither in the files nor on their way there. */
  get unpostedCount(): number {
    return this.maxOffsetValue - this.postedUpTo;
  }

  /** CommitLog offset of the first unwritten entry that points at a message (-1: none). */
  firstUnwrittenPhyOffset(): number {
    const view = this.bufView;
    if (view === null) return -1;
    for (let i = this.writtenUpTo; i < this.maxOffsetValue; i++) {
      const pos = (i - this.bufStart) * CQ_ENTRY_SIZE;
      if (cqSizeBytes(view, pos) !== BLANK_ENTRY_SIZE) return cqPhyOffset(view, pos);
    }
    return -1;
  }

  /** True when the queue's folder exists; with `force` a missing one is created here. */
  private folderReady(force: boolean): boolean {
    if (this.dirReady) return true;
    if (!force) return false;
    fs.mkdirSync(this.dir, { recursive: true });
    this.dirReady = true;
    return true;
  }

  /**
   * Writes the unwritten entries to the files. Returns the bytes written, or -1 when the folder
   * does not exist yet and `force` is false (nothing written; with `force` it is created here).
   */
  flush(force = true): number {
    if (this.hasUnwritten && !this.folderReady(force)) return -1;
    let written = 0;
    const fileEntries = this.ctx.entriesPerFile;
    while (this.writtenUpTo < this.maxOffsetValue) {
      const buf = this.buf!;
      const idx = this.writtenUpTo;
      const fileStart = idx - (idx % fileEntries);
      const file = this.files.findOrCreate(fileStart);
      const count = Math.min(this.maxOffsetValue - idx, fileStart + fileEntries - idx);
      const len = count * CQ_ENTRY_SIZE;
      const from = (idx - this.bufStart) * CQ_ENTRY_SIZE;
      this.files.write(file, buf, from, len, (idx - fileStart) * CQ_ENTRY_SIZE);
      this.writtenUpTo += count;
      written += len;
    }
    if (this.postedUpTo < this.writtenUpTo) this.postedUpTo = this.writtenUpTo;
    return written;
  }

  /**
   * Hands the entries not yet posted to the writer thread. Returns the bytes posted, or -1 when
   * the folder does not exist yet and `force` is false (with `force` it is created here).
   */
  post(writer: ConsumeQueueWriter, force: boolean): number {
    if (this.postedUpTo < this.maxOffsetValue && !this.folderReady(force)) return -1;
    let posted = 0;
    const fileEntries = this.ctx.entriesPerFile;
    while (this.postedUpTo < this.maxOffsetValue) {
      const idx = this.postedUpTo;
      const fileStart = idx - (idx % fileEntries);
      const file = this.files.findOrCreate(fileStart);
      const count = Math.min(this.maxOffsetValue - idx, fileStart + fileEntries - idx);
      const len = count * CQ_ENTRY_SIZE;
      writer.write(
        this,
        file,
        (idx - fileStart) * CQ_ENTRY_SIZE,
        this.buf!,
        (idx - this.bufStart) * CQ_ENTRY_SIZE,
        len,
        idx + count,
      );
      this.postedUpTo += count;
      posted += len;
    }
    return posted;
  }

  /** The writer thread wrote this queue's entries below `upTo`. */
  ackWritten(upTo: number): void {
    if (upTo > this.writtenUpTo) this.writtenUpTo = Math.min(upTo, this.maxOffsetValue);
  }

  /** A batch with entries of this queue failed: they are posted again by a later pass. */
  postFailed(): void {
    this.postedUpTo = this.writtenUpTo;
    if (this.postedUpTo < this.maxOffsetValue && !this.inDirtySet) this.ctx.markDirty(this);
  }

  /**
   * Ends an idle-check period: true when everything is written and nothing was appended since
   * the previous call, i.e. the buffer may be dropped (reads then go to the files).
   */
  endIdlePeriod(): boolean {
    const idle = this.buf !== null && !this.hasUnwritten && this.appendsSinceFlush === 0;
    this.appendsSinceFlush = 0;
    return idle;
  }

  /** Drops the buffer (everything in it must be written). */
  releaseBuffer(): void {
    invariant(!this.hasUnwritten, 'CQ buffer released with unwritten entries');
    this.dropBuffer();
    this.bufStart = this.maxOffsetValue;
  }

  /** Appends to `out` the paths of files written since the last sync and clears their flag. */
  takeUnsynced(out: string[]): void {
    this.files.takeUnsynced(out);
  }

  /** fsyncs the files written since the last sync. */
  sync(): void {
    this.files.sync();
  }

  /** Reads entry `queueOffset` into the module scratch; false when absent. */
  private readEntryInto(queueOffset: number): boolean {
    return this.readEntries(queueOffset, 1, scratch) === 1;
  }

  /**
   * Copies up to `maxCount` entries starting at `queueOffset` into `out` (20 bytes each) and
   * returns how many were copied: 0 when the offset is outside [min file start, max offset) or
   * its file is gone. Stops at a file boundary; call again for more.
   */
  readEntries(queueOffset: number, maxCount: number, out: Uint8Array): number {
    if (queueOffset >= this.maxOffsetValue || queueOffset < 0 || maxCount <= 0) return 0;
    const limit = Math.min(maxCount, Math.floor(out.length / CQ_ENTRY_SIZE));
    if (this.buf !== null && queueOffset >= this.bufStart) {
      const count = Math.min(limit, this.maxOffsetValue - queueOffset);
      const from = (queueOffset - this.bufStart) * CQ_ENTRY_SIZE;
      out.set(this.buf.subarray(from, from + count * CQ_ENTRY_SIZE), 0);
      return count;
    }
    const fileEntries = this.ctx.entriesPerFile;
    const fileStart = queueOffset - (queueOffset % fileEntries);
    const file = this.files.find(fileStart);
    if (file === undefined) return 0;
    const end = Math.min(this.writtenUpTo, fileStart + file.lengthBytes / CQ_ENTRY_SIZE);
    const count = Math.min(limit, end - queueOffset);
    if (count <= 0) return 0;
    const bytes = count * CQ_ENTRY_SIZE;
    const n = this.files.read(file, out, bytes, (queueOffset - fileStart) * CQ_ENTRY_SIZE);
    return Math.floor(n / CQ_ENTRY_SIZE);
  }

  /** Fills `out` with entry `queueOffset`; false when there is none. */
  entryAt(queueOffset: number, out: CqEntry): boolean {
    if (!this.readEntryInto(queueOffset)) return false;
    out.phyOffset = cqPhyOffset(scratchView, 0);
    out.sizeBytes = cqSizeBytes(scratchView, 0);
    out.tagsCode = cqTagsCode(scratchView, 0);
    return true;
  }

  /**
   * First queue offset in [min, max) whose message was stored at or after `timestampMs`, or max
   * when none. `storeTimeOf` reads a record's store time from the log (-1 when unreadable).
   */
  offsetByTime(
    timestampMs: number,
    storeTimeOf: (phyOffset: number, sizeBytes: number) => number,
  ): number {
    return firstOffsetStoredFrom(
      this,
      this.minOffset,
      this.maxOffsetValue,
      timestampMs,
      storeTimeOf,
    );
  }

  /**
   * Drops entries that point at or past `logEndOffset` (the CommitLog was cut there). Returns
   * the number of entries removed.
   */
  truncateFrom(logEndOffset: number): number {
    if (this.lastPhyOffset < logEndOffset) return 0;
    // Entries are ordered by phyOffset (fillers aside): find the first one at/after the end.
    let lo = Math.max(0, this.files.first?.startIndex ?? 0);
    let hi = this.maxOffsetValue;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      let keep = true;
      if (this.readEntryInto(mid)) {
        const size = cqSizeBytes(scratchView, 0);
        keep = size === BLANK_ENTRY_SIZE || cqPhyOffset(scratchView, 0) < logEndOffset;
      }
      if (keep) lo = mid + 1;
      else hi = mid;
    }
    return this.truncateToOffset(lo);
  }

  /**
   * After a machine crash: drops the entries written after the last fsync below `syncedOffset`
   * (see {@link syncedEnd}); the dispatcher writes them again. Returns entries removed.
   */
  cutUnsynced(syncedOffset: number): number {
    const lo = this.files.first?.startIndex ?? this.maxOffsetValue;
    return this.truncateToOffset(syncedEnd(this, lo, this.maxOffsetValue, syncedOffset));
  }

  /** Cuts the queue so that `newMax` becomes its max offset. */
  private truncateToOffset(newMax: number): number {
    const removed = this.maxOffsetValue - newMax;
    if (removed <= 0) return 0;
    this.maxOffsetValue = newMax;
    if (this.writtenUpTo > newMax) this.writtenUpTo = newMax;
    if (this.postedUpTo > newMax) this.postedUpTo = newMax;
    if (this.bufStart > newMax) {
      this.dropBuffer();
      this.bufStart = newMax;
    }
    for (let last = this.files.last; last !== undefined; last = this.files.last) {
      if (last.startIndex >= newMax && this.files.count > 1) {
        this.files.removeLast();
        continue;
      }
      const keepBytes = Math.max(0, (newMax - last.startIndex) * CQ_ENTRY_SIZE);
      if (keepBytes < last.lengthBytes) this.files.truncate(last, keepBytes);
      break;
    }
    if (this.minOffsetValue > newMax) this.minOffsetValue = newMax;
    this.lastPhyOffset = -1;
    for (let i = newMax - 1; i >= this.minOffsetValue && i >= newMax - 1024; i--) {
      if (!this.readEntryInto(i)) break;
      if (cqSizeBytes(scratchView, 0) !== BLANK_ENTRY_SIZE) {
        this.lastPhyOffset = cqPhyOffset(scratchView, 0);
        break;
      }
    }
    return removed;
  }

  /**
   * Deletes whole files whose entries all point below `logMinOffset` (never the last file).
   * Returns the number of files deleted.
   */
  deleteExpiredFiles(logMinOffset: number): number {
    let deleted = 0;
    for (let first = this.files.first; first !== undefined && this.files.count > 1;) {
      const entries = first.lengthBytes / CQ_ENTRY_SIZE;
      if (entries === 0) break;
      this.files.readEntry(first, entries - 1, scratch);
      const size = cqSizeBytes(scratchView, 0);
      const phy = cqPhyOffset(scratchView, 0);
      if (size !== BLANK_ENTRY_SIZE && phy + size > logMinOffset) break;
      this.files.removeFirst();
      deleted++;
      first = this.files.first;
    }
    if (deleted > 0) this.minCorrectedFor = -1;
    return deleted;
  }

  /** Closes the queue's descriptors (the buffer must have been flushed). */
  close(): void {
    this.files.close();
  }

  /** Closes and deletes the queue's folder. */
  destroy(): void {
    this.files.clear();
    this.dropBuffer();
    this.maxOffsetValue = 0;
    this.minOffsetValue = 0;
    this.writtenUpTo = 0;
    this.postedUpTo = 0;
    this.bufStart = 0;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Number of files (for tests and stats). */
  get fileCount(): number {
    return this.files.count;
  }
}
