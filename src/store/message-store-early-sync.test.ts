import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeCheckpoint } from './checkpoint.js';
import { EARLY_SYNC_MIN_NEW_FILES } from './consume-queue-store.js';
import { MessageStore } from './message-store.js';
import { STORE_BACKENDS, smallConfig, tempDir, testMessage } from './message-store-fixture.js';

/** Opens a store whose thorough ConsumeQueue sync is an hour away, puts one message per topic. */
async function storeWithTopics(dir: string, topics: number): Promise<MessageStore> {
  const store = await MessageStore.open(
    smallConfig(dir, STORE_BACKENDS[0]!, {
      commitLogSegmentSizeBytes: 1024 * 1024,
      consumeQueueFlushIntervalMs: 20,
      consumeQueueFlushThoroughIntervalMs: 3_600_000,
    }),
  );
  const puts: Array<Promise<unknown>> = [];
  for (let t = 0; t < topics; t++) {
    puts.push(store.putMessage(testMessage({ topic: `early${t}`, queueId: 0, body: `m${t}` })));
  }
  await Promise.all(puts);
  await store.whenDispatched();
  return store;
}

/** The synced-logics offset of the checkpoint on disk, polled until it moves or `waitMs` ends. */
async function syncedOffsetWithin(dir: string, waitMs: number): Promise<number> {
  const until = Date.now() + waitMs;
  for (;;) {
    // Read, not opened as a Checkpoint: that would clear this process's temp files, i.e. the
    // store's save in flight.
    let bytes: Buffer | null = null;
    try {
      bytes = fs.readFileSync(path.join(dir, 'checkpoint'));
    } catch {
      // not written yet
    }
    const synced = (bytes && decodeCheckpoint(bytes)?.logicsSyncedOffset) ?? 0;
    if (synced > 0 || Date.now() >= until) return synced;
    await sleep(20);
  }
}

test('many new ConsumeQueue files bring the thorough sync forward; a few do not', async () => {
  const few = tempDir();
  const many = tempDir();
  try {
    const quiet = await storeWithTopics(few, 10);
    try {
      assert.equal(await syncedOffsetWithin(few, 400), 0, '10 new queues wait for the interval');
    } finally {
      await quiet.shutdown();
    }
    const busy = await storeWithTopics(many, EARLY_SYNC_MIN_NEW_FILES);
    try {
      const synced = await syncedOffsetWithin(many, 10_000);
      assert.ok(synced > 0, `${EARLY_SYNC_MIN_NEW_FILES} new queues are synced early`);
    } finally {
      await busy.shutdown();
    }
  } finally {
    fs.rmSync(few, { recursive: true, force: true });
    fs.rmSync(many, { recursive: true, force: true });
  }
});
