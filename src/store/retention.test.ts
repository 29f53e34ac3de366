import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MessageStore } from './message-store.js';
import { STORE_BACKENDS, smallConfig, tempDir, testMessage } from './message-store-fixture.js';

for (const backend of STORE_BACKENDS) {
  test(`[${backend}] retention: disk ratios, expired segments, queues and index follow`, async () => {
    const dir = tempDir('sluice-ret-');
    let ratio = 0.5;
    try {
      const store = await MessageStore.open(
        smallConfig(dir, backend, { fileReservedTimeMs: 0, indexMaxEntries: 100 }),
        { diskUsedRatio: () => ratio },
      );
      const body = 'x'.repeat(300);
      for (let i = 0; i < 1000; i++) {
        const r = await store.putMessage(testMessage({ topic: 'Ret', body, keys: `k${i}` }));
        assert.equal(r.status, 'PUT_OK');
      }
      await store.whenDispatched();
      const segmentsBefore = store.stats().segments.length;
      assert.ok(segmentsBefore >= 5, `${segmentsBefore} segments`);
      const indexFiles = (): number => fs.readdirSync(path.join(dir, 'index')).length;
      const cqFiles = (): number =>
        fs.readdirSync(path.join(dir, 'consumequeue', 'Ret', '0')).length;
      const indexBefore = indexFiles();
      const cqBefore = cqFiles();

      // Under every threshold and outside deleteWhenHours: nothing happens.
      assert.equal(store.runRetention().deletedSegments, 0);
      // Over diskMaxUsedSpaceRatio: expired segments go (never the active one).
      ratio = 0.8;
      const round = store.runRetention();
      assert.equal(round.deletedSegments, segmentsBefore - 1);
      const min = store.stats().minPhysicalOffset;
      assert.ok(min > 0);
      const minQ = store.getMinOffsetInQueue('Ret', 0);
      assert.ok(minQ > 0 && minQ < 1000, `min queue offset ${minQ}`);
      const r = store.getMessage('Ret', 0, 0, 1);
      assert.deepEqual([r.status, r.nextBeginOffset], ['OFFSET_TOO_SMALL', minQ]);
      const found = store.getMessage('Ret', 0, minQ, 1);
      assert.equal(found.status, 'FOUND');
      found.slices!.release();
      assert.ok(store.getMessageStoreTimestamp('Ret', 0, minQ) > 0);
      assert.ok(cqFiles() < cqBefore, 'ConsumeQueue files below the log min were deleted');
      assert.ok(indexFiles() < indexBefore, 'index files below the log min were deleted');
      assert.deepEqual(store.queryMessageOffsets('Ret', 'k0', 5, 0, Date.now() + 1000), []);

      // Over the warning level: puts fail with DISK_FULL until space returns.
      ratio = 0.95;
      store.runRetention();
      assert.equal(store.stats().writable, false);
      assert.equal(
        (await store.putMessage(testMessage({ topic: 'Ret', body }))).status,
        'DISK_FULL',
      );
      ratio = 0.4;
      store.runRetention();
      assert.equal(store.stats().writable, true);
      assert.equal((await store.putMessage(testMessage({ topic: 'Ret', body }))).status, 'PUT_OK');
      await store.shutdown();

      // After a restart the queue's min offset still follows the log.
      const again = await MessageStore.open(smallConfig(dir, backend, { indexMaxEntries: 100 }), {
        diskUsedRatio: () => 0.4,
      });
      assert.equal(again.getMinOffsetInQueue('Ret', 0), minQ);
      assert.equal(again.getMaxOffsetInQueue('Ret', 0), 1001);
      await again.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
