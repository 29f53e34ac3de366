/**
 * The key index after a machine crash (only fsynced data is sure to be on disk), and the fsyncs
 * that make that hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IndexService, indexKeyHashOf } from './index-service.js';
import {
  HEADER_INDEX_COUNT,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER_SIZE,
  INDEX_SLOT_SIZE,
} from './index-file-layout.js';
import { encodeSlotMark } from './index-file-repair.js';

const sizes = { hashSlots: 7, maxEntries: 40 };
const T0 = 1_700_000_000_000;
const ENTRIES_START = INDEX_HEADER_SIZE + sizes.hashSlots * INDEX_SLOT_SIZE;
const ALL_TIME = Number.MAX_SAFE_INTEGER;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-idx-crash-'));
}

function openIndex(dir: string, writeMode: 'mapped' | 'buffered'): IndexService {
  let clock = T0;
  const s = new IndexService({ storePath: dir, sizes, writeMode, now: () => clock++ });
  s.load();
  return s;
}

// Message n: phy n*100, stored at T0 + n*1000, key `k${n % 10}` (10 messages share a key).
function fill(s: IndexService, from: number, to: number): void {
  for (let n = from; n < to; n++) {
    if (s.needsIndex(n * 100))
      s.put(indexKeyHashOf('TopicA', `k${n % 10}`), n * 100, T0 + n * 1000);
  }
}

/** Every message of key `k${k}` below `to`, newest first (what a query must return). */
function expected(k: number, to: number): number[] {
  const out: number[] = [];
  for (let n = to - 1; n >= 0; n--) if (n % 10 === k) out.push(n * 100);
  return out;
}

/**
 * What a machine crash can leave of the newest index file: the header (page 0) counts every
 * entry, but the pages of those from `syncedPhy` on never reached the disk (zeros); the slot of
 * `k${lostKey}` (written back later) names the newest of its lost entries; entry 0's mark says
 * the slots are complete only below the first lost entry.
 */
function loseUnsyncedPages(file: string, syncedPhy: number, lostKey: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const header = Buffer.alloc(INDEX_HEADER_SIZE);
    fs.readSync(fd, header, 0, INDEX_HEADER_SIZE, 0);
    const count = header.readInt32BE(HEADER_INDEX_COUNT);
    const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
    const zeros = Buffer.alloc(INDEX_ENTRY_SIZE);
    const slotOfLost = indexKeyHashOf('TopicA', `k${lostKey}`) % sizes.hashSlots;
    let firstLost = -1;
    let newestLostOfKey = -1;
    for (let i = 1; i < count; i++) {
      fs.readSync(fd, entry, 0, INDEX_ENTRY_SIZE, ENTRIES_START + i * INDEX_ENTRY_SIZE);
      if (Number(entry.readBigInt64BE(4)) < syncedPhy) continue;
      if (firstLost < 0) firstLost = i;
      if (entry.readInt32BE(0) % sizes.hashSlots === slotOfLost) newestLostOfKey = i;
      fs.writeSync(fd, zeros, 0, INDEX_ENTRY_SIZE, ENTRIES_START + i * INDEX_ENTRY_SIZE);
    }
    assert.ok(firstLost > 0 && newestLostOfKey > 0, 'the file holds entries to lose');
    const slot = Buffer.alloc(INDEX_SLOT_SIZE);
    slot.writeInt32BE(newestLostOfKey);
    fs.writeSync(fd, slot, 0, INDEX_SLOT_SIZE, INDEX_HEADER_SIZE + slotOfLost * INDEX_SLOT_SIZE);
    const mark = Buffer.alloc(8);
    encodeSlotMark(new DataView(mark.buffer), firstLost);
    fs.writeSync(fd, mark, 0, mark.length, ENTRIES_START);
  } finally {
    fs.closeSync(fd);
  }
}

for (const mode of ['mapped', 'buffered'] as const) {
  test(`${mode}: after a machine crash the entries that never reached the disk are indexed again, older ones of the same keys stay found`, () => {
    const dir = tmpDir();
    try {
      const s = openIndex(dir, mode);
      // Two files: messages 0..38 and 39..59.
      fill(s, 0, 60);
      s.close();
      const files = fs.readdirSync(path.join(dir, 'index')).sort();
      assert.equal(files.length, 2);
      // Fsynced below message 50; k3's slot names the lost entry of message 53.
      loseUnsyncedPages(path.join(dir, 'index', files[1]!), 5000, 3);

      const s2 = openIndex(dir, mode);
      assert.equal(s2.cutUnsynced(5000), 10);
      assert.equal(s2.endPhyOffset, 4900);
      assert.equal(s2.needsIndex(5000), true, 'the unsynced records are indexed again');
      assert.equal(s2.needsIndex(4800), false);
      // The dispatcher goes over the log again from the synced offset.
      fill(s2, 50, 60);
      for (let k = 0; k < 10; k++) {
        assert.deepEqual(s2.query('TopicA', `k${k}`, 100, 0, ALL_TIME), expected(k, 60), `k${k}`);
      }
      s2.close();
      const s3 = openIndex(dir, mode);
      assert.deepEqual(s3.query('TopicA', 'k3', 100, 0, ALL_TIME), expected(3, 60));
      fill(s3, 60, 70);
      assert.deepEqual(s3.query('TopicA', 'k3', 100, 0, ALL_TIME), expected(3, 70));
      s3.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${mode}: after a machine crash files that begin past the synced offset go`, () => {
    const dir = tmpDir();
    try {
      const s = openIndex(dir, mode);
      fill(s, 0, 60);
      s.close();
      const s2 = openIndex(dir, mode);
      // Fsynced below message 30: the second file (39..59) goes whole, the first is cut.
      assert.equal(s2.cutUnsynced(3000), 60 - 30);
      assert.equal(s2.fileCount, 1);
      assert.equal(s2.endPhyOffset, 2900);
      fill(s2, 30, 60);
      for (let k = 0; k < 10; k++) {
        assert.deepEqual(s2.query('TopicA', `k${k}`, 100, 0, ALL_TIME), expected(k, 60), `k${k}`);
      }
      // Nothing unsynced: nothing cut.
      assert.equal(s2.cutUnsynced(1e9), 0);
      s2.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('syncAsync fsyncs the files filled since the last sync, then the active one', async () => {
  const dir = tmpDir();
  const realFdatasync = fs.fdatasync;
  const synced: string[] = [];
  try {
    fs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      synced.push(path.basename(fs.readlinkSync(`/proc/self/fd/${fd}`)));
      realFdatasync(fd, cb);
    }) as typeof fs.fdatasync;
    const s = openIndex(dir, 'mapped');
    fill(s, 0, 100);
    assert.equal(s.fileCount, 3, 'two files filled, one active');
    const names = fs.readdirSync(path.join(dir, 'index')).sort();
    assert.equal(names.length, 3);
    await s.syncAsync();
    assert.deepEqual(synced, names);
    synced.length = 0;
    await s.syncAsync();
    assert.deepEqual(synced, [names[2]], 'the filled files only once');
    s.close();
  } finally {
    fs.fdatasync = realFdatasync;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
