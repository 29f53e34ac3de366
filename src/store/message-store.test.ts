import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeRecords } from '../common/codec/decoded-message.js';
import { javaStringHashCode } from '../common/java-hash.js';
import { nativeAvailable } from './io/native.js';
import { MessageStore } from './message-store.js';
import { STORE_BACKENDS, smallConfig, tempDir, testMessage } from './message-store-fixture.js';
import type { DispatchedMessage, GetResult, MessageFilter } from './types.js';

function bodies(r: GetResult): string[] {
  assert.ok(r.slices !== undefined);
  const out: string[] = [];
  for (const b of r.slices.buffers)
    for (const m of decodeRecords(b)) out.push(Buffer.from(m.body).toString());
  r.slices.release();
  return out;
}

const tagFilter = (tag: string): MessageFilter => {
  const code = javaStringHashCode(tag);
  return { isMatchedByTagsCode: (c) => c === code };
};

for (const backend of STORE_BACKENDS) {
  test(`[${backend}] put, dispatch, get with filters, statuses, lookups`, async () => {
    const dir = tempDir();
    try {
      const store = await MessageStore.open(smallConfig(dir, backend, { maxTransferCount: 8 }));
      const seen: DispatchedMessage[] = [];
      const unsubscribe = store.onDispatched((m) => seen.push({ ...m, properties: m.properties }));
      const t0 = Date.now();
      for (let i = 0; i < 30; i++) {
        const r = await store.putMessage(
          testMessage({
            topic: 'TopicA',
            queueId: 1,
            body: `m${i}`,
            tags: i % 3 === 0 ? 'TagA' : 'TagB',
            keys: `order-${i} common`,
            uniqKey: `UNIQ${i}`,
          }),
        );
        assert.equal(r.status, 'PUT_OK');
        assert.equal(r.appended[0].queueOffset, i);
      }
      const batch = await store.putMessages([
        testMessage({ topic: 'TopicB', body: 'b0' }),
        testMessage({ topic: 'TopicB', body: 'b1' }),
      ]);
      assert.equal(batch.status, 'PUT_OK');
      assert.deepEqual(
        batch.appended.map((a) => a.queueOffset),
        [0, 1],
      );
      await store.whenDispatched();
      assert.equal(seen.length, 32);
      assert.equal(seen[5].queueOffset, 5);
      assert.match(seen[5].properties, /UNIQ5/);
      unsubscribe();

      assert.equal(store.getMaxOffsetInQueue('TopicA', 1), 30);
      assert.equal(store.getMinOffsetInQueue('TopicA', 1), 0);
      assert.deepEqual([...store.listQueues()].sort(), [
        ['TopicA', [1]],
        ['TopicB', [0]],
      ]);

      // Plain reads: limited by maxTransferCount (8).
      let r = store.getMessage('TopicA', 1, 0, 32);
      assert.equal(r.status, 'FOUND');
      assert.equal(r.messageCount, 8);
      assert.equal(r.nextBeginOffset, 8);
      assert.deepEqual(bodies(r), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
      r = store.getMessage('TopicA', 1, 28, 5);
      assert.deepEqual(bodies(r), ['m28', 'm29']);
      assert.equal(r.nextBeginOffset, 30);
      // Tag filter skips non-matching entries and moves next past them.
      r = store.getMessage('TopicA', 1, 1, 3, tagFilter('TagA'));
      assert.deepEqual(bodies(r), ['m3', 'm6', 'm9']);
      assert.equal(r.nextBeginOffset, 10);
      r = store.getMessage('TopicA', 1, 28, 3, tagFilter('TagA'));
      assert.equal(r.status, 'NO_MATCHED_MESSAGE');
      assert.equal(r.nextBeginOffset, 30);
      // Record filter.
      r = store.getMessage('TopicA', 1, 0, 3, {
        isMatchedByTagsCode: () => true,
        isMatchedByRecord: (rec) => decodeRecords(rec)[0].properties.get('UNIQ_KEY') === 'UNIQ4',
      });
      assert.deepEqual(bodies(r), ['m4']);
      // Byte limit: at least one message, then stop before exceeding.
      const one = store.getMessage('TopicA', 1, 0, 1);
      const recordBytes = one.slices!.totalBytes;
      one.slices!.release();
      // Statuses.
      assert.equal(store.getMessage('Nope', 0, 0, 1).status, 'NO_MATCHED_LOGIC_QUEUE');
      r = store.getMessage('TopicA', 1, 30, 1);
      assert.deepEqual([r.status, r.nextBeginOffset], ['OFFSET_OVERFLOW_ONE', 30]);
      r = store.getMessage('TopicA', 1, 45, 1);
      assert.deepEqual([r.status, r.nextBeginOffset], ['OFFSET_OVERFLOW_BADLY', 0]);
      assert.ok(recordBytes > 0);

      // Time and timestamp lookups.
      const ts5 = store.getMessageStoreTimestamp('TopicA', 1, 5);
      assert.ok(ts5 >= t0);
      assert.equal(store.getMessageStoreTimestamp('TopicA', 1, 99), -1);
      assert.equal(
        store.getEarliestMessageTime('TopicA', 1),
        store.getMessageStoreTimestamp('TopicA', 1, 0),
      );
      assert.equal(store.getOffsetInQueueByTime('TopicA', 1, 0), 0);
      assert.equal(store.getOffsetInQueueByTime('TopicA', 1, Date.now() + 60_000), 30);
      const byTime = store.getOffsetInQueueByTime('TopicA', 1, ts5);
      assert.ok(byTime <= 5 && store.getMessageStoreTimestamp('TopicA', 1, byTime) === ts5);

      // Key queries: KEYS entries and UNIQ_KEY, newest first, verified against records.
      const k7 = store.queryMessageOffsets('TopicA', 'order-7', 10, 0, Date.now() + 1000);
      assert.equal(k7.length, 1);
      const rec = store.lookMessageByOffset(k7[0])!;
      assert.equal(Buffer.from(decodeRecords(rec.buffers[0])[0].body).toString(), 'm7');
      rec.release();
      assert.deepEqual(store.queryMessageOffsets('TopicA', 'UNIQ7', 10, 0, Date.now() + 1000), k7);
      const common = store.queryMessageOffsets('TopicA', 'common', 5, 0, Date.now() + 1000);
      assert.equal(common.length, 5);
      assert.ok(common[0] > common[1], 'newest first');
      assert.deepEqual(
        store.queryMessageOffsets('TopicB', 'order-7', 10, 0, Date.now() + 1000),
        [],
      );
      assert.equal(store.lookMessageByOffset(3), null);

      // Put statuses for bad input.
      const big = testMessage({ topic: 'TopicA', body: 'x'.repeat(20 * 1024) });
      assert.equal((await store.putMessage(big)).status, 'MESSAGE_ILLEGAL');
      const badTopic = testMessage({ topic: 'bad topic!', body: 'x' });
      assert.equal((await store.putMessage(badTopic)).status, 'MESSAGE_ILLEGAL');
      const bigProps = testMessage({
        topic: 'TopicA',
        body: 'x',
        extra: { P: 'y'.repeat(40_000) },
      });
      assert.equal((await store.putMessage(bigProps)).status, 'PROPERTIES_SIZE_EXCEEDED');

      const stats = store.stats();
      assert.equal(stats.putMessageCount, 32);
      assert.equal(stats.dispatchedPhysicalOffset, stats.maxPhysicalOffset);
      assert.equal(stats.writable, true);

      // Delete a topic: its queues go, its offsets restart at 0.
      store.deleteTopic('TopicB');
      assert.equal(store.getMessage('TopicB', 0, 0, 1).status, 'NO_MATCHED_LOGIC_QUEUE');
      const again = await store.putMessage(testMessage({ topic: 'TopicB', body: 'new' }));
      assert.equal(again.appended[0].queueOffset, 0);
      await store.whenDispatched();
      assert.deepEqual(bodies(store.getMessage('TopicB', 0, 0, 5)), ['new']);
      await store.shutdown();
      assert.equal(fs.existsSync(path.join(dir, 'abort')), false);
      assert.equal(fs.existsSync(path.join(dir, 'lock')), false);

      // Clean restart: everything readable, offsets continue, nothing re-dispatched twice.
      const reopened = await MessageStore.open(smallConfig(dir, backend, { maxTransferCount: 64 }));
      assert.equal(reopened.recovery.abnormal, false);
      assert.equal(reopened.getMaxOffsetInQueue('TopicA', 1), 30);
      assert.equal(bodies(reopened.getMessage('TopicA', 1, 0, 64)).length, 30);
      assert.deepEqual(bodies(reopened.getMessage('TopicB', 0, 0, 5)), ['new']);
      const next = await reopened.putMessage(
        testMessage({ topic: 'TopicA', queueId: 1, body: 'm30' }),
      );
      assert.equal(next.appended[0].queueOffset, 30);
      assert.equal(
        reopened.queryMessageOffsets('TopicA', 'order-7', 10, 0, Date.now() + 1000).length,
        1,
      );
      await reopened.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${backend}] sync flush mode and a second open of the same folder`, async () => {
    const dir = tempDir();
    try {
      const store = await MessageStore.open(
        smallConfig(dir, backend, { flushMode: 'sync', maxTransferBytes: 250 }),
      );
      await assert.rejects(MessageStore.open(smallConfig(dir, backend)), /locked/);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.putMessage(testMessage({ topic: 'S', body: `s${i}` })),
        ),
      );
      assert.ok(results.every((r) => r.status === 'PUT_OK'));
      assert.ok(store.stats().flushedPhysicalOffset >= results[49].appended[0].physicalOffset);
      await store.whenDispatched();
      assert.equal(store.getMaxOffsetInQueue('S', 0), 50);
      // Byte limit: records of ~110 bytes, 250 bytes per get -> 2 messages.
      const r = store.getMessage('S', 0, 0, 32);
      assert.equal(r.messageCount, 2);
      assert.ok(r.slices!.totalBytes <= 250);
      if (backend === 'mmap') {
        assert.equal(r.slices!.buffers.length, 1, 'contiguous records merge into one view');
      }
      r.slices!.release();
      await store.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const backend of STORE_BACKENDS) {
  test(`[${backend}] a get reads runs of adjacent records: interleaved queues, segment ends, a damaged record`, async () => {
    const dir = tempDir();
    try {
      const store = await MessageStore.open(smallConfig(dir, backend, { maxTransferCount: 64 }));
      const phys: number[] = [];
      store.onDispatched((m) => {
        if (m.queueId === 2) phys.push(m.physicalOffset);
      });
      // Queue 0 and 1 interleaved (runs of 1), then queue 2 alone across a segment end.
      for (let i = 0; i < 20; i++) {
        await store.putMessage(
          testMessage({ topic: 'Runs', queueId: i % 2, body: `q${i % 2}-${i}` }),
        );
      }
      const big = 'x'.repeat(3000);
      for (let i = 0; i < 60; i++) {
        await store.putMessage(testMessage({ topic: 'Runs', queueId: 2, body: `${i}:${big}` }));
      }
      await store.whenDispatched();
      assert.ok(store.stats().segments.length >= 3, 'queue 2 spans segment ends');
      assert.deepEqual(
        bodies(store.getMessage('Runs', 0, 0, 64)),
        Array.from({ length: 10 }, (_, k) => `q0-${2 * k}`),
      );
      const all = bodies(store.getMessage('Runs', 2, 0, 64));
      assert.equal(all.length, 60);
      all.forEach((b, i) => assert.equal(b, `${i}:${big}`));
      // Damage the magic of queue 2's 5th record.
      await store.shutdown();
      const segBytes = 64 * 1024;
      const segName = String(Math.floor(phys[4] / segBytes) * segBytes).padStart(20, '0');
      const fd = fs.openSync(path.join(dir, 'commitlog', segName), 'r+');
      fs.writeSync(fd, Buffer.from([0, 0, 0, 0]), 0, 4, (phys[4] % segBytes) + 4);
      fs.closeSync(fd);
      const reopened = await MessageStore.open(smallConfig(dir, backend, { maxTransferCount: 64 }));
      try {
        // Only the damaged record is skipped, as a record-by-record read would.
        const got = reopened.getMessage('Runs', 2, 0, 64);
        assert.equal(got.status, 'FOUND');
        const want = all.filter((_, i) => i !== 4);
        assert.equal(got.messageCount, want.length);
        assert.deepEqual(bodies(got), want);
      } finally {
        await reopened.shutdown();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test(
  'with the addon, the key index is mapped whatever the CommitLog backend',
  { skip: !nativeAvailable && 'needs the native addon' },
  async () => {
    // Buffered, the index wrote its dirty slot pages with pwrite on the event loop at every
    // periodic flush (8-44 ms once a second with random keys at 1,000 sends/s).
    for (const backend of STORE_BACKENDS) {
      const dir = tempDir();
      try {
        const store = await MessageStore.open(smallConfig(dir, backend));
        try {
          const put = await store.putMessage(
            testMessage({ topic: 'Mapped', body: 'b', keys: 'k1', uniqKey: 'U1' }),
          );
          assert.equal(put.status, 'PUT_OK');
          await store.whenDispatched();
          const indexDir = path.join(fs.realpathSync(dir), 'index');
          const maps = fs.readFileSync('/proc/self/maps', 'utf8');
          assert.ok(maps.includes(`${indexDir}/`), `[${backend}] no mapping of ${indexDir}`);
          assert.equal(
            store.queryMessageOffsets('Mapped', 'k1', 8, 0, Date.now() + 1000).length,
            1,
          );
        } finally {
          await store.shutdown();
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  },
);
