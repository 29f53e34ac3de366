import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConsumeQueueStore } from './consume-queue-store.js';
import { BLANK_ENTRY_SIZE, CQ_ENTRY_SIZE, cqPhyOffset } from './consume-queue-entry.js';
import type { CqEntry } from './consume-queue.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cq-'));
}

/** Stores opened by the tests: their folder creations must end before a folder is removed. */
const opened: ConsumeQueueStore[] = [];

/** Removes a test folder once no queue folder is still being created in it. */
async function removeDir(dir: string): Promise<void> {
  await Promise.all(opened.splice(0).map((s) => s.dirsSettled()));
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}

function open(
  dir: string,
  extra: Partial<ConstructorParameters<typeof ConsumeQueueStore>[0]> = {},
) {
  const s = new ConsumeQueueStore({
    storePath: dir,
    entriesPerFile: 10,
    initialBufferEntries: 2,
    maxBufferEntries: 4,
    ...extra,
  });
  opened.push(s);
  s.load();
  return s;
}

// Message n lives at phy n*100, size 50+n%7, tag n%3.
const phyOf = (n: number): number => n * 100;

test('entries across files: read from buffer and files, reload, lookups', async () => {
  const dir = tmpDir();
  try {
    let s = open(dir);
    const q = s.getOrCreate('TopicA', 3);
    for (let n = 0; n < 37; n++) assert.equal(q.put(n, phyOf(n), 50 + (n % 7), n % 3), true);
    assert.equal(q.put(5, phyOf(5), 55, 2), false, 'duplicate is ignored');
    const e: CqEntry = { phyOffset: 0, sizeBytes: 0, tagsCode: 0 };
    const check = (qq: typeof q): void => {
      assert.equal(qq.maxOffset, 37);
      assert.equal(qq.minOffset, 0);
      for (let n = 0; n < 37; n++) {
        assert.equal(qq.entryAt(n, e), true, `entry ${n}`);
        assert.deepEqual(e, { phyOffset: phyOf(n), sizeBytes: 50 + (n % 7), tagsCode: n % 3 });
      }
      assert.equal(qq.entryAt(37, e), false);
      const out = new Uint8Array(CQ_ENTRY_SIZE * 32);
      const view = new DataView(out.buffer);
      // A bulk read stops at the file boundary (10 entries per file).
      const got = qq.readEntries(7, 32, out);
      assert.equal(got, 3);
      assert.equal(cqPhyOffset(view, 0), phyOf(7));
    };
    check(q);
    s.flushAll();
    check(q);
    s.close();
    assert.equal(fs.readdirSync(path.join(dir, 'consumequeue', 'TopicA', '3')).length, 4);
    assert.ok(fs.existsSync(path.join(dir, 'consumequeue', 'TopicA', '3', '00000000000000000200')));
    s = open(dir);
    check(s.get('TopicA', 3)!);
    assert.deepEqual([...s.listQueues()], [['TopicA', [3]]]);
    s.close();
  } finally {
    await removeDir(dir);
  }
});

test('recovery drops a torn or zeroed tail', async () => {
  const dir = tmpDir();
  try {
    let s = open(dir);
    const q = s.getOrCreate('T', 0);
    for (let n = 0; n < 14; n++) q.put(n, phyOf(n), 60, 0);
    s.close();
    const f = path.join(dir, 'consumequeue', 'T', '0', '00000000000000000200');
    fs.appendFileSync(f, Buffer.alloc(CQ_ENTRY_SIZE * 2 + 7));
    s = open(dir);
    assert.equal(s.get('T', 0)!.maxOffset, 14);
    assert.equal(fs.statSync(f).size, 4 * CQ_ENTRY_SIZE);
    assert.equal(s.get('T', 0)!.lastPhyOffset, phyOf(13));
    s.close();
  } finally {
    await removeDir(dir);
  }
});

test('gaps are filled with fillers; truncate past a log end; time search', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir);
    const q = s.getOrCreate('T', 1);
    q.put(0, phyOf(0), 60, 0);
    q.put(3, phyOf(3), 60, 0);
    const e: CqEntry = { phyOffset: 0, sizeBytes: 0, tagsCode: 0 };
    q.entryAt(1, e);
    assert.equal(e.sizeBytes, BLANK_ENTRY_SIZE);
    for (let n = 4; n < 30; n++) q.put(n, phyOf(n), 60, 0);
    s.flushAll();
    // Store time of message n = 1000 + 10 n.
    const timeOf = (phy: number): number => 1000 + (phy / 100) * 10;
    assert.equal(q.offsetByTime(0, timeOf), 0);
    assert.equal(q.offsetByTime(1035, timeOf), 4);
    assert.equal(q.offsetByTime(1100, timeOf), 10);
    assert.equal(q.offsetByTime(99999, timeOf), 30);
    // The log was cut at phy 2250: entries from message 23 on go.
    assert.equal(s.truncateFrom(2250), 7);
    assert.equal(q.maxOffset, 23);
    assert.equal(q.lastPhyOffset, phyOf(22));
    assert.equal(q.entryAt(23, e), false);
    assert.equal(q.put(23, 2250, 60, 0), true);
    s.close();
    const s2 = open(dir);
    assert.equal(s2.get('T', 1)!.maxOffset, 24);
    s2.close();
  } finally {
    await removeDir(dir);
  }
});

test('min offset follows the log min offset and expired files are deleted', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir);
    const q = s.getOrCreate('T', 0);
    for (let n = 0; n < 35; n++) q.put(n, phyOf(n), 60, 0);
    s.flushAll();
    s.setLogMinOffset(phyOf(12));
    assert.equal(q.minOffset, 12);
    assert.equal(s.deleteExpiredFiles(phyOf(12)), 1);
    assert.equal(q.fileCount, 3);
    assert.equal(q.minOffset, 12);
    assert.equal(s.deleteExpiredFiles(phyOf(34) + 100), 2, 'never the last file');
    assert.equal(q.minOffset, 35);
    assert.equal(q.maxOffset, 35);
    s.close();
    const s2 = open(dir);
    assert.equal(s2.get('T', 0)!.minOffset, 30);
    s2.setLogMinOffset(phyOf(34) + 100);
    assert.equal(s2.get('T', 0)!.minOffset, 35);
    s2.close();
  } finally {
    await removeDir(dir);
  }
});

test('many queues share a bounded descriptor cache; deleteTopic removes files', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir, { maxOpenFiles: 8, bufferBudgetBytes: 0 });
    for (let t = 0; t < 60; t++) {
      for (let qid = 0; qid < 4; qid++) {
        const q = s.getOrCreate(`topic-${t}`, qid);
        for (let n = 0; n < 3; n++) q.put(n, phyOf(t * 1000 + qid * 10 + n), 60, qid);
      }
    }
    assert.equal(s.dirtyCount, 240);
    assert.equal(s.flushSome(performance.now() - 1), false, 'time-boxed slice stops early');
    s.flushAll();
    assert.equal(s.dirtyCount, 0);
    assert.ok(s.fdCache.openCount <= 8);
    s.releaseIdleBuffers();
    s.releaseIdleBuffers();
    const e: CqEntry = { phyOffset: 0, sizeBytes: 0, tagsCode: 0 };
    for (let t = 0; t < 60; t++) {
      for (let qid = 0; qid < 4; qid++) {
        const q = s.get(`topic-${t}`, qid)!;
        assert.equal(q.entryAt(2, e), true);
        assert.equal(e.phyOffset, phyOf(t * 1000 + qid * 10 + 2));
      }
    }
    assert.ok(s.fdCache.openCount <= 8);
    s.deleteTopic('topic-7');
    assert.equal(s.get('topic-7', 0), undefined);
    assert.equal(fs.existsSync(path.join(dir, 'consumequeue', 'topic-7')), false);
    assert.equal(s.queueCount, 236);
    assert.throws(() => s.getOrCreate('../evil', 0), /cannot name/);
    s.close();
  } finally {
    await removeDir(dir);
  }
});

test('idle buffers stay within the budget, least recently flushed dropped first', async () => {
  const dir = tmpDir();
  try {
    // Buffers of 4 entries (80 bytes) per queue; room for three of them.
    const s = open(dir, { maxOpenFiles: 64, bufferBudgetBytes: 3 * 4 * CQ_ENTRY_SIZE });
    const put = (name: string, count: number): void => {
      const q = s.getOrCreate(name, 0);
      const from = q.maxOffset;
      for (let n = from; n < from + count; n++) q.put(n, phyOf(n), 60, 0);
    };
    for (const name of ['A', 'B', 'C', 'D', 'E']) {
      put(name, 3);
      s.flushAll();
    }
    put('A', 1); // A is flushed again: now the most recent, B the least recent.
    s.flushAll();
    s.releaseIdleBuffers(); // every queue had appends in this period: nothing dropped
    assert.equal(s.bufferBytes, 5 * 4 * CQ_ENTRY_SIZE);
    s.releaseIdleBuffers(); // all idle now: B and C go, D, E and A stay
    assert.equal(s.bufferBytes, 3 * 4 * CQ_ENTRY_SIZE);
    for (const [name, kept] of [
      ['A', true],
      ['B', false],
      ['C', false],
      ['D', true],
      ['E', true],
    ]) {
      assert.equal(s.get(name as string, 0)!.hasBuffer, kept, `buffer of ${name as string}`);
    }
    // Kept buffers serve reads without opening a file; dropped ones read the file.
    s.fdCache.closeAll();
    const opensBefore = s.fdCache.opens;
    const e: CqEntry = { phyOffset: 0, sizeBytes: 0, tagsCode: 0 };
    assert.equal(s.get('D', 0)!.entryAt(2, e), true);
    assert.equal(e.phyOffset, phyOf(2));
    assert.equal(s.get('A', 0)!.entryAt(3, e), true);
    assert.equal(e.phyOffset, phyOf(3));
    assert.equal(s.fdCache.opens, opensBefore);
    assert.equal(s.get('B', 0)!.entryAt(2, e), true);
    assert.equal(e.phyOffset, phyOf(2));
    assert.equal(s.fdCache.opens, opensBefore + 1);
    // A queue appended again keeps working with its kept buffer.
    put('D', 2);
    s.flushAll();
    assert.equal(s.get('D', 0)!.maxOffset, 5);
    assert.equal(s.get('D', 0)!.entryAt(4, e), true);
    assert.equal(e.phyOffset, phyOf(4));
    s.close();
  } finally {
    await removeDir(dir);
  }
});

test('within the budget a full buffer grows and keeps written entries, then the newer half', async () => {
  const dir = tmpDir();
  try {
    const s = open(dir, { maxOpenFiles: 64 });
    const q = s.getOrCreate('K', 0);
    const e: CqEntry = { phyOffset: 0, sizeBytes: 0, tagsCode: 0 };
    for (let n = 0; n < 5; n++) {
      q.put(n, phyOf(n), 60, 0);
      s.flushAll(); // written at once: the buffer holds only written entries
    }
    // 2 entries grew to 4 keeping entries 0-3; the 5th kept the newer half (2, 3) and added 4.
    assert.equal(s.bufferBytes, 4 * CQ_ENTRY_SIZE);
    s.fdCache.closeAll();
    const opensBefore = s.fdCache.opens;
    for (const n of [2, 3, 4]) {
      assert.equal(q.entryAt(n, e), true);
      assert.equal(e.phyOffset, phyOf(n));
    }
    assert.equal(s.fdCache.opens, opensBefore, 'entries 2-4 come from memory');
    assert.equal(q.entryAt(1, e), true);
    assert.equal(e.phyOffset, phyOf(1));
    assert.equal(s.fdCache.opens, opensBefore + 1, 'entry 1 comes from the file');
    s.close();
  } finally {
    await removeDir(dir);
  }
});
