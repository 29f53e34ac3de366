import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { currentBootId } from './checkpoint.js';
import { MessageStore } from './message-store.js';
import { STORE_BACKENDS, smallConfig, tempDir, testMessage } from './message-store-fixture.js';
import type { StoreConfig } from './types.js';

const SEG = 64 * 1024;

function commitLogFiles(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'commitlog')).sort();
}

async function fill(config: Partial<StoreConfig>, count: number): Promise<number> {
  const store = await MessageStore.open(config);
  for (let i = 0; i < count; i++) {
    await store.putMessage(testMessage({ topic: 'Reopen', body: `m${i}-${'x'.repeat(900)}` }));
  }
  const end = store.stats().maxPhysicalOffset;
  await store.shutdown();
  return end;
}

for (const backend of STORE_BACKENDS) {
  test(`[${backend}] reopen: the pre-allocated trailing segment is unused and kept`, async () => {
    const dir = tempDir('sluice-reopen-');
    try {
      const config = smallConfig(dir, backend, { commitLogSegmentSizeBytes: SEG });
      // ~1.5 segments: segment 1 is active, segment 2 is pre-allocated (all zero).
      const end = await fill(config, 100);
      assert.ok(end > SEG && end < 2 * SEG, `end ${end}`);
      const files = commitLogFiles(dir);
      assert.equal(files.length, 3);
      const trailing = path.join(dir, 'commitlog', files[2]);
      const inode = fs.statSync(trailing).ino;

      const store = await MessageStore.open(config);
      try {
        assert.equal(store.recovery.abnormal, false);
        assert.equal(store.recovery.logEndOffset, end);
        const segs = store.stats().segments;
        assert.deepEqual(
          segs.map((s) => [s.startOffset, s.active]),
          [
            [0, false],
            [SEG, true],
          ],
        );
        assert.equal(segs[1].wroteBytes, end - SEG);
        // Kept as the next segment (same file), not deleted and created again.
        assert.equal(fs.statSync(trailing).ino, inode);
        // Rolling into it works and pre-allocates the one after.
        for (let i = 0; i < 80; i++) {
          const r = await store.putMessage(testMessage({ topic: 'Reopen', body: 'y'.repeat(900) }));
          assert.equal(r.status, 'PUT_OK');
        }
        const after = store.stats().segments;
        assert.equal(after.length, 3);
        assert.deepEqual(
          after.map((s) => s.active),
          [false, false, true],
        );
        assert.equal(commitLogFiles(dir).length, 4);
      } finally {
        await store.shutdown();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${backend}] reopen after a crash: the torn tail is wiped, as far as needed`, async () => {
    const dir = tempDir('sluice-reopen-');
    try {
      const seg = 4 * 1024 * 1024;
      const config = smallConfig(dir, backend, { commitLogSegmentSizeBytes: seg });
      const end = await fill(config, 20);
      const file = path.join(dir, 'commitlog', '00000000000000000000');
      // A torn record right after the end, and (impossible after a process crash: nothing is
      // ever written past a torn record) a marker 3 MiB further on.
      const far = 3 * 1024 * 1024;
      const scribble = (): void => {
        const fd = fs.openSync(file, 'r+');
        fs.writeSync(fd, Buffer.from([0, 0, 1, 0, 0xda, 0xa3, 0x20, 0xa7, 9, 9]), 0, 10, end);
        fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, far);
        fs.closeSync(fd);
      };
      const byteAt = (pos: number): number => {
        const b = Buffer.alloc(1);
        const fd = fs.openSync(file, 'r');
        fs.readSync(fd, b, 0, 1, pos);
        fs.closeSync(fd);
        return b[0];
      };

      // Process crash (same boot): wiped up to the first zero MiB past a maximal record.
      scribble();
      fs.writeFileSync(path.join(dir, 'abort'), `${process.pid + 1} ${currentBootId()}\n`);
      let store = await MessageStore.open(config);
      assert.equal(store.recovery.abnormal, true);
      assert.equal(store.recovery.logEndOffset, end);
      await store.shutdown();
      assert.equal(byteAt(end + 2), 0);
      assert.equal(byteAt(far), 0x5a, 'a process crash scans only the possibly written part');

      // Machine crash (another boot): holes are possible, the whole tail is wiped.
      scribble();
      fs.writeFileSync(path.join(dir, 'abort'), `${process.pid + 1} another-boot\n`);
      store = await MessageStore.open(config);
      assert.equal(store.recovery.logEndOffset, end);
      const r = await store.putMessage(testMessage({ topic: 'Reopen', body: 'after' }));
      assert.equal(r.appended[0].physicalOffset, end);
      await store.shutdown();
      assert.equal(byteAt(far), 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
