import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IndexSlotTable } from './index-slot-table.js';

const OFFSET = 40;
const SIZE = 64 * 4096;

function withFile(fn: (file: string, fd: number) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-slots-'));
    const file = path.join(dir, 'slots');
    const fd = fs.openSync(file, 'w+');
    fs.ftruncateSync(fd, OFFSET + SIZE);
    try {
      await fn(file, fd);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

function slotOnDisk(fd: number, pos: number): number {
  const b = Buffer.alloc(4);
  fs.readSync(fd, b, 0, 4, OFFSET + pos);
  return b.readInt32BE(0);
}

/** Stores `value` at byte `pos` and flags its page, as IndexFile does. */
function store(t: IndexSlotTable, pos: number, value: number): void {
  t.view.setInt32(pos, value, false);
  t.markDirty(pos);
}

test(
  'a write-back writes the flagged pages only, then counts the entries as written',
  withFile(async (_file, fd) => {
    const t = new IndexSlotTable(fd, OFFSET, SIZE, 1);
    store(t, 0, 5);
    store(t, 20 * 4096 + 8, 6);
    store(t, 63 * 4096 + 4092, 7); // the last slot
    t.view.setInt32(40 * 4096, 99, false); // not flagged: stays out of the file
    t.writeBackAsync(8);
    assert.equal(t.writing, true);
    assert.equal(t.writtenCount, 1, 'not before the writes finish');
    await t.idle();
    assert.equal(t.writtenCount, 8);
    assert.equal(slotOnDisk(fd, 0), 5);
    assert.equal(slotOnDisk(fd, 20 * 4096 + 8), 6);
    assert.equal(slotOnDisk(fd, 63 * 4096 + 4092), 7);
    assert.equal(slotOnDisk(fd, 40 * 4096), 0);
    // Nothing flagged: the file already matches, so the count moves at once.
    t.writeBackAsync(9);
    assert.equal(t.writing, false);
    assert.equal(t.writtenCount, 9);
  }),
);

test(
  'pages stored into during a round wait for the next one; the count follows each round',
  withFile(async (_file, fd) => {
    const t = new IndexSlotTable(fd, OFFSET, SIZE, 1);
    store(t, 4096, 1);
    t.writeBackAsync(2);
    store(t, 30 * 4096, 2);
    t.writeBackAsync(3); // a round runs: nothing starts, the page stays flagged
    await t.idle();
    assert.equal(t.writtenCount, 2);
    assert.equal(slotOnDisk(fd, 30 * 4096), 0);
    t.writeBackAsync(3);
    await t.idle();
    assert.equal(t.writtenCount, 3);
    assert.equal(slotOnDisk(fd, 30 * 4096), 2);
  }),
);

test(
  'a failed write keeps the count, reports the error once and is retried by the next round',
  withFile(async (file, fd) => {
    const readOnly = fs.openSync(file, 'r');
    try {
      const bad = new IndexSlotTable(readOnly, OFFSET, SIZE, 1);
      store(bad, 8, 4);
      bad.writeBackAsync(5);
      await bad.idle();
      assert.equal(bad.writtenCount, 1);
      const err = bad.takeError();
      assert.ok(err !== null && /EBADF/.test(String((err as NodeJS.ErrnoException).code)));
      assert.equal(bad.takeError(), null);
      // The page is flagged again: another round tries it (and fails the same way here).
      bad.writeBackAsync(5);
      assert.equal(bad.writing, true);
      await bad.idle();
      assert.notEqual(bad.takeError(), null);
    } finally {
      fs.closeSync(readOnly);
    }
    const t = new IndexSlotTable(fd, OFFSET, SIZE, 1);
    store(t, 8, 4);
    t.writeAllSync(5);
    assert.equal(t.writtenCount, 5);
    assert.equal(slotOnDisk(fd, 8), 4);
    t.writeBackAsync(5);
    assert.equal(t.writing, false, 'writeAllSync left nothing flagged');
  }),
);
