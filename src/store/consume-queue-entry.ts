/**
 * The ConsumeQueue entry codec: one 20-byte, big-endian unit per message of a queue. The entry
 * with queue offset `n` lives at byte `n × 20` of the queue (files hold a fixed number of
 * entries and are named by the byte offset of their first entry, 20 digits, zero-padded).
 *
 * | offset | width | field         | meaning                                                   |
 * |--------|-------|---------------|-----------------------------------------------------------|
 * | 0      | 8     | phyOffset     | CommitLog offset of the record (int64)                    |
 * | 8      | 4     | sizeBytes     | record TOTALSIZE (int32); `BLANK_ENTRY_SIZE` for a filler |
 * | 12     | 8     | tagsCode      | Java hash of TAGS, sign-extended; delivery time for delay |
 *
 * A filler entry `(0, 0x7fffffff, 0)` stands for a queue offset that has no message (a gap);
 * an all-zero entry (size 0) marks the end of valid data.
 */
import { readInt64 as readInt64Checked, writeInt64 } from '../common/codec/int64.js';

/** Bytes per ConsumeQueue entry. */
export const CQ_ENTRY_SIZE = 20;
/** Size field of a filler entry (RocketMQ's `Integer.MAX_VALUE`). */
export const BLANK_ENTRY_SIZE = 0x7fffffff;

/** Field offsets in an entry (see the table above). */
const PHY_OFFSET_POS = 0;
const SIZE_POS = 8;
const TAGS_CODE_POS = 12;

/** Reads a big-endian int64 of a ConsumeQueue or IndexFile; beyond 2^53 it throws STORE_CORRUPT. */
export function readInt64(view: DataView, pos: number, what: string): number {
  return readInt64Checked(
    view,
    pos,
    what,
    'the file is damaged — delete it to rebuild from the CommitLog',
  );
}

/** Writes one entry at byte `pos` of `view`. */
export function writeCqEntry(
  view: DataView,
  pos: number,
  phyOffset: number,
  sizeBytes: number,
  tagsCode: number,
): void {
  writeInt64(view, pos + PHY_OFFSET_POS, phyOffset);
  view.setInt32(pos + SIZE_POS, sizeBytes, false);
  writeInt64(view, pos + TAGS_CODE_POS, tagsCode);
}

/** The entry's CommitLog offset. */
export function cqPhyOffset(view: DataView, pos: number): number {
  return readInt64(view, pos + PHY_OFFSET_POS, 'ConsumeQueue phyOffset');
}

/** The entry's record size (BLANK_ENTRY_SIZE for a filler, ≤ 0 for no data). */
export function cqSizeBytes(view: DataView, pos: number): number {
  return view.getInt32(pos + SIZE_POS, false);
}

/** The entry's tag hash code. */
export function cqTagsCode(view: DataView, pos: number): number {
  return readInt64(view, pos + TAGS_CODE_POS, 'ConsumeQueue tagsCode');
}

/** True when the entry holds data (a message or a filler), false for the zeroed end. */
export function cqEntryIsValid(view: DataView, pos: number): boolean {
  const size = view.getInt32(pos + SIZE_POS, false);
  return size > 0 && view.getInt32(pos + PHY_OFFSET_POS, false) >= 0;
}

/** 20-digit, zero-padded file name for a byte offset (CommitLog and ConsumeQueue naming). */
export function offsetToFileName(offset: number): string {
  return String(offset).padStart(20, '0');
}
