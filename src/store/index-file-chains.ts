/**
 * The read side of an IndexFile: its header's fields, and walking a key's chain from its slot
 * (in the in-memory slot table while the file takes writes, else read from the file) through
 * the entries' previous-entry links. `index-file.ts` adds the writing.
 */
import { readInt64 } from './consume-queue-entry.js';
import {
  ENTRY_KEY_HASH,
  ENTRY_PHY_OFFSET,
  ENTRY_PREV_INDEX,
  ENTRY_TIME_DIFF,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER_SIZE,
  INDEX_SLOT_SIZE,
  indexEntriesStart,
  type IndexFileSizes,
} from './index-file-layout.js';
import type { IndexSlotTable } from './index-slot-table.js';
import { readFullySync } from './io/positional-io.js';

/**
 * The most entries a crash can leave stored but uncounted (one put batch), so the most steps
 * {@link IndexFileChains.chainHead} walks back.
 */
export const MAX_PENDING_ENTRIES = 4096;

const entryScratch = new Uint8Array(INDEX_ENTRY_SIZE);
const entryView = new DataView(entryScratch.buffer);
const slotScratch = new Uint8Array(INDEX_SLOT_SIZE);
const slotScratchView = new DataView(slotScratch.buffer);

/** Header fields and chain walks of one IndexFile. */
export class IndexFileChains {
  beginTimestamp = 0;
  endTimestamp = 0;
  beginPhyOffset = 0;
  endPhyOffset = 0;
  hashSlotCount = 0;
  indexCount = 1;
  protected readonly entriesStart: number;
  /** The slot table while the file takes writes. */
  protected slotTable: IndexSlotTable | null = null;
  /** Entries held in memory (buffered: the newest; mapped: the whole region), if any. */
  protected pending: Uint8Array | null = null;
  /** Entry index of `pending`'s first entry. */
  protected pendingFirst = 1;

  protected constructor(
    readonly sizes: IndexFileSizes,
    protected fd: number,
  ) {
    this.entriesStart = indexEntriesStart(sizes.hashSlots);
  }

  /**
   * The newest committed entry (index < indexCount) of a chain whose slot holds `index`. A crash
   * between writing the slot pages and the header leaves slots pointing at entries the header
   * does not count yet; those entries were written before the slots, so following their prev
   * links leads back into the committed part of the chain instead of losing it.
   */
  protected chainHead(index: number): number {
    let i = index;
    let steps = 0;
    while (i >= this.indexCount && i < this.sizes.maxEntries && steps++ < MAX_PENDING_ENTRIES) {
      const prev = this.readEntry(i).getInt32(ENTRY_PREV_INDEX, false);
      if (prev >= i) return 0;
      i = prev;
    }
    return i > 0 && i < this.indexCount ? i : 0;
  }

  private slotValue(slot: number): number {
    const pos = slot * INDEX_SLOT_SIZE;
    if (this.slotTable !== null) return this.slotTable.view.getInt32(pos, false);
    const n = readFullySync(this.fd, slotScratch, 0, INDEX_SLOT_SIZE, INDEX_HEADER_SIZE + pos);
    return n === INDEX_SLOT_SIZE ? slotScratchView.getInt32(0, false) : 0;
  }

  /** Reads entry `index` into the module scratch; returns the view over it. */
  protected readEntry(index: number): DataView {
    if (this.pending !== null && index >= this.pendingFirst && index < this.indexCount) {
      const from = (index - this.pendingFirst) * INDEX_ENTRY_SIZE;
      entryScratch.set(this.pending.subarray(from, from + INDEX_ENTRY_SIZE));
    } else {
      const at = this.entriesStart + index * INDEX_ENTRY_SIZE;
      const n = readFullySync(this.fd, entryScratch, 0, INDEX_ENTRY_SIZE, at);
      if (n < INDEX_ENTRY_SIZE) entryScratch.fill(0, n);
    }
    return entryView;
  }

  /**
   * The entries of `keyHash`'s chain (other keys of its slot included), newest first: each is
   * the shared entry view, valid until the next step.
   */
  private *chain(keyHash: number): Generator<DataView> {
    let index = this.chainHead(this.slotValue(keyHash % this.sizes.hashSlots));
    let steps = 0;
    while (index > 0 && index < this.indexCount) {
      const v = this.readEntry(index);
      yield v;
      const prev = v.getInt32(ENTRY_PREV_INDEX, false);
      if (prev >= index || ++steps > this.sizes.maxEntries) return;
      index = prev;
    }
  }

  /**
   * Appends to `out` the phy offsets of entries with `keyHash` stored within
   * [beginMs, endMs], newest first, until `out` holds `maxCount`.
   */
  query(keyHash: number, beginMs: number, endMs: number, maxCount: number, out: number[]): void {
    if (out.length >= maxCount) return;
    for (const v of this.chain(keyHash)) {
      const timeMs = this.beginTimestamp + v.getInt32(ENTRY_TIME_DIFF, false) * 1000;
      if (timeMs < beginMs - 999) return;
      if (v.getInt32(ENTRY_KEY_HASH, false) === keyHash && timeMs <= endMs) {
        out.push(readInt64(v, ENTRY_PHY_OFFSET, 'IndexFile phyOffset'));
        if (out.length >= maxCount) return;
      }
    }
  }

  /** True when the chain of `keyHash` holds an entry at `phyOffset`. */
  hasEntry(keyHash: number, phyOffset: number): boolean {
    for (const v of this.chain(keyHash)) {
      const phy = readInt64(v, ENTRY_PHY_OFFSET, 'IndexFile phyOffset');
      // A chain runs newest first and entries are added in log order.
      if (phy < phyOffset) return false;
      if (phy === phyOffset && v.getInt32(ENTRY_KEY_HASH, false) === keyHash) return true;
    }
    return false;
  }

  /** Phy offset of entry `index` (1 ≤ index < indexCount). */
  phyOffsetAt(index: number): number {
    return readInt64(this.readEntry(index), ENTRY_PHY_OFFSET, 'IndexFile phyOffset');
  }
}
