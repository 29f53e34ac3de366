import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { decodeRecords } from '../common/codec/decoded-message.js';
import { COPY_RUN_MAX_BYTES, COPY_SLAB_BYTES, COPY_SLABS_MAX } from './copy-arena.js';
import { MessageStore } from './message-store.js';
import { STORE_BACKENDS, smallConfig, tempDir, testMessage } from './message-store-fixture.js';
import type { LogSlices, StoreBackend, StoreConfig } from './types.js';

function bodiesOf(slices: LogSlices): string[] {
  const out: string[] = [];
  for (const b of slices.buffers) {
    for (const m of decodeRecords(b)) out.push(Buffer.from(m.body).toString());
  }
  return out;
}

const small = (i: number): string => `s${i}`;
const large = (i: number): string => `L${i}:` + 'x'.repeat(1000);

/** Each backend, and the file backend reading with `pread` instead of a read-only mapping. */
const VARIANTS: Array<[string, StoreBackend, Partial<StoreConfig>]> = [
  ...STORE_BACKENDS.map((b): [string, StoreBackend, Partial<StoreConfig>] => [b, b, {}]),
  ['file, pread', 'file', { fileReadsMapped: false }],
];

for (const [name, backend, over] of VARIANTS) {
  test(`[${name}] a get copies scattered records into one buffer and keeps long runs as views, in queue order`, async () => {
    const dir = tempDir();
    try {
      const store = await MessageStore.open(
        smallConfig(dir, backend, {
          ...over,
          commitLogSegmentSizeBytes: 1024 * 1024,
          maxTransferCount: 1000,
        }),
      );
      const expected: string[] = [];
      const put = async (topic: string, body: string): Promise<void> => {
        const r = await store.putMessage(testMessage({ topic, body }));
        assert.equal(r.status, 'PUT_OK');
        if (topic === 'Mine') expected.push(body);
      };
      // Ten records of Mine, each between two of Other's: ten runs of one record.
      for (let i = 0; i < 10; i++) {
        await put('Mine', small(i));
        await put('Other', `o${i}`);
      }
      // One run longer than COPY_RUN_MAX_BYTES.
      const longRun = Math.ceil(COPY_RUN_MAX_BYTES / 1000) + 2;
      for (let i = 0; i < longRun; i++) await put('Mine', large(i));
      // Scattered again.
      for (let i = 10; i < 15; i++) {
        await put('Other', `o${i}`);
        await put('Mine', small(i));
      }
      await store.whenDispatched();

      const r = store.getMessage('Mine', 0, 0, 1000);
      assert.equal(r.status, 'FOUND');
      assert.equal(r.messageCount, expected.length);
      const slices = r.slices!;
      // The first ten copies, the long run's view, the last five copies.
      assert.equal(slices.buffers.length, 3);
      assert.deepEqual(bodiesOf(slices), expected);
      assert.equal(
        slices.totalBytes,
        slices.buffers.reduce((n, b) => n + b.length, 0),
      );

      // While a result is held, later gets do not write over its copies.
      const first = store.getMessage('Mine', 0, 0, 10).slices!;
      const before = Buffer.concat(first.buffers);
      for (let k = 0; k < 50; k++) {
        const again = store.getMessage('Mine', 0, k % 5, 10);
        assert.equal(again.status, 'FOUND');
        assert.deepEqual(bodiesOf(again.slices!), expected.slice(k % 5, (k % 5) + 10));
        again.slices!.release();
      }
      assert.deepEqual(Buffer.concat(first.buffers), before);
      first.release();
      slices.release();

      // Released copy memory is reused and reads stay right.
      for (let k = 0; k < 200; k++) {
        const from = k % expected.length;
        const again = store.getMessage('Mine', 0, from, 7);
        assert.deepEqual(bodiesOf(again.slices!), expected.slice(from, from + 7));
        again.slices!.release();
      }
      await store.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${name}] with all copy memory held by unwritten results, a get answers with views`, async () => {
    const dir = tempDir();
    try {
      const store = await MessageStore.open(
        smallConfig(dir, backend, {
          ...over,
          commitLogSegmentSizeBytes: 8 * 1024 * 1024,
          maxTransferCount: 1000,
          maxTransferBytes: 4 * 1024 * 1024,
        }),
      );
      const expected: string[] = [];
      for (let i = 0; i < 1000; i++) {
        await store.putMessage(testMessage({ topic: 'Mine', body: large(i) }));
        await store.putMessage(testMessage({ topic: 'Other', body: `o${i}` }));
        expected.push(large(i));
      }
      await store.whenDispatched();
      const held: LogSlices[] = [];
      let copiedBytes = 0;
      while (copiedBytes <= COPY_SLABS_MAX * COPY_SLAB_BYTES) {
        const r = store.getMessage('Mine', 0, 0, 1000);
        assert.equal(r.messageCount, 1000);
        held.push(r.slices!);
        copiedBytes += r.slices!.totalBytes;
      }
      // The last get ran out of copy memory part way: the rest are views, one per record.
      const last = held[held.length - 1]!;
      assert.ok(last.buffers.length > 100, `${last.buffers.length} buffers`);
      assert.deepEqual(bodiesOf(last), expected);
      for (const h of held) assert.deepEqual(bodiesOf(h), expected);
      for (const h of held) h.release();
      // Released: copies again.
      const r = store.getMessage('Mine', 0, 0, 1000);
      assert.ok(r.slices!.buffers.length <= Math.ceil(r.slices!.totalBytes / COPY_SLAB_BYTES) + 1);
      assert.deepEqual(bodiesOf(r.slices!), expected);
      r.slices!.release();
      await store.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
