import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CHECKPOINT_SIZE,
  Checkpoint,
  acquireStoreLock,
  currentBootId,
  readAbortMarker,
  removeAbortMarker,
  writeAbortMarker,
} from './checkpoint.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cp-'));
}

test('checkpoint round-trips and a damaged file is detected', () => {
  const dir = tmpDir();
  try {
    const cp = new Checkpoint(dir);
    assert.equal(cp.loadedValid, false);
    cp.data.physicMsgTimestamp = 1_700_000_000_123;
    cp.data.logicsWrittenOffset = 2 ** 40 + 5;
    cp.data.logicsSyncedOffset = 77;
    cp.save();
    assert.equal(fs.statSync(cp.file).size, CHECKPOINT_SIZE);
    const again = new Checkpoint(dir);
    assert.equal(again.loadedValid, true);
    assert.equal(again.data.physicMsgTimestamp, 1_700_000_000_123);
    assert.equal(again.data.logicsWrittenOffset, 2 ** 40 + 5);
    assert.equal(again.data.logicsSyncedOffset, 77);
    const bytes = fs.readFileSync(cp.file);
    bytes[3] ^= 0xff;
    fs.writeFileSync(cp.file, bytes);
    const damaged = new Checkpoint(dir);
    assert.equal(damaged.loadedValid, false);
    assert.equal(damaged.data.logicsWrittenOffset, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('abort marker records pid and boot id', () => {
  const dir = tmpDir();
  try {
    assert.equal(readAbortMarker(dir), null);
    writeAbortMarker(dir);
    assert.deepEqual(readAbortMarker(dir), { pid: process.pid, bootId: currentBootId() });
    removeAbortMarker(dir);
    assert.equal(readAbortMarker(dir), null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('store lock: exclusive while held, stale locks are taken over', () => {
  const dir = tmpDir();
  try {
    const release = acquireStoreLock(dir);
    assert.throws(() => acquireStoreLock(dir), /locked by a running process/);
    release();
    const again = acquireStoreLock(dir);
    again();
    // A lock left by a process that no longer exists.
    fs.writeFileSync(path.join(dir, 'lock'), `999999999 ${currentBootId()} 1\n`);
    const taken = acquireStoreLock(dir);
    taken();
    assert.equal(fs.existsSync(path.join(dir, 'lock')), false);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('background saves coalesce, the last data wins, and no temp file is left', async () => {
  const dir = tmpDir();
  try {
    const cp = new Checkpoint(dir);
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 20; i++) {
      cp.data.logicsWrittenOffset = i * 100;
      saves.push(cp.saveAsync());
    }
    await Promise.all(saves);
    await cp.settled();
    assert.equal(new Checkpoint(dir).data.logicsWrittenOffset, 2000);
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
      'temp files are renamed away',
    );
    // A failing save rejects with a typed error (the folder is gone).
    fs.rmSync(dir, { recursive: true, force: true });
    await assert.rejects(cp.saveAsync(), { code: 'NATIVE_IO' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
