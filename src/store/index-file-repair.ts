/**
 * Bringing the slot table of an IndexFile back in line with its entries when the file starts
 * taking writes again, after a process that was writing it died: slots pointing at entries the
 * header does not count, and entries whose slots never reached the file (the slot table is
 * written back behind the entries, see `index-slot-table.ts`; entry 0 holds the mark saying how
 * far the slot region is complete, see `index-file-layout.ts`).
 */
import fs from 'node:fs';
import {
  ENTRY_KEY_HASH,
  ENTRY_PHY_OFFSET,
  ENTRY_PREV_INDEX,
  INDEX_ENTRY_SIZE,
  INDEX_SLOT_SIZE,
  MARK_LINKED_COUNT,
  MARK_MAGIC,
  SLOT_MARK_MAGIC,
} from './index-file-layout.js';
import type { IndexSlotTable } from './index-slot-table.js';
import { readFullySync } from './io/positional-io.js';

/** Bytes of the mark at the start of entry 0. */
export const SLOT_MARK_BYTES = 8;
/** Entries read per `pread` when linking entries into the slots again. */
const RELINK_CHUNK_ENTRIES = 4096;

const markScratch = new Uint8Array(SLOT_MARK_BYTES);
const markView = new DataView(markScratch.buffer);

/**
 * Entry 0's linked count, clamped to [1, indexCount]; -1 when entry 0 holds no mark (a file
 * written with its slots in place: the slot region is complete).
 */
export function readSlotMark(fd: number, entriesStart: number, indexCount: number): number {
  const n = fs.readSync(fd, markScratch, 0, SLOT_MARK_BYTES, entriesStart);
  if (n < SLOT_MARK_BYTES || markView.getInt32(MARK_MAGIC, false) !== SLOT_MARK_MAGIC) return -1;
  return Math.min(Math.max(markView.getInt32(MARK_LINKED_COUNT, false), 1), indexCount);
}

/** Encodes the mark "slots complete below `linkedCount`" at the start of `view`. */
export function encodeSlotMark(view: DataView, linkedCount: number): void {
  view.setInt32(MARK_MAGIC, SLOT_MARK_MAGIC, false);
  view.setInt32(MARK_LINKED_COUNT, linkedCount, false);
}

/**
 * Points every slot that names an entry at or past `count` (a crash between storing slots and
 * the header) at the newest counted entry of its chain, as `chainHead` finds it. New entries
 * take those indexes next; left alone, such a slot would then lead into another key's chain and
 * hide every older entry of its own.
 */
export function repairSlots(
  table: IndexSlotTable,
  count: number,
  chainHead: (index: number) => number,
): void {
  const view = table.view;
  for (let pos = 0; pos < view.byteLength; pos += INDEX_SLOT_SIZE) {
    const index = view.getInt32(pos, false);
    if (index < count) continue;
    view.setInt32(pos, chainHead(index), false);
    table.markDirty(pos);
  }
}

/**
 * Points the slot of each entry from `from` up to `count` (exclusive) at it, in order, so that
 * each slot ends at the newest entry of its chain: the slot region on disk was complete only
 * below `from`. Each entry's previous-entry link was set when it was added.
 */
export function relinkEntries(
  table: IndexSlotTable,
  fd: number,
  entriesStart: number,
  hashSlots: number,
  from: number,
  count: number,
): void {
  if (from >= count) return;
  const view = table.view;
  const chunk = new Uint8Array(RELINK_CHUNK_ENTRIES * INDEX_ENTRY_SIZE);
  const chunkView = new DataView(chunk.buffer);
  for (let first = from; first < count; first += RELINK_CHUNK_ENTRIES) {
    const n = Math.min(RELINK_CHUNK_ENTRIES, count - first);
    const want = n * INDEX_ENTRY_SIZE;
    const got = readFullySync(fd, chunk, 0, want, entriesStart + first * INDEX_ENTRY_SIZE);
    chunk.fill(0, got, want);
    for (let i = 0; i < n; i++) {
      const e = i * INDEX_ENTRY_SIZE;
      // Linking an entry that never reached the file would cut its slot's chain.
      if (isLostEntry(chunkView, e)) continue;
      const hash = chunkView.getInt32(e + ENTRY_KEY_HASH, false);
      const pos = (hash % hashSlots) * INDEX_SLOT_SIZE;
      view.setInt32(pos, first + i, false);
      table.markDirty(pos);
    }
  }
}

/** Largest high word of a phy offset below 2^53. */
const MAX_PHY_HIGH_WORD = 0x1fffff;

/**
 * True when the entry at `view[pos]` cannot be one the index wrote: all zeros (its page never
 * reached the disk before a machine crash; a hash is in [0, 2^31) and entry 0 is never linked,
 * so a real entry is never all zeros), a negative hash, or a phy offset of 2^53 or more (a
 * sector of it torn).
 */
export function isLostEntry(view: DataView, pos: number): boolean {
  const hash = view.getInt32(pos + ENTRY_KEY_HASH, false);
  const phyHigh = view.getUint32(pos + ENTRY_PHY_OFFSET, false);
  if (hash < 0 || phyHigh > MAX_PHY_HIGH_WORD) return true;
  return (
    hash === 0 &&
    phyHigh === 0 &&
    view.getUint32(pos + ENTRY_PHY_OFFSET + 4, false) === 0 &&
    view.getInt32(pos + ENTRY_PREV_INDEX, false) === 0
  );
}

/**
 * Empties the slot table and links the entries from 1 up to `count` (exclusive) again, in order:
 * afterwards each slot heads its chain at the newest of them. A pass over the file's entries,
 * for when slots may name entries that are gone and chains may run through lost ones (after a
 * machine crash). Returns the slots in use (the header's hashSlotCount).
 */
export function rebuildSlots(
  table: IndexSlotTable,
  fd: number,
  entriesStart: number,
  hashSlots: number,
  count: number,
): number {
  table.bytes.fill(0);
  relinkEntries(table, fd, entriesStart, hashSlots, 1, count);
  const view = table.view;
  let used = 0;
  for (let pos = 0; pos < view.byteLength; pos += INDEX_SLOT_SIZE) {
    if (view.getInt32(pos, false) !== 0) used++;
  }
  return used;
}
