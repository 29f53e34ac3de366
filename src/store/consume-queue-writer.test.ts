import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConsumeQueueStore, LAZY_MAX_ROUNDS } from './consume-queue-store.js';
import { CQ_ENTRY_SIZE, cqPhyOffset } from './consume-queue-entry.js';
import type { CqEntry } from './consume-queue.js';
import { WriteBatchBuilder, forEachOp } from './consume-queue-write-batch.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cqw-'));
}

function open(dir: string, writeThread: boolean): ConsumeQueueStore {
  const s = new ConsumeQueueStore({
    storePath: dir,
    entriesPerFile: 10,
    initialBufferEntries: 2,
    maxBufferEntries: 8,
    maxOpenFiles: 4,
    bufferBudgetBytes: 0,
    writeThread,
  });
  s.load();
  return s;
}

const phyOf = (topic: number, n: number): number => (topic * 1000 + n) * 100;

test('write batch codec: operations round-trip, the builder grows', () => {
  const b = new WriteBatchBuilder(16);
  const src = new Uint8Array(100).map((_, i) => i);
  b.add(7, 40, src, 10, 20);
  b.add(8, 0, src, 0, 60);
  const got: Array<[number, number, number[]]> = [];
  forEachOp(b.take(), (id, pos, data) => got.push([id, pos, [...data]]));
  assert.deepEqual(got, [
    [7, 40, [...src.subarray(10, 30)]],
    [8, 0, [...src.subarray(0, 60)]],
  ]);
  assert.equal(b.sizeBytes, 0);
});

test('writer thread: entries of many queues reach the files; reads see them throughout', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir, true);
    assert.ok(s.writer !== null);
    const topics = 12;
    const e: CqEntry = { phyOffset: 0, sizeBytes: 0, tagsCode: 0 };
    for (let round = 0; round < 5; round++) {
      for (let t = 0; t < topics; t++) {
        const q = s.getOrCreate(`T${t}`, t % 3);
        for (let k = 0; k < 7; k++) {
          const n = round * 7 + k;
          assert.equal(q.put(n, phyOf(t, n), 60, t), true);
        }
      }
      await s.dirsSettled();
      assert.equal(s.flushSome(), true);
      // Before and after the thread wrote them, every entry reads back.
      for (let t = 0; t < topics; t++) {
        const q = s.get(`T${t}`, t % 3)!;
        for (let n = 0; n < (round + 1) * 7; n++) {
          assert.equal(q.entryAt(n, e), true);
          assert.equal(e.phyOffset, phyOf(t, n));
        }
      }
      await s.writesDone();
      assert.equal(s.unwrittenFloor, -1, 'everything is in the files');
      s.releaseIdleBuffers();
      s.releaseIdleBuffers();
    }
    assert.equal(s.writer!.failedBatches, 0);
    s.close();
    await s.closeWriter();
    const s2 = open(dir, false);
    for (let t = 0; t < topics; t++) {
      const q = s2.get(`T${t}`, t % 3)!;
      assert.equal(q.maxOffset, 35);
      const out = new Uint8Array(CQ_ENTRY_SIZE * 10);
      assert.equal(q.readEntries(30, 10, out), 5);
      assert.equal(cqPhyOffset(new DataView(out.buffer), 0), phyOf(t, 30));
    }
    s2.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
});

test('writer thread: deleting a topic with writes on their way leaves nothing behind', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir, true);
    const q = s.getOrCreate('Gone', 0);
    const keep = s.getOrCreate('Kept', 0);
    await s.dirsSettled();
    for (let n = 0; n < 25; n++) {
      q.put(n, phyOf(1, n), 60, 0);
      keep.put(n, phyOf(2, n), 60, 0);
    }
    s.flushSome();
    s.deleteTopic('Gone'); // waits for the thread, then removes the folder
    assert.equal(fs.existsSync(path.join(s.rootDir, 'Gone')), false);
    await s.writesDone();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fs.existsSync(path.join(s.rootDir, 'Gone')), false, 'no write recreated it');
    // flushAll (shutdown path) drains the thread, then writes the rest synchronously.
    for (let n = 25; n < 31; n++) keep.put(n, phyOf(2, n), 60, 0);
    s.flushAll();
    // ...so the entries are in the file when flushAll returns (a checkpoint may claim them).
    const last = path.join(s.rootDir, 'Kept', '0', '00000000000000000600');
    assert.equal(fs.statSync(last).size, 20, 'entry 30 written synchronously');
    s.close();
    await s.closeWriter();
    const s2 = open(dir, false);
    assert.equal(s2.get('Gone', 0), undefined);
    assert.equal(s2.get('Kept', 0)!.maxOffset, 31);
    s2.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
});

test('writer thread: a failed batch is written again by a later pass', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir, true);
    const q = s.getOrCreate('T', 0);
    await s.dirsSettled();
    for (let n = 0; n < 5; n++) q.put(n, phyOf(0, n), 60, 0);
    // Make the queue's folder unwritable for the thread: replace it with a file.
    fs.rmSync(q.dir, { recursive: true, force: true });
    fs.writeFileSync(q.dir, 'not a folder');
    s.flushSome();
    await s.writesDone();
    assert.equal(s.writer!.failedBatches, 1);
    assert.ok(s.unwrittenFloor >= 0, 'the entries are known to be only in memory');
    fs.rmSync(q.dir, { force: true });
    fs.mkdirSync(q.dir, { recursive: true });
    assert.equal(s.flushSome(), true);
    await s.writesDone();
    assert.equal(s.unwrittenFloor, -1);
    s.close();
    await s.closeWriter();
    const s2 = open(dir, false);
    assert.equal(s2.get('T', 0)!.maxOffset, 5);
    s2.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
});

test('syncAllAsync: many written files are made durable with one syncfs, few one by one', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir, true);
    for (const count of [3, 80]) {
      for (let t = 0; t < count; t++) s.getOrCreate(`S${count}_${t}`, 0).put(0, t * 100, 60, 0);
      await s.dirsSettled();
      s.flushSome();
      await s.writesDone();
      await s.syncAllAsync();
      const again: string[] = [];
      s.forEach((q) => q.takeUnsynced(again));
      assert.deepEqual(again, [], 'nothing left to sync');
    }
    s.close();
    await s.closeWriter();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
});

test('lazy passes: a queue gets its file in the first pass; later small writes wait a few passes', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir, true);
    const q = s.getOrCreate('Lazy', 0);
    await s.dirsSettled();
    const first = path.join(s.rootDir, 'Lazy', '0', '00000000000000000000');
    q.put(0, phyOf(0, 0), 60, 0);
    assert.equal(s.flushSome(Number.POSITIVE_INFINITY, true), true);
    await s.writesDone();
    assert.equal(fs.statSync(first).size, CQ_ENTRY_SIZE, 'one entry, file created at once');
    q.put(1, phyOf(0, 1), 60, 0);
    let passes = 0;
    while (fs.statSync(first).size === CQ_ENTRY_SIZE) {
      assert.equal(s.flushSome(Number.POSITIVE_INFINITY, true), true);
      await s.writesDone();
      passes++;
      assert.ok(passes <= LAZY_MAX_ROUNDS + 1, 'written within the lazy rounds');
    }
    assert.ok(passes > 1, 'a queue with a file and few entries waits in memory');
    s.close();
    await s.closeWriter();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
});
