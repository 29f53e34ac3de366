/**
 * One IndexFile (RocketMQ's hash index of message keys), under `<storePath>/index/`, named by its
 * creation time `yyyyMMddHHmmssSSS`; its byte layout is in `index-file-layout.ts`.
 *
 * While the last file takes writes ("active"), its slot table lives in process memory
 * (`index-slot-table.ts`): stores into it are plain memory stores, and the periodic flush writes
 * the pages stored into back to the file on the thread pool. Entries and header go one of two
 * ways. Mapped (the default with the native addon): the file is mapped shared and they are
 * stored in place, so the event loop makes no write system call for them. Buffered: the newest
 * entries wait in a buffer, and the flush writes them and the header with positional writes.
 * Entry 0 records how far the slot region on disk is complete; opening a file that was active
 * when the process died links the entries past that point into the slots again
 * (`index-file-repair.ts`). Full files are read with `pread` only; queries walk the chains as
 * `index-file-chains.ts` does.
 */
import fs from 'node:fs';
import { SluiceError, invariant } from '../common/errors.js';
import { writeInt64 } from '../common/codec/int64.js';
import { readInt64 } from './consume-queue-entry.js';
import {
  SLOT_MARK_BYTES,
  encodeSlotMark,
  readSlotMark,
  isLostEntry,
  rebuildSlots,
  relinkEntries,
  repairSlots,
} from './index-file-repair.js';
import { IndexFileChains, MAX_PENDING_ENTRIES } from './index-file-chains.js';
import { IndexSlotTable } from './index-slot-table.js';
import { writeFullySync } from './io/positional-io.js';
import {
  ENTRY_KEY_HASH,
  ENTRY_PHY_OFFSET,
  ENTRY_PREV_INDEX,
  ENTRY_TIME_DIFF,
  HEADER_BEGIN_PHY_OFFSET,
  HEADER_BEGIN_TIMESTAMP,
  HEADER_END_PHY_OFFSET,
  HEADER_END_TIMESTAMP,
  HEADER_HASH_SLOT_COUNT,
  HEADER_INDEX_COUNT,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER_SIZE,
  INDEX_SLOT_SIZE,
  indexFileSizeBytes,
  type IndexFileSizes,
} from './index-file-layout.js';
import * as native from './io/native.js';

const INT_MAX = 0x7fffffff;

/** How the active file takes writes (see the module comment). */
export type IndexWriteMode = 'mapped' | 'buffered';

/** Where {@link IndexFile.putBatch} leaves what its slot reads found, so that they are kept. */
let _slotReadSink = 0;

/** One IndexFile. */
export class IndexFile extends IndexFileChains {
  private pendingView: DataView | null = null;
  private headerDirty = false;
  /** The whole file, mapped, while active in 'mapped' mode. */
  private mapping: ArrayBuffer | null = null;
  /** The header in the mapping. */
  private headerView: DataView | null = null;
  /**
   * Entry 0's linked count as the file holds it: the slot region is complete for the entries
   * below it. -1: entry 0 holds no mark (a file written with the slots in place), so the slot
   * region is complete.
   */
  private linkedMark = -1;
  /** A retired slot table's write-backs still under way (the descriptor stays open for them). */
  private retiring: Promise<void> | null = null;

  private constructor(
    readonly path: string,
    sizes: IndexFileSizes,
    fd: number,
    private readonly mode: IndexWriteMode,
  ) {
    super(sizes, fd);
  }

  /** Creates a new, empty, active file (sparse, full size). */
  static create(path: string, sizes: IndexFileSizes, mode: IndexWriteMode): IndexFile {
    const fd = fs.openSync(path, 'wx+', 0o644);
    fs.ftruncateSync(fd, indexFileSizeBytes(sizes));
    const file = new IndexFile(path, sizes, fd, mode);
    file.headerDirty = true;
    file.activate(false);
    return file;
  }

  /** Opens an existing file (read-only use until {@link activate}). */
  static open(path: string, sizes: IndexFileSizes, mode: IndexWriteMode): IndexFile {
    const fd = fs.openSync(path, 'r+');
    const size = fs.fstatSync(fd).size;
    if (size !== indexFileSizeBytes(sizes)) {
      fs.closeSync(fd);
      throw new SluiceError(
        'STORE_CORRUPT',
        `IndexFile ${path} has ${size} bytes, expected ${indexFileSizeBytes(sizes)} (indexMaxHashSlots/indexMaxEntries changed?); delete it, the index is rebuilt only for new messages`,
      );
    }
    const file = new IndexFile(path, sizes, fd, mode);
    const header = new Uint8Array(INDEX_HEADER_SIZE);
    fs.readSync(fd, header, 0, INDEX_HEADER_SIZE, 0);
    const hv = new DataView(header.buffer);
    file.beginTimestamp = readInt64(hv, HEADER_BEGIN_TIMESTAMP, 'IndexFile beginTimestamp');
    file.endTimestamp = readInt64(hv, HEADER_END_TIMESTAMP, 'IndexFile endTimestamp');
    file.beginPhyOffset = readInt64(hv, HEADER_BEGIN_PHY_OFFSET, 'IndexFile beginPhyOffset');
    file.endPhyOffset = readInt64(hv, HEADER_END_PHY_OFFSET, 'IndexFile endPhyOffset');
    file.hashSlotCount = hv.getInt32(HEADER_HASH_SLOT_COUNT, false);
    const count = hv.getInt32(HEADER_INDEX_COUNT, false);
    file.indexCount = count >= 1 && count <= sizes.maxEntries ? count : 1;
    file.pendingFirst = file.indexCount;
    file.linkedMark = readSlotMark(fd, file.entriesStart, file.indexCount);
    return file;
  }

  /**
   * True when the slot region on disk lacks entries (the file was active when the process
   * died): {@link activate} links them again, and until then queries could miss them.
   */
  get needsRelink(): boolean {
    return this.linkedMark >= 0 && this.linkedMark < this.indexCount;
  }

  /** True once no more entries fit. */
  get isFull(): boolean {
    return this.indexCount >= this.sizes.maxEntries;
  }

  /** True while the slot table is held in memory (the file takes writes). */
  get isActive(): boolean {
    return this.slotTable !== null;
  }

  /**
   * Makes the file take writes: loads the slot table into memory (repairing it after a crash),
   * and maps the file ('mapped'). `readFromDisk` false: a file just created, all zeros.
   */
  activate(readFromDisk = true): void {
    if (this.slotTable !== null) return;
    const bytes = this.sizes.hashSlots * INDEX_SLOT_SIZE;
    const written = this.linkedMark >= 0 ? this.linkedMark : this.indexCount;
    const table = new IndexSlotTable(this.fd, INDEX_HEADER_SIZE, bytes, written);
    if (this.mode === 'mapped') {
      const size = indexFileSizeBytes(this.sizes);
      // Blocks first (see allocateIfSparse).
      const blocks = fs.fstatSync(this.fd).blocks;
      try {
        native.allocateIfSparse(this.fd, size, blocks);
      } catch (err) {
        throw new SluiceError(
          'DISK_FULL',
          `no space left on the disk for IndexFile ${this.path} (${size} bytes): free disk space or lower indexMaxEntries`,
          { cause: err },
        );
      }
      const mapping = native.map(this.fd, size, 0);
      this.mapping = mapping;
      this.headerView = new DataView(mapping, 0, INDEX_HEADER_SIZE);
      // Entries are stored in place: `pending` is the whole entry region, entry n at n × 20.
      const entryBytes = this.sizes.maxEntries * INDEX_ENTRY_SIZE;
      this.pending = new Uint8Array(mapping, this.entriesStart, entryBytes);
      this.pendingView = new DataView(mapping, this.entriesStart, entryBytes);
      this.pendingFirst = 0;
    } else {
      this.pendingFirst = this.indexCount;
    }
    this.slotTable = table;
    // A file just created holds only zeros: reading its slot table would block the put that
    // creates the file (~95 ms measured for 20 MB).
    if (readFromDisk) {
      table.load();
      repairSlots(table, this.indexCount, (index) => this.chainHead(index));
      relinkEntries(
        table,
        this.fd,
        this.entriesStart,
        this.sizes.hashSlots,
        written,
        this.indexCount,
      );
    }
    // A full file takes no puts (it is activated only to be repaired, then closed).
    if (!this.isFull) table.warm();
    // From here on the slot region may lag the table: entry 0 says how far it is complete.
    if (this.linkedMark < 0) this.writeMark(written);
  }

  /**
   * Records in entry 0 that the slot region is complete for the entries below `linkedCount`
   * (mapped: stored into the mapping; buffered: written now).
   */
  private writeMark(linkedCount: number): void {
    if (this.mapping !== null) {
      encodeSlotMark(new DataView(this.mapping, this.entriesStart, SLOT_MARK_BYTES), linkedCount);
    } else {
      const mark = new Uint8Array(SLOT_MARK_BYTES);
      encodeSlotMark(new DataView(mark.buffer), linkedCount);
      writeFullySync(this.fd, mark, 0, SLOT_MARK_BYTES, this.entriesStart);
    }
    this.linkedMark = linkedCount;
  }

  /** Settles once no slot write-back nor warm-up runs. */
  idle(): Promise<void> {
    return this.slotTable?.idle() ?? this.retiring ?? Promise.resolve();
  }

  /** Settles once the slot table's warm-up (if one runs) is done. */
  warmed(): Promise<void> {
    return this.slotTable?.warmed() ?? Promise.resolve();
  }

  /** Writes everything, then drops the in-memory slot table (and the mapping). */
  deactivate(): void {
    if (this.slotTable === null) return;
    this.writeAll();
    this.dropActiveState();
  }

  /**
   * Writes entries, header and the whole slot table now, and marks the slot region complete.
   * The file must be active.
   */
  private writeAll(): void {
    this.flushEntriesAndHeader();
    this.slotTable!.writeAllSync(this.indexCount);
    this.writeMark(this.indexCount);
  }

  private dropActiveState(): void {
    const table = this.slotTable;
    this.slotTable = null;
    this.pending = null;
    this.pendingView = null;
    this.pendingFirst = this.indexCount;
    if (table !== null) {
      const before = this.retiring;
      this.retiring =
        before === null ? table.idle() : Promise.all([before, table.idle()]).then(() => undefined);
    }
    if (this.mapping !== null) {
      native.unmap(this.mapping);
      this.mapping = null;
      this.headerView = null;
    }
  }

  /**
   * Adds the entries `from` to `to` (exclusive) of the arrays, as many as fit; returns the
   * position of the first one not added (`to` when all were). The file must be active; each
   * `keyHash` is already in [0, 2^31). First
   * reads their slots in one tight loop: each is a random place in the slot table (a cache and
   * a TLB miss), and there the CPU overlaps the misses, which it cannot when each entry is
   * added between other work. The header counts the entries once, after all of them.
   */
  putBatch(
    keyHashes: Int32Array,
    phyOffsets: Float64Array,
    storeTimestamps: Float64Array,
    from: number,
    to: number,
  ): number {
    // A crash may leave the whole batch uncounted; chainHead walks back at most this far.
    invariant(to - from <= MAX_PENDING_ENTRIES, 'an index batch larger than a chain walk');
    const slots = this.slotTable!.view;
    const hashSlots = this.sizes.hashSlots;
    let sink = 0;
    for (let i = from; i < to; i++) {
      sink ^= slots.getInt32((keyHashes[i] % hashSlots) * INDEX_SLOT_SIZE, false);
    }
    _slotReadSink ^= sink;
    let i = from;
    for (; i < to && !this.isFull; i++) this.store(keyHashes[i], phyOffsets[i], storeTimestamps[i]);
    this.commitHeader();
    return i;
  }

  /** Stores one entry and its slot; the header does not count it yet. */
  private store(keyHash: number, phyOffset: number, storeTimestamp: number): void {
    const table = this.slotTable!;
    const slotsView = table.view;
    const slot = keyHash % this.sizes.hashSlots;
    const slotPos = slot * INDEX_SLOT_SIZE;
    const prev = this.chainHead(slotsView.getInt32(slotPos, false));
    if (this.indexCount === 1) {
      this.beginTimestamp = storeTimestamp;
      this.beginPhyOffset = phyOffset;
    }
    if (prev === 0) this.hashSlotCount++;
    let timeDiff = Math.floor((storeTimestamp - this.beginTimestamp) / 1000);
    if (timeDiff < 0) timeDiff = 0;
    else if (timeDiff > INT_MAX) timeDiff = INT_MAX;
    const index = this.indexCount;
    if (this.mapping !== null) {
      // Stored in place below; nothing to buffer.
    } else if (this.pending === null) {
      this.pending = new Uint8Array(MAX_PENDING_ENTRIES * INDEX_ENTRY_SIZE);
      this.pendingView = new DataView(this.pending.buffer);
      this.pendingFirst = index;
    } else if (index - this.pendingFirst === MAX_PENDING_ENTRIES) {
      // Entries only: the slot pages wait for the periodic flush. Entries past the header's
      // count are ignored after a crash, so this write alone is always safe.
      this.flushEntries();
      this.pendingFirst = index;
    }
    const pv = this.pendingView!;
    const pos = (index - this.pendingFirst) * INDEX_ENTRY_SIZE;
    pv.setInt32(pos + ENTRY_KEY_HASH, keyHash, false);
    writeInt64(pv, pos + ENTRY_PHY_OFFSET, phyOffset);
    pv.setInt32(pos + ENTRY_TIME_DIFF, timeDiff, false);
    pv.setInt32(pos + ENTRY_PREV_INDEX, prev, false);
    slotsView.setInt32(slotPos, index, false);
    table.markDirty(slotPos);
    this.indexCount = index + 1;
    this.endTimestamp = storeTimestamp;
    this.endPhyOffset = phyOffset;
  }

  /**
   * Mapped: the header counts the stored entries now. A killed process leaves at most the
   * entries of one {@link putBatch} uncounted (their slots may point at them: {@link chainHead}
   * follows such links back into the counted part, and the re-dispatch after the crash indexes
   * their records again), never a stale tail. Buffered: the next flush writes the header.
   */
  private commitHeader(): void {
    if (this.headerView !== null) this.encodeHeader(this.headerView);
    else this.headerDirty = true;
  }

  /**
   * Buffered: writes the buffered entries and the header; mapped: stores the header into the
   * mapping (entries are there already). Then starts writing the slot pages stored into since
   * the last flush on the thread pool.
   */
  flush(): void {
    this.flushEntriesAndHeader();
    this.slotTable?.writeBackAsync(this.indexCount);
  }

  private flushEntriesAndHeader(): void {
    if (this.headerView !== null) {
      if (this.headerDirty) {
        this.encodeHeader(this.headerView);
        this.headerDirty = false;
      }
      return;
    }
    this.flushEntries();
    if (this.headerDirty) {
      const header = new Uint8Array(INDEX_HEADER_SIZE);
      this.encodeHeader(new DataView(header.buffer));
      writeFullySync(this.fd, header, 0, INDEX_HEADER_SIZE, 0);
      this.headerDirty = false;
    }
  }

  private encodeHeader(hv: DataView): void {
    writeInt64(hv, HEADER_BEGIN_TIMESTAMP, this.beginTimestamp);
    writeInt64(hv, HEADER_END_TIMESTAMP, this.endTimestamp);
    writeInt64(hv, HEADER_BEGIN_PHY_OFFSET, this.beginPhyOffset);
    writeInt64(hv, HEADER_END_PHY_OFFSET, this.endPhyOffset);
    hv.setInt32(HEADER_HASH_SLOT_COUNT, this.hashSlotCount, false);
    hv.setInt32(HEADER_INDEX_COUNT, this.indexCount, false);
  }

  /** Writes the buffered entries (not the slot table nor the header). */
  private flushEntries(): void {
    if (this.mapping !== null) return;
    const pending = this.pending;
    const buffered = this.indexCount - this.pendingFirst;
    if (pending !== null && buffered > 0) {
      writeFullySync(
        this.fd,
        pending,
        0,
        buffered * INDEX_ENTRY_SIZE,
        this.entriesStart + this.pendingFirst * INDEX_ENTRY_SIZE,
      );
      this.pendingFirst = this.indexCount;
    }
  }

  /**
   * fsyncs the file on the thread pool (the caller keeps the file open meanwhile); then entry 0
   * records the slot pages written back before it as complete.
   */
  async syncAsync(): Promise<void> {
    const table = this.slotTable;
    // Slot pages that finished writing before the fdatasync starts are durable after it.
    const written = table?.writtenCount ?? 0;
    await new Promise<void>((resolve, reject) =>
      fs.fdatasync(this.fd, (err) => (err === null ? resolve() : reject(err))),
    );
    if (table === null) return;
    const err = table.takeError();
    if (err !== null) throw err;
    if (this.slotTable === table && written > this.linkedMark) this.writeMark(written);
  }

  /**
   * Removes the entries whose phy offset is ≥ `logEndOffset` (the CommitLog was cut there),
   * restoring the slot chains. The file must be active. Returns entries removed.
   */
  truncateFrom(logEndOffset: number): number {
    if (this.indexCount <= 1 || this.endPhyOffset < logEndOffset) return 0;
    this.flushEntriesAndHeader();
    const table = this.slotTable!;
    const slotsView = table.view;
    let removed = 0;
    let index = this.indexCount - 1;
    for (; index >= 1; index--) {
      const v = this.readEntry(index);
      if (readInt64(v, ENTRY_PHY_OFFSET, 'IndexFile phyOffset') < logEndOffset) break;
      const slotPos = (v.getInt32(ENTRY_KEY_HASH, false) % this.sizes.hashSlots) * INDEX_SLOT_SIZE;
      const prev = v.getInt32(ENTRY_PREV_INDEX, false);
      if (slotsView.getInt32(slotPos, false) === index) {
        slotsView.setInt32(slotPos, prev, false);
        if (prev === 0) this.hashSlotCount--;
        table.markDirty(slotPos);
      }
      removed++;
    }
    this.keepEntries(index + 1);
    // The slots of the removed entries point back now; the indexes are taken again next, so
    // the slot region must not keep pointing at them (see repairSlots).
    this.writeAll();
    return removed;
  }

  /**
   * After a machine crash: removes the newest entries back to the last one that reached the
   * disk and points below `syncedOffset` (the checkpoint's offset below which the index was
   * fsynced; the records from there on are indexed again). The header may count entries whose
   * pages never reached the disk (zeros), and the slots on disk may name them or their lost
   * links, so the slot table is built again from the entries kept. The file must be active.
   * Returns entries removed.
   */
  cutUnsynced(syncedOffset: number): number {
    let index = this.indexCount - 1;
    for (; index >= 1; index--) {
      const v = this.readEntry(index);
      if (!isLostEntry(v, 0) && this.phyOffsetAt(index) < syncedOffset) break;
    }
    const removed = this.indexCount - 1 - index;
    if (removed === 0) return 0;
    this.flushEntriesAndHeader();
    this.keepEntries(index + 1);
    this.hashSlotCount = rebuildSlots(
      this.slotTable!,
      this.fd,
      this.entriesStart,
      this.sizes.hashSlots,
      this.indexCount,
    );
    this.writeAll();
    return removed;
  }

  /** Counts only the entries below `count` (a cut), with the header fields that follow. */
  private keepEntries(count: number): void {
    this.indexCount = count;
    if (this.mapping === null) this.pendingFirst = count;
    const last = count - 1;
    if (last >= 1) {
      this.endPhyOffset = this.phyOffsetAt(last);
      this.endTimestamp =
        this.beginTimestamp + this.readEntry(last).getInt32(ENTRY_TIME_DIFF, false) * 1000;
    } else {
      this.beginTimestamp = this.endTimestamp = this.beginPhyOffset = this.endPhyOffset = 0;
      this.hashSlotCount = 0;
    }
    this.headerDirty = true;
  }

  /** Closes the descriptor (writing everything first when active). */
  close(): void {
    if (this.fd < 0) return;
    if (this.slotTable !== null) this.writeAll();
    this.dropActiveState();
    this.closeFd();
  }

  /** Closes and deletes the file. */
  destroy(): void {
    this.dropActiveState();
    this.closeFd();
    fs.rmSync(this.path, { force: true });
  }

  /**
   * Closes the descriptor once no slot write-back uses it any more: a descriptor number closed
   * under a write on the thread pool could be given to another file, which the write would
   * then scribble on.
   */
  private closeFd(): void {
    const fd = this.fd;
    this.fd = -1;
    if (fd < 0) return;
    const retiring = this.retiring;
    this.retiring = null;
    if (retiring === null) fs.closeSync(fd);
    else void retiring.then(() => fs.closeSync(fd)).catch(() => undefined);
  }
}
