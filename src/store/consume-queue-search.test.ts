import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLANK_ENTRY_SIZE, CQ_ENTRY_SIZE, writeCqEntry } from './consume-queue-entry.js';
import {
  firstOffsetInLog,
  firstOffsetStoredFrom,
  syncedEnd,
  type EntryReader,
} from './consume-queue-search.js';

/** A queue of entries `[phyOffset, sizeBytes]` (null: an entry that cannot be read). */
function queueOf(entries: Array<[number, number] | null>): EntryReader {
  return {
    readEntries(queueOffset, maxCount, out) {
      const e = entries[queueOffset];
      if (e === undefined || e === null || maxCount < 1) return 0;
      writeCqEntry(new DataView(out.buffer, out.byteOffset, CQ_ENTRY_SIZE), 0, e[0], e[1], 0);
      return 1;
    },
  };
}

test('firstOffsetInLog: the first entry pointing at or past the log min; a filler goes with the next entry', () => {
  const q = queueOf([
    [100, 50],
    [0, BLANK_ENTRY_SIZE],
    [200, 50],
    [300, 50],
    [400, 50],
  ]);
  assert.equal(firstOffsetInLog(q, 0, 5, 0), 0);
  assert.equal(firstOffsetInLog(q, 0, 5, 100), 0, 'a filler after a kept entry does not hide it');
  assert.equal(firstOffsetInLog(q, 0, 5, 150), 1, 'the filler right before the first kept entry');
  assert.equal(firstOffsetInLog(q, 0, 5, 300), 3);
  assert.equal(firstOffsetInLog(q, 0, 5, 401), 5, 'none left: the end');
  assert.equal(firstOffsetInLog(queueOf([null, null, [500, 50]]), 0, 3, 100), 2);
});

test('firstOffsetStoredFrom: the first message stored at or after a time, skipping untimed ones', () => {
  // Entry i points at log offset i * 100, stored at time 1000 + i * 10; entry 2 is a filler and
  // entry 4's record cannot be read (time -1).
  const entries: Array<[number, number]> = [0, 1, 2, 3, 4, 5, 6].map((i) => [
    i * 100,
    i === 2 ? BLANK_ENTRY_SIZE : 50,
  ]);
  const timeOf = (phy: number): number => (phy === 400 ? -1 : 1000 + phy / 10);
  const q = queueOf(entries);
  assert.equal(firstOffsetStoredFrom(q, 0, 7, 0, timeOf), 0);
  assert.equal(firstOffsetStoredFrom(q, 0, 7, 1010, timeOf), 1);
  assert.equal(firstOffsetStoredFrom(q, 0, 7, 1015, timeOf), 2, 'the filler before the match');
  assert.equal(firstOffsetStoredFrom(q, 0, 7, 1031, timeOf), 4);
  assert.equal(firstOffsetStoredFrom(q, 0, 7, 1060, timeOf), 6);
  assert.equal(firstOffsetStoredFrom(q, 0, 7, 9999, timeOf), 7);
});

test('firstOffsetInLog: trailing fillers are not messages in the log', () => {
  const q = queueOf([
    [100, 50],
    [0, BLANK_ENTRY_SIZE],
    [0, BLANK_ENTRY_SIZE],
  ]);
  assert.equal(firstOffsetInLog(q, 0, 3, 50), 0);
  assert.equal(firstOffsetInLog(q, 0, 3, 150), 1, 'only fillers from there on');
});

test('syncedEnd: one past the newest whole entry below the synced offset; lost entries and fillers after it go', () => {
  // Entries 0-1 below the synced offset 250; then a lost entry (zeros), a filler, a surviving
  // entry past it and one that cannot be read.
  const q = queueOf([[100, 50], [200, 50], [0, 0], [0, BLANK_ENTRY_SIZE], [300, 50], null]);
  assert.equal(syncedEnd(q, 0, 6, 250), 2);
  assert.equal(syncedEnd(q, 0, 6, 150), 1);
  assert.equal(syncedEnd(q, 0, 6, 100), 0, 'nothing below it: the queue empties');
  assert.equal(syncedEnd(q, 1, 6, 150), 1, 'never below lo');
  assert.equal(syncedEnd(q, 0, 5, 1000), 5, 'everything synced: the end stays');
  // A filler between synced entries stays (the scan stops at the newest synced real entry).
  assert.equal(
    syncedEnd(
      queueOf([
        [100, 50],
        [0, BLANK_ENTRY_SIZE],
        [200, 50],
      ]),
      0,
      3,
      250,
    ),
    3,
  );
});
