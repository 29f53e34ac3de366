import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CQ_ENTRY_SIZE, offsetToFileName } from './consume-queue-entry.js';
import { FdCache } from './consume-queue-fd-cache.js';
import { CqFiles, type CqFilesContext } from './consume-queue-files.js';

const ENTRIES_PER_FILE = 4;
const FILE_BYTES = ENTRIES_PER_FILE * CQ_ENTRY_SIZE;

function setup(): { dir: string; ctx: CqFilesContext; files: CqFiles } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cqfiles-'));
  const ctx: CqFilesContext = {
    entriesPerFile: ENTRIES_PER_FILE,
    fdCache: new FdCache(2),
    writer: null,
    filesCreated: 0,
  };
  return { dir, ctx, files: new CqFiles(ctx, dir) };
}

/** One entry's bytes with every byte set to `fill`. */
const entry = (fill: number): Uint8Array => new Uint8Array(CQ_ENTRY_SIZE).fill(fill);

test('files are created in order, found by first entry, written, read back and fsynced', () => {
  const { dir, ctx, files } = setup();
  try {
    assert.equal(files.load(), true, 'an existing empty folder loads');
    assert.equal(files.count, 0);
    const a = files.findOrCreate(0);
    const b = files.findOrCreate(ENTRIES_PER_FILE);
    assert.equal(files.findOrCreate(0), a, 'an existing file is found, not created again');
    assert.equal(ctx.filesCreated, 2);
    assert.equal(files.find(ENTRIES_PER_FILE), b);
    assert.equal(files.find(2 * ENTRIES_PER_FILE), undefined);
    assert.throws(() => files.findOrCreate(2), /out of order/);
    assert.equal(path.basename(b.path), offsetToFileName(FILE_BYTES));

    files.write(a, entry(7), 0, CQ_ENTRY_SIZE, CQ_ENTRY_SIZE);
    assert.equal(a.lengthBytes, 2 * CQ_ENTRY_SIZE, 'a write past the end extends the length');
    const out = new Uint8Array(CQ_ENTRY_SIZE);
    files.readEntry(a, 1, out);
    assert.deepEqual(out, entry(7));
    files.readEntry(a, 0, out);
    assert.deepEqual(out, entry(0), 'the hole before the written entry reads as zeros');
    files.readEntry(a, 3, out.fill(9));
    assert.deepEqual(out, entry(0), 'past the end of the file: zeros');
    assert.equal(files.read(a, out, CQ_ENTRY_SIZE, CQ_ENTRY_SIZE), CQ_ENTRY_SIZE);

    const unsynced: string[] = [];
    files.takeUnsynced(unsynced);
    assert.deepEqual(unsynced, [a.path]);
    const again: string[] = [];
    files.takeUnsynced(again);
    assert.deepEqual(again, [], 'the flag is cleared once taken');
    files.write(b, entry(1), 0, CQ_ENTRY_SIZE, 0);
    files.sync();
    assert.equal(b.unsynced, false);
    files.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('load lists the folder in order, caps lengths and rejects misaligned names', () => {
  const { dir, ctx } = setup();
  try {
    assert.equal(new CqFiles(ctx, path.join(dir, 'missing')).load(), false);
    fs.writeFileSync(path.join(dir, offsetToFileName(FILE_BYTES)), new Uint8Array(FILE_BYTES + 7));
    fs.writeFileSync(path.join(dir, offsetToFileName(0)), new Uint8Array(CQ_ENTRY_SIZE));
    fs.writeFileSync(path.join(dir, 'not-a-queue-file'), 'x');
    const files = new CqFiles(ctx, dir);
    assert.equal(files.load(), true);
    assert.equal(files.count, 2);
    assert.equal(files.first!.startIndex, 0);
    assert.equal(files.first!.lengthBytes, CQ_ENTRY_SIZE);
    assert.equal(files.last!.startIndex, ENTRIES_PER_FILE);
    assert.equal(files.last!.lengthBytes, FILE_BYTES, 'bytes past a full file do not count');
    files.close();

    fs.writeFileSync(path.join(dir, offsetToFileName(FILE_BYTES * 2 + 1)), '');
    assert.throws(
      () => new CqFiles(ctx, dir).load(),
      (err: Error & { code?: string }) =>
        err.code === 'STORE_CORRUPT' && /not aligned/.test(err.message),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('truncate, removeFirst, removeLast and clear change the files on disk', () => {
  const { dir, files } = setup();
  try {
    const made = [0, 1, 2].map((i) => files.findOrCreate(i * ENTRIES_PER_FILE));
    for (const f of made) files.write(f, entry(3), 0, CQ_ENTRY_SIZE, 0);
    files.truncate(made[2], 0);
    assert.equal(fs.statSync(made[2].path).size, 0);
    assert.equal(made[2].lengthBytes, 0);
    files.removeLast();
    files.removeFirst();
    assert.equal(files.count, 1);
    assert.equal(files.first, made[1]);
    assert.equal(fs.existsSync(made[0].path), false);
    assert.equal(fs.existsSync(made[2].path), false);
    files.clear();
    assert.equal(files.count, 0);
    assert.equal(fs.existsSync(made[1].path), true, 'clear leaves the files to the caller');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
