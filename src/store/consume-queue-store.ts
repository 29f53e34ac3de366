/**
 * Every ConsumeQueue of a store: lookup by topic+queue, loading at startup, the periodic flusher
 * that writes the queues' buffers in time-boxed slices, truncation after CommitLog recovery and
 * cleanup that follows the CommitLog's min offset.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CQ_ENTRY_SIZE } from './consume-queue-entry.js';
import { FdCache } from './consume-queue-fd-cache.js';
import { ConsumeQueue, type ConsumeQueueContext } from './consume-queue.js';
import { ConsumeQueueWriter } from './consume-queue-writer.js';
import { nativeAvailable, syncfsAsync } from './io/native.js';

/** Options of a {@link ConsumeQueueStore}. */
export interface ConsumeQueueStoreOptions {
  /** The store root; queues live under `<storePath>/consumequeue/`. */
  storePath: string;
  entriesPerFile: number;
  /** Most ConsumeQueue file descriptors open at once (default 1024). */
  maxOpenFiles?: number;
  /** Entries of a fresh per-queue write buffer (default 16). */
  initialBufferEntries?: number;
  /** Largest per-queue write buffer, in entries (default 512). */
  maxBufferEntries?: number;
  /**
   * Bytes the queues' write buffers may hold in all (default
   * {@link DEFAULT_BUFFER_BUDGET_BYTES}). Within it buffers keep written entries and idle
   * queues keep their buffers, so reads of recent entries need no descriptor and no file read;
   * above it written entries are dropped and idle buffers released, the buffers of the queues
   * flushed longest ago first. Unwritten entries are always kept.
   */
  bufferBudgetBytes?: number;
  /**
   * Write the files on a writer thread (default false): the flusher then only copies entries
   * into a batch, and opening/creating/writing thousands of files costs the JS thread nothing.
   */
  writeThread?: boolean;
}

/**
 * Lazy writing (many queues): a dirty queue with fewer unwritten entries than this is left in
 * memory by a lazy flush pass, unless it has waited {@link LAZY_MAX_ROUNDS} passes. With
 * 80,000 queues one write per queue per second (plus a descriptor open/close once they no
 * longer fit the cache) costs more CPU than the appends themselves.
 */
export const LAZY_MIN_ENTRIES = 64;
/**
 * Flush passes a queue's entries may wait in memory during lazy writing. A queue without a file
 * yet does not wait: its file is created in the first pass after its first entry, when its
 * traffic starts, not in a burst of thousands of creations seconds later (measured: 1,000 files
 * created in one writer batch took 0.8 s and raised the sync-flush p99 of the puts meanwhile
 * from ~2.5 to ~5.5 ms).
 */
export const LAZY_MAX_ROUNDS = 5;
/**
 * From this many files to fsync on, one syncfs(2) of the file system replaces them (an fsync
 * costs ~0.2 ms here; 80,000 queues took ~17 s of thread-pool time per thorough flush).
 */
export const SYNCFS_MIN_FILES = 64;
/**
 * New ConsumeQueue files after which the store's next periodic flush syncs the ConsumeQueues
 * (and with them the file system, see {@link SYNCFS_MIN_FILES}) instead of waiting for the
 * thorough interval. Creating 10,000 queues (each a file in two new folders) left ~150 MB dirty
 * here, which the kernel wrote back in one burst ~25 s later; a sync-flush put that met that
 * burst waited 70-190 ms for its own few kilobytes.
 */
export const EARLY_SYNC_MIN_NEW_FILES = 1_000;
/**
 * Default for {@link ConsumeQueueStoreOptions.bufferBudgetBytes}: 10,000 queues with a few
 * hundred recent entries each, or 6,500 full 512-entry buffers.
 */
export const DEFAULT_BUFFER_BUDGET_BYTES = 64 * 1024 * 1024;

/** All ConsumeQueues of one store. */
export class ConsumeQueueStore {
  readonly rootDir: string;
  private readonly ctx: ConsumeQueueContext;
  private readonly tables = new Map<string, ConsumeQueue[]>();
  private dirty: ConsumeQueue[] = [];
  /** Queues a lazy pass left dirty; they become the dirty list when the pass ends. */
  private deferred: ConsumeQueue[] = [];
  /** Where the current flush pass resumes in `dirty`. */
  private cursor = 0;
  /** Completed flush passes. */
  private round = 0;
  /** `ctx.filesCreated` when the last {@link syncAllAsync} began. */
  private filesCreatedAtSync = 0;
  private floor = -1;
  private gen = 0;
  /** Queues that may hold a write buffer, least recently flushed first. */
  private readonly touched = new Set<ConsumeQueue>();

  constructor(options: ConsumeQueueStoreOptions) {
    this.rootDir = path.join(options.storePath, 'consumequeue');
    const dirty = (q: ConsumeQueue): void => {
      q.inDirtySet = true;
      q.dirtyRound = this.round;
      this.dirty.push(q);
    };
    this.ctx = {
      rootDir: this.rootDir,
      entriesPerFile: options.entriesPerFile,
      fdCache: new FdCache(options.maxOpenFiles ?? 1024),
      writer:
        options.writeThread === true ? new ConsumeQueueWriter(options.maxOpenFiles ?? 1024) : null,
      initialBufferEntries: options.initialBufferEntries ?? 16,
      maxBufferEntries: Math.max(
        options.initialBufferEntries ?? 16,
        options.maxBufferEntries ?? 512,
      ),
      bufferBudgetBytes: options.bufferBudgetBytes ?? DEFAULT_BUFFER_BUDGET_BYTES,
      bufferBytes: 0,
      logMinOffset: 0,
      markDirty: dirty,
      filesCreated: 0,
    };
  }

  /** The shared descriptor cache (stats, tests). */
  get fdCache(): FdCache {
    return this.ctx.fdCache;
  }

  /** Loads every queue found on disk (and recovers each queue's tail). */
  load(): void {
    fs.mkdirSync(this.rootDir, { recursive: true });
    for (const topic of fs.readdirSync(this.rootDir)) {
      const topicDir = path.join(this.rootDir, topic);
      if (!fs.statSync(topicDir).isDirectory()) continue;
      for (const q of fs.readdirSync(topicDir)) {
        if (!/^\d+$/.test(q)) continue;
        // An empty folder holds no queue (e.g. created just as its topic was deleted).
        if (fs.readdirSync(path.join(topicDir, q)).length === 0) continue;
        const queue = new ConsumeQueue(this.ctx, topic, Number(q));
        queue.load();
        this.register(queue);
      }
    }
  }

  private register(queue: ConsumeQueue): void {
    let arr = this.tables.get(queue.topic);
    if (arr === undefined) {
      arr = [];
      this.tables.set(queue.topic, arr);
    }
    arr[queue.queueId] = queue;
  }

  /** Bumped whenever a topic's queue array is dropped (so cached arrays are refetched). */
  get generation(): number {
    return this.gen;
  }

  /**
   * The live array of a topic's queues by queue id (created empty if missing), for callers that
   * cache it per topic to skip the map lookup per message; refetch when {@link generation}
   * changes.
   */
  queuesOf(topic: string): ConsumeQueue[] {
    let arr = this.tables.get(topic);
    if (arr === undefined) {
      arr = [];
      this.tables.set(topic, arr);
    }
    return arr;
  }

  /** The queue, or undefined when it has never been written. */
  get(topic: string, queueId: number): ConsumeQueue | undefined {
    const arr = this.tables.get(topic);
    return arr === undefined ? undefined : arr[queueId];
  }

  /** The queue, created (empty, no files yet) when missing. */
  /** Folder creations running on the thread pool. */
  private readonly pendingDirs = new Set<Promise<void>>();

  getOrCreate(topic: string, queueId: number): ConsumeQueue {
    let queue = this.get(topic, queueId);
    if (queue === undefined) {
      queue = new ConsumeQueue(this.ctx, topic, queueId);
      this.register(queue);
      this.makeDir(queue);
    }
    return queue;
  }

  /** Creates a new queue's folder on the thread pool; the flush waits for it (or forces it). */
  private makeDir(queue: ConsumeQueue): void {
    const made = fs.promises.mkdir(queue.dir, { recursive: true }).then(
      () => {
        // (For a topic deleted meanwhile an empty folder may stay; load() skips those.)
        if (this.get(queue.topic, queue.queueId) === queue) queue.dirReady = true;
      },
      () => {
        // Left to the flush, which creates the folder synchronously and reports what fails.
      },
    );
    this.pendingDirs.add(made);
    void made.finally(() => this.pendingDirs.delete(made));
  }

  /** Resolves once no folder creation is under way (so none lands after a shutdown). */
  async dirsSettled(): Promise<void> {
    while (this.pendingDirs.size > 0) await Promise.allSettled([...this.pendingDirs]);
  }

  /** Calls `fn` for every queue. */
  forEach(fn: (queue: ConsumeQueue) => void): void {
    for (const arr of this.tables.values()) for (const q of arr) if (q !== undefined) fn(q);
  }

  /** Topic → queue ids. */
  listQueues(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const [topic, arr] of this.tables) {
      const ids: number[] = [];
      for (let i = 0; i < arr.length; i++) if (arr[i] !== undefined) ids.push(i);
      if (ids.length > 0) out.set(topic, ids);
    }
    return out;
  }

  /** Number of queues. */
  get queueCount(): number {
    let n = 0;
    this.forEach(() => n++);
    return n;
  }

  /** Queues with entries not yet written to their files. */
  get dirtyCount(): number {
    return this.dirty.length + this.deferred.length;
  }

  /**
   * Writes the buffers of dirty queues until the pass over them is done or `deadlineMs` (a
   * `performance.now()` value) passes; returns true when the pass is done. A `lazy` pass leaves
   * queues with few entries in memory for a few passes (see {@link LAZY_MIN_ENTRIES}) and those
   * whose folder is still being created; {@link unwrittenFloor} then says from where the log
   * must be re-dispatched after a crash. With a writer thread the entries are handed to it,
   * unless `synchronous`: then they are written here, before this returns.
   */
  flushSome(deadlineMs = Number.POSITIVE_INFINITY, lazy = false, synchronous = false): boolean {
    const list = this.dirty;
    const deferred = this.deferred;
    const w = this.ctx.writer;
    const writer = !synchronous && w !== null && w.alive ? w : null;
    let i = this.cursor;
    for (; i < list.length; i++) {
      const q = list[i];
      const wait =
        lazy &&
        q.hasFile &&
        q.unpostedCount < LAZY_MIN_ENTRIES &&
        this.round - q.dirtyRound < LAZY_MAX_ROUNDS;
      if (wait || (writer !== null ? q.post(writer, !lazy) : q.flush(!lazy)) < 0) {
        deferred.push(q);
      } else {
        q.inDirtySet = false;
        // Re-inserted so that the set stays ordered by last flush.
        this.touched.delete(q);
        this.touched.add(q);
      }
      if ((i & 63) === 63 && performance.now() > deadlineMs) {
        this.cursor = i + 1;
        writer?.send();
        return false;
      }
    }
    writer?.send();
    // Pass done: what was deferred is the dirty list of the next pass.
    this.cursor = 0;
    this.round++;
    list.length = 0;
    this.dirty = deferred;
    this.deferred = list;
    // With a writer thread the floor is known once the thread is done: writesDone() sets it.
    if (writer === null) this.floor = this.lowestUnwritten();
    return true;
  }

  private lowestUnwritten(): number {
    let floor = -1;
    for (const q of this.dirty) {
      const phy = q.firstUnwrittenPhyOffset();
      if (phy >= 0 && (floor < 0 || phy < floor)) floor = phy;
    }
    return floor;
  }

  /**
   * After a completed {@link flushSome} pass (and, with a writer thread, once
   * {@link writesDone} resolved): the lowest CommitLog offset of an entry still only in memory
   * (-1 when every entry is in the files). The checkpoint must not claim more.
   */
  get unwrittenFloor(): number {
    return this.floor;
  }

  /**
   * Resolves once the writer thread has written everything posted so far (at once without
   * one), and refreshes {@link unwrittenFloor}.
   */
  async writesDone(): Promise<void> {
    const writer = this.ctx.writer;
    if (writer === null) return;
    await writer.idle();
    this.floor = this.lowestUnwritten();
  }

  /** The writer thread, if files are written on one (stats, tests). */
  get writer(): ConsumeQueueWriter | null {
    return this.ctx.writer;
  }

  /** Writes every buffered entry to the files. */
  flushAll(): void {
    this.ctx.writer?.drainSync();
    this.cursor = 0;
    for (const q of this.deferred) this.dirty.push(q);
    this.deferred.length = 0;
    // On this thread: callers (shutdown, topic deletion) save a checkpoint claiming it all.
    this.flushSome(Number.POSITIVE_INFINITY, false, true);
  }

  /**
   * Ends an idle period (call once per flush interval): the write buffers of queues that got
   * nothing since the previous call are dropped while all buffers together exceed the budget,
   * least recently flushed first.
   */
  releaseIdleBuffers(): void {
    const ctx = this.ctx;
    for (const q of this.touched) {
      if (q.inDirtySet) continue;
      if (q.endIdlePeriod() && ctx.bufferBytes > ctx.bufferBudgetBytes) q.releaseBuffer();
      if (!q.hasBuffer) this.touched.delete(q);
    }
  }

  /** Bytes held by the queues' write buffers (stats, tests). */
  get bufferBytes(): number {
    return this.ctx.bufferBytes;
  }

  /** fsyncs every file written since the last sync (call after {@link flushAll}). */
  syncAll(): void {
    this.forEach((q) => q.sync());
  }

  /**
   * ConsumeQueue files started since the last {@link syncAllAsync} began. Each new file, and the
   * folders of a new queue, leave page cache and metadata dirty that the kernel otherwise writes
   * back in one burst some 30 s later; see {@link EARLY_SYNC_MIN_NEW_FILES}.
   */
  get filesCreatedSinceSync(): number {
    return this.ctx.filesCreated - this.filesCreatedAtSync;
  }

  /**
   * fsyncs every file written since the last sync on the thread pool (own descriptors, a few at
   * a time), so that thousands of queues do not block the event loop.
   */
  async syncAllAsync(concurrency = 4): Promise<void> {
    this.filesCreatedAtSync = this.ctx.filesCreated;
    await this.ctx.writer?.idle();
    const paths: string[] = [];
    this.forEach((q) => q.takeUnsynced(paths));
    if (paths.length >= SYNCFS_MIN_FILES && nativeAvailable) {
      const dir = await fs.promises.open(this.rootDir, 'r');
      try {
        await syncfsAsync(dir.fd);
      } finally {
        await dir.close();
      }
      return;
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const p = paths[next++];
        let handle: fs.promises.FileHandle | null = null;
        try {
          handle = await fs.promises.open(p, 'r');
          await handle.datasync();
        } catch (err) {
          // A queue deleted meanwhile has nothing left to sync.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        } finally {
          await handle?.close();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  }

  /** Sets the CommitLog's min offset: queues move their min offset past older entries. */
  setLogMinOffset(logMinOffset: number): void {
    this.ctx.logMinOffset = logMinOffset;
  }

  /** Drops entries pointing at or past `logEndOffset` in every queue. Returns entries removed. */
  truncateFrom(logEndOffset: number): number {
    return this.cutEach((q) => q.truncateFrom(logEndOffset));
  }

  /**
   * After a machine crash: in every queue, drops the entries written after the last fsync below
   * `syncedOffset` (see `ConsumeQueue.cutUnsynced`). Returns entries removed.
   */
  cutUnsynced(syncedOffset: number): number {
    return this.cutEach((q) => q.cutUnsynced(syncedOffset));
  }

  /** Cuts every queue once the writer has written what it holds; returns entries removed. */
  private cutEach(cut: (q: ConsumeQueue) => number): number {
    this.ctx.writer?.drainSync();
    let removed = 0;
    this.forEach((q) => {
      removed += cut(q);
    });
    return removed;
  }

  /** The largest CommitLog offset any queue points at (-1 when all are empty). */
  maxPhyOffsetIndexed(): number {
    let max = -1;
    this.forEach((q) => {
      if (q.lastPhyOffset > max) max = q.lastPhyOffset;
    });
    return max;
  }

  /** Deletes queue files wholly below `logMinOffset`. Returns files deleted. */
  deleteExpiredFiles(logMinOffset: number): number {
    // A file must not be deleted while a write to it is on its way (it would come back).
    this.ctx.writer?.drainSync();
    this.setLogMinOffset(logMinOffset);
    let deleted = 0;
    this.forEach((q) => {
      deleted += q.deleteExpiredFiles(logMinOffset);
    });
    return deleted;
  }

  /** Removes a topic's queues and their files. */
  deleteTopic(topic: string): void {
    const arr = this.tables.get(topic);
    if (arr === undefined) return;
    this.ctx.writer?.drainSync();
    this.tables.delete(topic);
    this.gen++;
    for (const q of arr) {
      if (q === undefined) continue;
      q.destroy();
      this.touched.delete(q);
    }
    this.dirty = this.dirty.filter((q) => q.topic !== topic);
    this.deferred = this.deferred.filter((q) => q.topic !== topic);
    this.cursor = 0;
    fs.rmSync(path.join(this.rootDir, topic), { recursive: true, force: true });
  }

  /** Flushes every queue and closes all descriptors. */
  close(): void {
    this.flushAll();
    this.ctx.fdCache.closeAll();
  }

  /** Stops the writer thread (after {@link close}). */
  async closeWriter(): Promise<void> {
    await this.ctx.writer?.close();
  }

  /** Bytes per entry (re-exported for callers sizing scratch buffers). */
  static readonly ENTRY_SIZE = CQ_ENTRY_SIZE;
}
