/**
 * Searches over one ConsumeQueue's entries: the first entry at or after a store time (query by
 * time, RocketMQ's `getOffsetInQueueByTime`), the first entry that still points into the
 * CommitLog (a queue's min offset after old log segments were deleted), and the end of the
 * entries a machine crash cannot have touched. All read one entry at a time through
 * {@link EntryReader}, from the queue's buffer or its files.
 */
import {
  BLANK_ENTRY_SIZE,
  CQ_ENTRY_SIZE,
  cqEntryIsValid,
  cqPhyOffset,
  cqSizeBytes,
} from './consume-queue-entry.js';

/** Reads queue entries (`ConsumeQueue.readEntries`). */
export interface EntryReader {
  readEntries(queueOffset: number, maxCount: number, out: Uint8Array): number;
}

const scratch = new Uint8Array(CQ_ENTRY_SIZE);
const scratchView = new DataView(scratch.buffer);

/**
 * First queue offset in [lo, hi) whose message was stored at or after `timestampMs`, or `hi`
 * when none. `storeTimeOf` reads a record's store time from the log (-1 when unreadable).
 */
export function firstOffsetStoredFrom(
  queue: EntryReader,
  lo: number,
  hi: number,
  timestampMs: number,
  storeTimeOf: (phyOffset: number, sizeBytes: number) => number,
): number {
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    // Fillers and unreadable records have no time: probe the next entry that has one.
    let j = mid;
    let t = -1;
    for (; j < hi; j++) {
      if (queue.readEntries(j, 1, scratch) !== 1) continue;
      const size = cqSizeBytes(scratchView, 0);
      if (size === BLANK_ENTRY_SIZE) continue;
      t = storeTimeOf(cqPhyOffset(scratchView, 0), size);
      if (t >= 0) break;
    }
    if (j < hi && t < timestampMs) lo = j + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * First queue offset in [lo, hi) from which the entries point at or past `logMinOffset`, or `hi`
 * when none: entries that cannot be read (their file is gone) count as below it, and a filler
 * goes with the next entry that is not one (so the result may be a filler right before it).
 */
export function firstOffsetInLog(
  queue: EntryReader,
  lo: number,
  hi: number,
  logMinOffset: number,
): number {
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    // Fillers point nowhere: probe the next entry that points at a record.
    let j = mid;
    let readable = true;
    for (; j < hi; j++) {
      readable = queue.readEntries(j, 1, scratch) === 1;
      if (!readable || cqSizeBytes(scratchView, 0) !== BLANK_ENTRY_SIZE) break;
    }
    if (j === hi) hi = mid;
    else if (!readable || cqPhyOffset(scratchView, 0) < logMinOffset) lo = j + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One past the newest entry in [lo, hi) that is whole and points below `syncedOffset` (the
 * checkpoint's offset below which the queue's files were fsynced), walking back from `hi`. The
 * entries after it were written after the last fsync: after a machine crash any of their pages
 * may be zeros while later ones survived, so none of them is kept (the dispatcher writes them
 * again from the log). Fillers among them go too; the dispatcher fills gaps again.
 */
export function syncedEnd(
  queue: EntryReader,
  lo: number,
  hi: number,
  syncedOffset: number,
): number {
  let end = hi;
  while (end > lo) {
    if (queue.readEntries(end - 1, 1, scratch) === 1 && cqEntryIsValid(scratchView, 0)) {
      const size = cqSizeBytes(scratchView, 0);
      if (size !== BLANK_ENTRY_SIZE && cqPhyOffset(scratchView, 0) < syncedOffset) break;
    }
    end--;
  }
  return end;
}
