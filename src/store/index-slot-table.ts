/**
 * The slot table of the active IndexFile, held in process memory and written back to the file's
 * slot region in the background.
 *
 * Keys hash to random slots, so at many topics nearly every put stores into a different 4 KiB
 * page of the 20 MB table. Stored into a shared file mapping, each store into a page the kernel
 * had written back since took a write-protect fault (measured: ~1,600 faults per 3 s in the
 * broker at 10,000 topics and 1,000 sends/s, 16 % of its CPU; 410-950 ns per entry in a put loop
 * against 84-109 with the table in memory). Here stores only set a flag per page, and
 * {@link IndexSlotTable.writeBackAsync} writes the flagged pages with positional writes on the
 * thread pool, adjacent ones merged, one write in flight at a time.
 *
 * The table in the file therefore lags the one in memory. {@link IndexSlotTable.writtenCount}
 * says how far it is complete: every entry below it had its slot (or a newer entry's) in pages
 * that a finished write has put into the file. The IndexFile records that count (once it is
 * also fsynced) in entry 0 (see `index-file-layout.ts`), and after a crash re-links the entries
 * from there. A page written while the event loop stores into it may carry either value of a
 * slot being stored (aligned 4-byte stores; the kernel copies whole words); such a slot belongs
 * to an entry at or past the count of that write, which the re-link covers.
 */
import fs from 'node:fs';
import { invariant } from '../common/errors.js';
import * as native from './io/native.js';
import { readFullySync, writeFullySync } from './io/positional-io.js';

/** Bytes flagged dirty together. */
const PAGE_BYTES = 4096;
const PAGE_SHIFT = 12;
/** Clean pages between two dirty ones that a merged write includes rather than split it. */
const MERGE_GAP_PAGES = 8;
/** The most bytes one write takes (a thread-pool thread copies them in ~1 ms). */
const MAX_WRITE_BYTES = 4 * 1024 * 1024;

/** One IndexFile's slot table while the file takes writes. */
export class IndexSlotTable {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** One flag per page: stored into since its last write began. */
  private readonly dirty: Uint8Array;
  private anyDirty = false;
  /** The write-back round under way, if any. */
  private round: Promise<void> | null = null;
  /** A write of a round that failed; {@link takeError} hands it on once. */
  private error: Error | null = null;
  /** Entries below this count have their slots in the file (see the module comment). */
  writtenCount: number;
  /** The table's warm-up on the thread pool while it runs. */
  private warming: Promise<void> | null = null;

  /**
   * @param fd the IndexFile's descriptor; it must stay open until {@link idle} settles.
   * @param fileOffset where the slot region starts in the file.
   * @param sizeBytes slots × 4.
   * @param writtenCount the count the file's slot region is complete for now.
   */
  constructor(
    private readonly fd: number,
    private readonly fileOffset: number,
    sizeBytes: number,
    writtenCount: number,
  ) {
    this.bytes = new Uint8Array(sizeBytes);
    this.view = new DataView(this.bytes.buffer);
    this.dirty = new Uint8Array(Math.ceil(sizeBytes / PAGE_BYTES));
    this.writtenCount = writtenCount;
  }

  /** Fills the table from the file's slot region. */
  load(): void {
    readFullySync(this.fd, this.bytes, 0, this.bytes.length, this.fileOffset);
  }

  /**
   * Stores into every page of the table on the thread pool (a new table is untouched memory;
   * each first store into a page would otherwise fault on the event loop). A user-space store,
   * not a kernel pre-fault: after `MADV_POPULATE_WRITE` from the pool, the event loop's first
   * stores still cost ~12 µs per page here. No-op without the native addon.
   */
  warm(): void {
    if (!native.nativeAvailable) return;
    // A failed warm-up costs only speed: the puts fault the pages in themselves.
    const warming = native.touchAsync(this.bytes, 0, this.bytes.length).catch(() => undefined);
    this.warming = warming;
    void warming.then(() => {
      if (this.warming === warming) this.warming = null;
    });
  }

  /** Settles once the warm-up started by {@link warm} is done. */
  warmed(): Promise<void> {
    return this.warming ?? Promise.resolve();
  }

  /** Flags the page holding the slot at byte `slotPos` for the next write-back. */
  markDirty(slotPos: number): void {
    this.dirty[slotPos >>> PAGE_SHIFT] = 1;
    this.anyDirty = true;
  }

  /** True while a write-back round runs. */
  get writing(): boolean {
    return this.round !== null;
  }

  /**
   * Starts writing the flagged pages on the thread pool, unless a round is under way (the pages
   * stay flagged for the next one). `count`: the entries whose slots the table holds now; once
   * every write of the round has finished, {@link writtenCount} becomes it.
   */
  writeBackAsync(count: number): void {
    if (this.round !== null || !this.anyDirty) {
      if (this.round === null) this.writtenCount = Math.max(this.writtenCount, count);
      return;
    }
    const runs = this.takeDirtyRuns();
    const round = (async (): Promise<void> => {
      try {
        await this.writeRuns(runs);
        this.writtenCount = Math.max(this.writtenCount, count);
      } catch (err) {
        // The pages of the failed runs are flagged again: the next round retries them.
        this.error = err instanceof Error ? err : new Error(String(err));
      } finally {
        this.round = null;
      }
    })();
    this.round = round;
  }

  /**
   * Writes the whole table now, on the calling thread (a file leaving the active state, a
   * truncation): afterwards the file's slot region equals the table and {@link writtenCount}
   * is `count`. A round still under way writes pages of the same table, so it cannot undo this.
   */
  writeAllSync(count: number): void {
    writeFullySync(this.fd, this.bytes, 0, this.bytes.length, this.fileOffset);
    this.dirty.fill(0);
    this.anyDirty = false;
    this.writtenCount = count;
  }

  /** Settles once no write-back round nor warm-up runs (never rejects). */
  async idle(): Promise<void> {
    while (this.round !== null || this.warming !== null) {
      await this.round;
      await this.warming;
    }
  }

  /** The error of a failed write since the last call, if any (then forgotten). */
  takeError(): Error | null {
    const err = this.error;
    this.error = null;
    return err;
  }

  /** Clears the page flags; returns the flagged ranges as [from, to) byte pairs, merged. */
  private takeDirtyRuns(): number[] {
    const dirty = this.dirty;
    const size = this.bytes.length;
    const runs: number[] = [];
    let runFrom = -1;
    let runTo = -1;
    for (let page = 0; page < dirty.length; page++) {
      if (dirty[page] === 0) continue;
      dirty[page] = 0;
      const from = page * PAGE_BYTES;
      const to = Math.min(size, from + PAGE_BYTES);
      if (runFrom >= 0 && from - runTo <= MERGE_GAP_PAGES * PAGE_BYTES) {
        if (to - runFrom <= MAX_WRITE_BYTES) {
          runTo = to;
          continue;
        }
      }
      if (runFrom >= 0) runs.push(runFrom, runTo);
      runFrom = from;
      runTo = to;
    }
    if (runFrom >= 0) runs.push(runFrom, runTo);
    this.anyDirty = false;
    return runs;
  }

  /** Writes the runs one after the other; a failed run flags its pages and those after it. */
  private async writeRuns(runs: number[]): Promise<void> {
    for (let r = 0; r < runs.length; r += 2) {
      try {
        await this.writeRange(runs[r], runs[r + 1]);
      } catch (err) {
        for (let q = r; q < runs.length; q += 2) this.flagRange(runs[q], runs[q + 1]);
        throw err;
      }
    }
  }

  private flagRange(from: number, to: number): void {
    for (let p = from >>> PAGE_SHIFT; p << PAGE_SHIFT < to; p++) this.dirty[p] = 1;
    this.anyDirty = true;
  }

  private writeRange(from: number, to: number): Promise<void> {
    invariant(from < to && to <= this.bytes.length, 'a slot write-back outside the table');
    return new Promise((resolve, reject) => {
      const step = (at: number): void => {
        fs.write(this.fd, this.bytes, at, to - at, this.fileOffset + at, (err, n) => {
          if (err !== null) reject(err);
          else if (at + n < to) step(at + n);
          else resolve();
        });
      };
      step(from);
    });
  }
}
