import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { MessageStore } from './message-store.js';
import { nativeAvailable } from './io/native.js';
import { smallConfig, tempDir, testMessage } from './message-store-fixture.js';

const MIB = 1024 * 1024;

// On the mmap backend appended records can be dispatched at once; the file backend's become
// readable as its write-outs land, over several turns.
const backend = 'mmap';

test(
  'a dispatch slice does not leave a large backlog behind',
  { skip: !nativeAvailable && 'needs the native addon' },
  async () => {
    // A turn that appends more than a 4 ms slice can dispatch (a busy broker, a put loop) must
    // not leave the rest for later turns, or the backlog grows turn after turn. The slice goes
    // on while more than 4 MiB are left, up to 50 ms.
    const dir = tempDir();
    try {
      const store = await MessageStore.open(
        smallConfig(dir, backend, {
          commitLogSegmentSizeBytes: 64 * MIB,
          maxMessageSizeBytes: 64 * 1024,
          indexMaxHashSlots: 100_003,
          indexMaxEntries: 200_000,
        }),
      );
      try {
        const body = 'x'.repeat(1024);
        const messages = Array.from({ length: 64 }, (_, i) =>
          testMessage({ topic: `Lag${i % 8}`, queueId: i % 4, body, uniqKey: `K${i}` }),
        );
        const count = 30_000; // ~35 MiB of log, appended in one turn
        for (let i = 0; i < count; i++) void store.putMessageNow(messages[i % messages.length]);
        const behindBefore =
          store.stats().maxPhysicalOffset - store.stats().dispatchedPhysicalOffset;
        assert.ok(behindBefore > 30 * MIB, `appended ${behindBefore} bytes`);
        // The dispatcher's slice was scheduled by the first put, so it runs before this. Timed
        // from its first to its last record: a slice that ran into its 50 ms cap passes (the
        // old slices stopped after ~4 ms).
        let firstMs = -1;
        let lastMs = -1;
        const unsubscribe = store.onDispatched(() => {
          lastMs = performance.now();
          if (firstMs < 0) firstMs = lastMs;
        });
        await new Promise((resolve) => setImmediate(resolve));
        unsubscribe();
        const sliceMs = lastMs - firstMs;
        const s = store.stats();
        const behind = s.maxPhysicalOffset - s.dispatchedPhysicalOffset;
        assert.ok(
          behind <= 4 * MIB || sliceMs >= 25,
          `one slice of ${sliceMs.toFixed(1)} ms left ${behind} bytes undispatched`,
        );
        await store.whenDispatched();
      } finally {
        await store.shutdown();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
