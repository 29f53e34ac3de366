import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IndexService, indexKeyHashOf } from './index-service.js';
import type { IndexWriteMode } from './index-file.js';
import { indexFileSizeBytes } from './index-file-layout.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-idx-'));
}

const sizes = { hashSlots: 7, maxEntries: 40 };
const T0 = 1_700_000_000_000;

function openIndex(
  dir: string,
  writeMode: IndexWriteMode,
  indexSizes: typeof sizes = sizes,
): IndexService {
  let clock = T0;
  const s = new IndexService({ storePath: dir, sizes: indexSizes, writeMode, now: () => clock++ });
  s.load();
  return s;
}

// Message n: phy n*100, stored at T0 + n*1000, keys `k${n % 10}` (so 10 messages share a key).
function fill(s: IndexService, from: number, to: number): void {
  for (let n = from; n < to; n++) {
    if (!s.needsIndex(n * 100)) continue;
    s.put(indexKeyHashOf('TopicA', `k${n % 10}`), n * 100, T0 + n * 1000);
  }
}

for (const mode of ['mapped', 'buffered'] as const) {
  const open = (dir: string): IndexService => openIndex(dir, mode);

  test(`${mode}: collisions, newest-first order, roll to new files, time range, max count`, () => {
    const dir = tmpDir();
    try {
      const s = open(dir);
      fill(s, 0, 100);
      // 39 entries per file (entry 0 is unused): 100 entries need 3 files.
      assert.equal(s.fileCount, 3);
      for (const f of fs.readdirSync(path.join(dir, 'index'))) {
        assert.equal(fs.statSync(path.join(dir, 'index', f)).size, indexFileSizeBytes(sizes));
      }
      const all = (key: string): number[] =>
        s.query('TopicA', key, 1000, 0, Number.MAX_SAFE_INTEGER);
      // With 7 slots and 10 keys, chains collide: results must hold only matching hashes.
      for (let k = 0; k < 10; k++) {
        const want: number[] = [];
        for (let n = 99; n >= 0; n--) if (n % 10 === k) want.push(n * 100);
        assert.deepEqual(all(`k${k}`), want, `k${k}`);
      }
      assert.deepEqual(s.query('TopicA', 'k3', 2, 0, Number.MAX_SAFE_INTEGER), [9300, 8300]);
      assert.deepEqual(
        s.query('TopicA', 'k3', 100, T0 + 20_000, T0 + 60_000),
        [5300, 4300, 3300, 2300],
      );
      assert.deepEqual(s.query('OtherTopic', 'k3', 100, 0, Number.MAX_SAFE_INTEGER), []);
      s.close();
      // Reload: same answers, and redispatch of old records is skipped.
      const s2 = open(dir);
      fill(s2, 0, 100);
      assert.deepEqual(s2.query('TopicA', 'k7', 1000, 0, Number.MAX_SAFE_INTEGER).length, 10);
      fill(s2, 100, 105);
      assert.deepEqual(
        s2.query('TopicA', 'k2', 3, 0, Number.MAX_SAFE_INTEGER),
        [10200, 9200, 8200],
      );
      s2.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: truncateFrom rolls back entries past a log end, also across files`, () => {
    const dir = tmpDir();
    try {
      const s = open(dir);
      fill(s, 0, 100);
      s.flush();
      // Cut at message 70: the third file (messages 78..99) goes, the second is rolled back.
      assert.equal(s.truncateFrom(7000), 30);
      assert.equal(s.fileCount, 2);
      assert.equal(s.endPhyOffset, 6900);
      assert.deepEqual(s.query('TopicA', 'k5', 3, 0, Number.MAX_SAFE_INTEGER), [6500, 5500, 4500]);
      // New records after the cut are indexed again.
      s.put(indexKeyHashOf('TopicA', 'k5'), 7000, T0 + 70_000);
      assert.deepEqual(s.query('TopicA', 'k5', 2, 0, Number.MAX_SAFE_INTEGER), [7000, 6500]);
      s.close();
      const s2 = open(dir);
      assert.deepEqual(s2.query('TopicA', 'k5', 2, 0, Number.MAX_SAFE_INTEGER), [7000, 6500]);
      assert.deepEqual(s2.query('TopicA', 'k9', 1, 0, Number.MAX_SAFE_INTEGER), [6900]);
      // Expiry follows the log's min offset, never deleting the last file.
      assert.equal(s2.deleteExpiredFiles(5000), 1);
      assert.equal(s2.fileCount, 1);
      assert.equal(s2.deleteExpiredFiles(1e9), 0);
      s2.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: a crash right after a roll: the empty new file does not hide entries past the log end`, () => {
    const dir = tmpDir();
    try {
      const s = open(dir);
      // 39 entries fill the first file; message 39 rolls to a second file that is never flushed.
      fill(s, 0, 40);
      assert.equal(s.fileCount, 2);
      // "SIGKILL": s is abandoned without flush or close. The log is then cut at message 35.
      const s2 = open(dir);
      // Mapped, the entry of message 39 in the new file is in place (and counted) too.
      assert.equal(s2.truncateFrom(3500), mode === 'mapped' ? 5 : 4);
      assert.equal(s2.endPhyOffset, 3400);
      assert.equal(s2.needsIndex(3500), true, 'the new tail must be indexed again');
      fill(s2, 35, 45);
      assert.deepEqual(s2.query('TopicA', 'k7', 3, 0, Number.MAX_SAFE_INTEGER), [3700, 2700, 1700]);
      s2.close();
      const s3 = open(dir);
      assert.deepEqual(s3.query('TopicA', 'k4', 2, 0, Number.MAX_SAFE_INTEGER), [4400, 3400]);
      s3.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * Indexes messages 0..19 and leaves the file as a crash between writing the slot pages and the
   * header would: entries and slots of 10..19 on disk, the header counting 0..9. Returns the
   * index reopened.
   */
  const crashBetweenSlotsAndHeader = (dir: string): IndexService => {
    const s = open(dir);
    fill(s, 0, 10);
    s.flush();
    const file = path.join(dir, 'index', fs.readdirSync(path.join(dir, 'index'))[0]);
    const header = Buffer.alloc(40);
    let fd = fs.openSync(file, 'r');
    fs.readSync(fd, header, 0, 40, 0);
    fs.closeSync(fd);
    fill(s, 10, 20);
    s.flush();
    s.close();
    fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, header, 0, 40, 0);
    fs.closeSync(fd);
    return open(dir);
  };

  test(`${mode}: a crash between writing slots and header keeps the committed chains`, () => {
    const dir = tmpDir();
    try {
      const s2 = crashBetweenSlotsAndHeader(dir);
      for (let k = 0; k < 10; k++) {
        assert.deepEqual(s2.query('TopicA', `k${k}`, 5, 0, Number.MAX_SAFE_INTEGER), [k * 100]);
      }
      // Re-indexing the uncounted records links them to the committed chains.
      fill(s2, 10, 20);
      assert.deepEqual(s2.query('TopicA', 'k3', 5, 0, Number.MAX_SAFE_INTEGER), [1300, 300]);
      s2.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: other records taking the uncounted indexes after a crash keep the committed chains`, () => {
    const dir = tmpDir();
    try {
      const s2 = crashBetweenSlotsAndHeader(dir);
      // Messages 10..19 did not survive (the log was cut there); others take their indexes.
      for (let n = 10; n < 20; n++) {
        s2.put(indexKeyHashOf('TopicB', `other-${n}`), n * 100, T0 + n * 1000);
      }
      for (let k = 0; k < 10; k++) {
        assert.deepEqual(s2.query('TopicA', `k${k}`, 5, 0, Number.MAX_SAFE_INTEGER), [k * 100]);
      }
      s2.flush();
      s2.close();
      const s3 = open(dir);
      for (let k = 0; k < 10; k++) {
        assert.deepEqual(s3.query('TopicA', `k${k}`, 5, 0, Number.MAX_SAFE_INTEGER), [k * 100]);
      }
      assert.deepEqual(s3.query('TopicB', 'other-13', 5, 0, Number.MAX_SAFE_INTEGER), [1300]);
      s3.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: a zero-byte file (crash while creating it) is dropped at load`, () => {
    const dir = tmpDir();
    try {
      const s = open(dir);
      fill(s, 0, 5);
      s.close();
      fs.writeFileSync(path.join(dir, 'index', '29991231235959999'), '');
      const s2 = open(dir);
      assert.equal(s2.fileCount, 1);
      assert.deepEqual(s2.query('TopicA', 'k3', 2, 0, Number.MAX_SAFE_INTEGER), [300]);
      s2.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const mode of ['buffered', 'mapped'] as IndexWriteMode[]) {
  test(`${mode}: queued entries count for needsIndex and queries before they are drained`, () => {
    const dir = tmpDir();
    try {
      const s = openIndex(dir, mode);
      fill(s, 0, 3);
      assert.equal(s.needsIndex(200), false, 'a queued record is not indexed twice');
      assert.equal(s.needsIndex(300), true);
      assert.deepEqual(s.query('TopicA', 'k1', 4, 0, Number.MAX_SAFE_INTEGER), [100]);
      fill(s, 3, 300); // batches of 128 over several files (39 entries each)
      assert.equal(s.endPhyOffset, 29_900);
      assert.equal(s.fileCount, 8);
      const k7 = s.query('TopicA', 'k7', 100, 0, Number.MAX_SAFE_INTEGER);
      assert.equal(k7.length, 30);
      assert.deepEqual(k7.slice(0, 2), [29_700, 28_700]);
      s.close();
      const r = openIndex(dir, mode);
      assert.equal(r.needsIndex(29_900), true, 'the newest record is checked again');
      assert.equal(r.needsIndex(29_800), false);
      assert.equal(r.query('TopicA', 'k7', 100, 0, Number.MAX_SAFE_INTEGER).length, 30);
      r.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const mode of ['buffered', 'mapped'] as IndexWriteMode[]) {
  test(`${mode}: entries a failed drain could not store stay queued`, () => {
    const dir = tmpDir();
    try {
      const small = { hashSlots: 7, maxEntries: 3 }; // two entries per file
      const s = openIndex(dir, mode, small);
      fill(s, 0, 2);
      s.drain(); // the first file is full
      fill(s, 2, 4);
      // The next file cannot be created.
      fs.rmSync(path.join(dir, 'index'), { recursive: true, force: true });
      assert.throws(() => s.drain());
      assert.equal(s.needsIndex(300), false, 'still queued: not indexed again');
      fs.mkdirSync(path.join(dir, 'index'));
      assert.deepEqual(s.query('TopicA', 'k3', 4, 0, Number.MAX_SAFE_INTEGER), [300]);
      assert.deepEqual(s.query('TopicA', 'k2', 4, 0, Number.MAX_SAFE_INTEGER), [200]);
      s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('mapped: files closed and rolled while their slot tables are still being warmed', async () => {
  const dir = tmpDir();
  try {
    // 4,000,000 slots: a 16 MB slot table, still being warmed on the thread pool when the file
    // fills (3 entries) and is unmapped, and when the service closes.
    const big = { hashSlots: 4_000_000, maxEntries: 4 };
    const s = openIndex(dir, 'mapped', big);
    fill(s, 0, 7);
    assert.equal(s.fileCount, 3);
    s.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const s2 = openIndex(dir, 'mapped', big);
    assert.deepEqual(s2.query('TopicA', 'k5', 2, 0, Number.MAX_SAFE_INTEGER), [500]);
    s2.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const mode of ['buffered', 'mapped'] as IndexWriteMode[]) {
  test(`${mode}: a record whose keys straddled a file roll gets back the keys a crash took`, () => {
    const dir = tmpDir();
    try {
      const small = { hashSlots: 7, maxEntries: 3 }; // two entries per file
      const s = openIndex(dir, mode, small);
      const h = (key: string): number => indexKeyHashOf('T', key);
      s.put(h('a'), 100, T0);
      s.put(h('b'), 200, T0 + 1000); // the file is full
      s.put(h('c'), 200, T0 + 1000); // the same record's second key: a new file
      s.drain(); // as the dispatcher does at the end of each run
      // A crash that takes the new file's entry: the first file was flushed at the roll.
      const newest = fs.readdirSync(path.join(dir, 'index')).sort().pop()!;
      s.close();
      fs.rmSync(path.join(dir, 'index', newest));

      const r = openIndex(dir, mode, small);
      assert.equal(r.needsIndex(100), false);
      assert.equal(r.needsIndex(200), true, 'the newest record is indexed again');
      r.put(h('b'), 200, T0 + 1000); // already there: skipped
      r.put(h('c'), 200, T0 + 1000);
      assert.deepEqual(r.query('T', 'c', 4, 0, T0 + 10_000), [200]);
      assert.deepEqual(r.query('T', 'b', 4, 0, T0 + 10_000), [200], 'no duplicate entry');
      assert.deepEqual(r.query('T', 'a', 4, 0, T0 + 10_000), [100]);
      r.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Entry 0 of the (only) index file: [magic, linked count]. */
function readMark(dir: string, indexSizes: typeof sizes = sizes): [number, number] {
  const name = fs.readdirSync(path.join(dir, 'index'))[0];
  const fd = fs.openSync(path.join(dir, 'index', name), 'r');
  const b = Buffer.alloc(8);
  fs.readSync(fd, b, 0, 8, 40 + indexSizes.hashSlots * 4);
  fs.closeSync(fd);
  return [b.readInt32BE(0), b.readInt32BE(4)];
}

/** Overwrites the slot region of the (only) index file with zeros. */
function zeroSlots(dir: string, indexSizes: typeof sizes = sizes): void {
  const name = fs.readdirSync(path.join(dir, 'index'))[0];
  const fd = fs.openSync(path.join(dir, 'index', name), 'r+');
  fs.writeSync(fd, Buffer.alloc(indexSizes.hashSlots * 4), 0, indexSizes.hashSlots * 4, 40);
  fs.closeSync(fd);
}

const SLOT_MARK = 0x534c6e6b;

for (const mode of ['buffered', 'mapped'] as IndexWriteMode[]) {
  test(`${mode}: entry 0 records the slot pages written back and fsynced, and a close`, async () => {
    const dir = tmpDir();
    try {
      const s = openIndex(dir, mode);
      fill(s, 0, 1);
      s.drain();
      assert.deepEqual(readMark(dir), [SLOT_MARK, 1], 'a new file: nothing linked on disk yet');
      fill(s, 1, 12);
      s.flush();
      await s.idle();
      assert.deepEqual(readMark(dir), [SLOT_MARK, 1], 'written back, but not fsynced yet');
      await s.syncAsync();
      assert.deepEqual(readMark(dir), [SLOT_MARK, 13]);
      fill(s, 12, 15);
      s.close();
      assert.deepEqual(readMark(dir), [SLOT_MARK, 16]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: a crash before the slot pages reached the file: reopening links the entries again`, async () => {
    const dir = tmpDir();
    try {
      const s = openIndex(dir, mode);
      fill(s, 0, 12);
      s.flush();
      await s.idle();
      await s.syncAsync(); // entries 1..12 linked on disk
      fill(s, 12, 30);
      s.flush(); // entries and header (buffered); the slot pages start on their way
      await s.idle();
      // "SIGKILL": s is abandoned. As if the last write-back had not reached the slot region,
      // and the one before had lost its second half.
      zeroSlots(dir);
      const s2 = openIndex(dir, mode);
      for (let k = 0; k < 10; k++) {
        const want = [2, 1, 0].map((r) => (r * 10 + k) * 100);
        assert.deepEqual(s2.query('TopicA', `k${k}`, 5, 0, Number.MAX_SAFE_INTEGER), want);
      }
      fill(s2, 30, 32);
      assert.deepEqual(
        s2.query('TopicA', 'k1', 5, 0, Number.MAX_SAFE_INTEGER),
        [3100, 2100, 1100, 100],
      );
      s2.close();
      // Closed cleanly: the slot region is complete and entry 0 says so.
      assert.deepEqual(readMark(dir), [SLOT_MARK, 33]);
      zeroSlots(dir);
      const s3 = openIndex(dir, mode);
      assert.deepEqual(s3.query('TopicA', 'k1', 5, 0, Number.MAX_SAFE_INTEGER), []);
      s3.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: a file without the mark (slots written in place) is read as complete`, () => {
    const dir = tmpDir();
    try {
      const s = openIndex(dir, mode);
      fill(s, 0, 20);
      s.close();
      const name = fs.readdirSync(path.join(dir, 'index'))[0];
      const fd = fs.openSync(path.join(dir, 'index', name), 'r+');
      fs.writeSync(fd, Buffer.alloc(20), 0, 20, 40 + sizes.hashSlots * 4);
      fs.closeSync(fd);
      const s2 = openIndex(dir, mode);
      assert.deepEqual(s2.query('TopicA', 'k3', 5, 0, Number.MAX_SAFE_INTEGER), [1300, 300]);
      fill(s2, 20, 21);
      s2.drain();
      assert.deepEqual(readMark(dir), [SLOT_MARK, 21], 'taking writes again: marked complete');
      s2.close();
      assert.deepEqual(readMark(dir), [SLOT_MARK, 22]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
