/**
 * The message-key index: a chain of {@link IndexFile}s under `<storePath>/index/`. The dispatcher
 * adds one entry per `UNIQ_KEY` and per space-separated `KEYS` entry (key = `topic#key`);
 * queries walk the files newest first. Only hashes are stored, so a query returns candidates that
 * the caller must check against the records (hash collisions, entries of a cut log tail).
 */
import fs from 'node:fs';
import path from 'node:path';
import { indexKeyHash, javaStringHashCode } from '../common/java-hash.js';
import { IndexFile, type IndexWriteMode } from './index-file.js';
import type { IndexFileSizes } from './index-file-layout.js';
import { nativeAvailable } from './io/native.js';

/** Entries queued before {@link IndexService.drain} stores them. */
const PUT_BATCH = 128;

/** Options of an {@link IndexService}. */
export interface IndexServiceOptions {
  storePath: string;
  sizes: IndexFileSizes;
  /**
   * How the active file takes entries and header; default 'mapped' when the native addon is
   * there, whatever the CommitLog's backend (buffered, the periodic flush writes them on the
   * event loop). The slot table is in memory either way (see `index-slot-table.ts`).
   */
  writeMode?: IndexWriteMode;
  /** Clock for file names (tests). */
  now?: () => number;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `yyyyMMddHHmmssSSS` of a local time, like RocketMQ's index file names. */
export function indexFileName(timeMs: number): string {
  const d = new Date(timeMs);
  return (
    pad(d.getFullYear(), 4) +
    pad(d.getMonth() + 1, 2) +
    pad(d.getDate(), 2) +
    pad(d.getHours(), 2) +
    pad(d.getMinutes(), 2) +
    pad(d.getSeconds(), 2) +
    pad(d.getMilliseconds(), 3)
  );
}

/** The hash under which `key` of `topic` is indexed. */
export function indexKeyHashOf(topic: string, key: string): number {
  return indexKeyHash(javaStringHashCode(`${topic}#${key}`));
}

/** All IndexFiles of a store. */
export class IndexService {
  readonly dir: string;
  private readonly files: IndexFile[] = [];
  private readonly now: () => number;
  private readonly mode: IndexWriteMode;
  /**
   * The newest indexed record when the files were opened (or cut back): its keys may be indexed
   * only in part (they can straddle a file roll, and a crash can take the new file's entries),
   * so it is indexed again, without the keys it already has. -1: none.
   */
  private reindexPhyOffset = -1;
  /**
   * Entries {@link put} queued and {@link drain} has not stored yet. Storing an entry reads and
   * writes one random slot of the 20 MB slot table: a cache miss (and a TLB miss) each. Stored one
   * at a time between the other work of a dispatch, the misses come one after the other; a
   * batch first reads all its slots in one tight loop, where the CPU overlaps the misses.
   */
  private readonly queuedHash = new Int32Array(PUT_BATCH);
  private readonly queuedPhy = new Float64Array(PUT_BATCH);
  private readonly queuedTs = new Float64Array(PUT_BATCH);
  private queued = 0;
  /** Phy offset of the newest record with an entry queued or stored (-1: none). */
  private lastPutPhy = -1;
  /** Files filled (and no longer active) since the last {@link syncAsync}: it fsyncs them. */
  private filledUnsynced: IndexFile[] = [];

  constructor(private readonly options: IndexServiceOptions) {
    this.dir = path.join(options.storePath, 'index');
    this.now = options.now ?? Date.now;
    this.mode = options.writeMode ?? (nativeAvailable ? 'mapped' : 'buffered');
  }

  /** Opens the existing files; the last one that is not full takes further writes. */
  load(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const names = fs
      .readdirSync(this.dir)
      .filter((n) => /^\d{17}(-\d+)?$/.test(n))
      .sort();
    for (const name of names) {
      const file = path.join(this.dir, name);
      // Zero bytes: a crash between creating the file and sizing it; it holds no entry.
      if (fs.statSync(file).size === 0) {
        fs.rmSync(file, { force: true });
        continue;
      }
      this.files.push(IndexFile.open(file, this.options.sizes, this.mode));
    }
    // Files that were taking writes when the process died: their slot regions lack the newest
    // entries until these are linked again (the last file keeps taking writes).
    this.files.forEach((f, i) => {
      if (!f.needsRelink) return;
      f.activate();
      if (i < this.files.length - 1 || f.isFull) f.deactivate();
    });
    this.reindexPhyOffset = this.endPhyOffset;
    this.lastPutPhy = this.reindexPhyOffset;
  }

  /** Number of files. */
  get fileCount(): number {
    this.drain();
    return this.files.length;
  }

  /** Phy offset of the newest indexed record (-1 when none). */
  get endPhyOffset(): number {
    this.drain();
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i];
      if (f.indexCount > 1) return f.endPhyOffset;
    }
    return -1;
  }

  /** Store time of the newest indexed record (0 when none). */
  get endTimestamp(): number {
    this.drain();
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i];
      if (f.indexCount > 1) return f.endTimestamp;
    }
    return 0;
  }

  /** The file taking writes (created or activated on demand). */
  private writable(): IndexFile {
    const last = this.files[this.files.length - 1];
    if (last !== undefined && !last.isFull) {
      if (!last.isActive) last.activate();
      return last;
    }
    if (last !== undefined) {
      last.deactivate();
      this.filledUnsynced.push(last);
    }
    let t = this.now();
    let name = indexFileName(t);
    while (fs.existsSync(path.join(this.dir, name)) || this.nameTaken(name)) {
      t += 1;
      name = indexFileName(t);
    }
    const file = IndexFile.create(path.join(this.dir, name), this.options.sizes, this.mode);
    this.files.push(file);
    return file;
  }

  private nameTaken(name: string): boolean {
    const last = this.files[this.files.length - 1];
    return last !== undefined && path.basename(last.path) >= name;
  }

  /**
   * Whether a record at `phyOffset` still needs indexing: records below the newest indexed
   * offset were indexed before (redispatch after a restart); the newest one as found at open may
   * be indexed in part, and is indexed again (see {@link put}).
   */
  needsIndex(phyOffset: number): boolean {
    return phyOffset > this.lastPutPhy || phyOffset === this.reindexPhyOffset;
  }

  /**
   * Adds one key entry (`keyHash` from {@link indexKeyHash}). It may be queued: every other
   * method stores the queued entries first, and so does {@link drain}, which the dispatcher
   * calls at the end of each run.
   */
  put(keyHash: number, phyOffset: number, storeTimestamp: number): void {
    if (phyOffset === this.reindexPhyOffset) {
      // Indexed in part before the files were opened: skip the keys it has (queued ones too).
      this.drain();
      if (this.hasEntry(keyHash, phyOffset)) return;
    }
    // A full queue is stored first; when that fails, this entry is not taken either (the
    // dispatcher retries the record).
    if (this.queued === PUT_BATCH) this.drain();
    const n = this.queued;
    this.queuedHash[n] = keyHash;
    this.queuedPhy[n] = phyOffset;
    this.queuedTs[n] = storeTimestamp;
    this.queued = n + 1;
    this.lastPutPhy = phyOffset;
  }

  /** Stores the queued entries; those it could not store (it threw) stay queued. */
  drain(): void {
    const count = this.queued;
    if (count === 0) return;
    let from = 0;
    try {
      while (from < count) {
        from = this.writable().putBatch(
          this.queuedHash,
          this.queuedPhy,
          this.queuedTs,
          from,
          count,
        );
      }
    } finally {
      if (from > 0 && from < count) {
        this.queuedHash.copyWithin(0, from, count);
        this.queuedPhy.copyWithin(0, from, count);
        this.queuedTs.copyWithin(0, from, count);
      }
      this.queued = count - from;
    }
  }

  /**
   * Physical offsets of candidates for `key` of `topic` stored within [beginMs, endMs], newest
   * first, at most `maxCount`. Candidates may be false positives: check the records.
   */
  query(topic: string, key: string, maxCount: number, beginMs: number, endMs: number): number[] {
    this.drain();
    const out: number[] = [];
    const hash = indexKeyHashOf(topic, key);
    for (let i = this.files.length - 1; i >= 0 && out.length < maxCount; i--) {
      const f = this.files[i];
      if (f.indexCount <= 1) continue;
      if (f.beginTimestamp > endMs + 999 || f.endTimestamp < beginMs - 999) continue;
      f.query(hash, beginMs, endMs, maxCount, out);
    }
    return out;
  }

  /**
   * Writes buffered entries and the header of the active file, and starts writing its slot
   * pages on the thread pool.
   */
  flush(): void {
    this.drain();
    const last = this.files[this.files.length - 1];
    if (last !== undefined && last.isActive) last.flush();
  }

  /** Settles once the active file's slot write-back (started by {@link flush}) is done. */
  async idle(): Promise<void> {
    const last = this.files[this.files.length - 1];
    if (last !== undefined) await last.idle();
  }

  /**
   * fsyncs on the thread pool the active file and the files that were filled since the last
   * call: once it resolves, the entries of every record put before it are on disk.
   */
  async syncAsync(): Promise<void> {
    this.drain();
    const filled = this.filledUnsynced;
    this.filledUnsynced = [];
    try {
      for (const f of filled) if (this.files.includes(f)) await f.syncAsync();
    } catch (err) {
      this.filledUnsynced.push(...filled);
      throw err;
    }
    const last = this.files[this.files.length - 1];
    if (last !== undefined && last.isActive) await last.syncAsync();
  }

  /**
   * Forgets entries pointing at or past `logEndOffset` (after the CommitLog was cut): files that
   * begin past it are deleted, the last remaining one is rolled back entry by entry.
   */
  truncateFrom(logEndOffset: number): number {
    return this.cutBack(logEndOffset, (last) => {
      if (last.endPhyOffset < logEndOffset) return 0;
      last.activate();
      return last.truncateFrom(logEndOffset);
    });
  }

  /**
   * After a machine crash: keeps only entries known to be on disk, those of records below
   * `syncedOffset` (below it every file was fsynced, see {@link syncAsync}); the records from
   * there on are indexed again. Files that begin at or past it are deleted; the last one left is
   * cut back (see `IndexFile.cutUnsynced`). Returns entries removed.
   */
  cutUnsynced(syncedOffset: number): number {
    return this.cutBack(syncedOffset, (last) => {
      last.activate();
      return last.cutUnsynced(syncedOffset);
    });
  }

  /**
   * Deletes the newest files while they are empty or begin at or past `offset`, then has
   * `cutLast` cut the newest one left that holds entries; the newest record indexed after that
   * is indexed again (see {@link reindexPhyOffset}). Returns entries removed.
   */
  private cutBack(offset: number, cutLast: (last: IndexFile) => number): number {
    this.drain();
    let removed = 0;
    while (this.files.length > 0) {
      const last = this.files[this.files.length - 1];
      if (last.indexCount <= 1 && this.files.length > 1) {
        // An empty newest file (a crash right after a roll): the entries to cut, if any, are in
        // the file before it, and leaving them would make needsIndex() skip the log's new tail.
        last.destroy();
        this.files.pop();
        continue;
      }
      if (last.indexCount > 1 && last.beginPhyOffset >= offset) {
        removed += last.indexCount - 1;
        last.destroy();
        this.files.pop();
        continue;
      }
      if (last.indexCount > 1) removed += cutLast(last);
      break;
    }
    this.reindexPhyOffset = this.endPhyOffset;
    this.lastPutPhy = this.reindexPhyOffset;
    return removed;
  }

  /** True when one of the two newest files has the entry (a record's keys span at most both). */
  private hasEntry(keyHash: number, phyOffset: number): boolean {
    const files = this.files;
    for (let i = files.length - 1; i >= 0 && i >= files.length - 2; i--) {
      if (files[i].indexCount > 1 && files[i].hasEntry(keyHash, phyOffset)) return true;
    }
    return false;
  }

  /** Deletes files whose entries all point below `logMinOffset` (never the last). */
  deleteExpiredFiles(logMinOffset: number): number {
    this.drain();
    let deleted = 0;
    while (this.files.length > 1) {
      const first = this.files[0];
      if (first.indexCount > 1 && first.endPhyOffset >= logMinOffset) break;
      first.destroy();
      this.files.shift();
      deleted++;
    }
    return deleted;
  }

  /** Flushes and closes every file. */
  close(): void {
    this.drain();
    for (const f of this.files) f.close();
  }
}
