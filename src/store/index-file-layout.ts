/**
 * Byte layout of an IndexFile (RocketMQ's hash index of message keys). All integers big-endian.
 *
 * | region  | offset                   | size               | content                          |
 * |---------|--------------------------|--------------------|----------------------------------|
 * | header  | 0                        | 40                 | see below                        |
 * | slots   | 40                       | hashSlots × 4      | int: newest entry index of chain |
 * | entries | 40 + hashSlots × 4       | maxEntries × 20    | entry index n at n × 20          |
 *
 * Header:
 *
 * | offset | width | field           |
 * |--------|-------|-----------------|
 * | 0      | 8     | beginTimestamp  |
 * | 8      | 8     | endTimestamp    |
 * | 16     | 8     | beginPhyOffset  |
 * | 24     | 8     | endPhyOffset    |
 * | 32     | 4     | hashSlotCount   |
 * | 36     | 4     | indexCount (starts at 1; entry 0 is never used, so 0 = empty) |
 *
 * Entry:
 *
 * | offset | width | field                                                        |
 * |--------|-------|--------------------------------------------------------------|
 * | 0      | 4     | keyHash (abs of Java hash of `topic#key`)                    |
 * | 4      | 8     | phyOffset                                                    |
 * | 12     | 4     | timeDiff: seconds since beginTimestamp, clamped [0, INT_MAX] |
 * | 16     | 4     | prevIndex: the entry that headed the slot's chain before     |
 *
 * Entry 0 is never part of a chain (index 0 means "none"; RocketMQ leaves it zero). Sluice keeps
 * there how far the slot region on disk is complete, as its slot table lives in memory and is
 * written back behind the entries (`index-slot-table.ts`):
 *
 * | offset | width | field                                                               |
 * |--------|-------|---------------------------------------------------------------------|
 * | 0      | 4     | SLOT_MARK_MAGIC; anything else: the slot region is complete         |
 * | 4      | 4     | linkedCount: entries below it have their slots in the slot region   |
 * |        |       | (set after an fsync that covered them, and when the file is closed); |
 * |        |       | the entries from it up to indexCount are linked again after a crash |
 * | 8      | 12    | zero                                                                |
 *
 */

/** Bytes of the header. */
export const INDEX_HEADER_SIZE = 40;
/** Bytes of one slot. */
export const INDEX_SLOT_SIZE = 4;
/** Bytes of one entry. */
export const INDEX_ENTRY_SIZE = 20;

/** Header fields: byte offsets in the header. */
export const HEADER_BEGIN_TIMESTAMP = 0;
export const HEADER_END_TIMESTAMP = 8;
export const HEADER_BEGIN_PHY_OFFSET = 16;
export const HEADER_END_PHY_OFFSET = 24;
export const HEADER_HASH_SLOT_COUNT = 32;
export const HEADER_INDEX_COUNT = 36;

/** Entry fields: byte offsets in an entry. */
export const ENTRY_KEY_HASH = 0;
export const ENTRY_PHY_OFFSET = 4;
export const ENTRY_TIME_DIFF = 12;
export const ENTRY_PREV_INDEX = 16;

/** Entry 0's fields (the slot write-back mark): byte offsets in the entry. */
export const MARK_MAGIC = 0;
export const MARK_LINKED_COUNT = 4;
/** "SLnk": entry 0 holds a slot write-back mark. */
export const SLOT_MARK_MAGIC = 0x534c6e6b;

/** Sizes of an IndexFile (from the store config). */
export interface IndexFileSizes {
  hashSlots: number;
  maxEntries: number;
}

/** Byte offset of the entry region: after the header and `hashSlots` slots. */
export function indexEntriesStart(hashSlots: number): number {
  return INDEX_HEADER_SIZE + hashSlots * INDEX_SLOT_SIZE;
}

/** Total bytes of an IndexFile with these sizes. */
export function indexFileSizeBytes(sizes: IndexFileSizes): number {
  return indexEntriesStart(sizes.hashSlots) + sizes.maxEntries * INDEX_ENTRY_SIZE;
}
