import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecords } from '../common/codec/decoded-message.js';
import {
  BACKENDS,
  MapAssigner,
  message,
  openLog,
  takeBytes,
  tempStore,
  testConfig,
} from './commit-log.fixture.js';
import type { AppendResult } from './types.js';

for (const backend of BACKENDS) {
  test(`[${backend}] readChunk: a raw view that may end mid-record; null near the end`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const log = await openLog(testConfig(dir, backend), new MapAssigner());
      const rs: AppendResult[] = [];
      for (let i = 0; i < 5; i++) rs.push(log.append(message(`chunk-${i}`)));
      const first = rs[0];
      const cut = first.sizeBytes + 10;
      const chunk = log.readChunk(first.physicalOffset, cut);
      assert.ok(chunk);
      assert.equal(chunk.totalBytes, cut, 'the view stops at maxBytes, inside the second record');
      assert.equal(decodeRecords(chunk.buffers[0].subarray(0, first.sizeBytes))[0].queueOffset, 0);
      chunk.release();
      chunk.release(); // a second release is harmless
      const all = log.readChunk(first.physicalOffset, 1 << 20);
      assert.ok(all);
      assert.equal(all.totalBytes, log.maxOffset - first.physicalOffset, 'capped at the end');
      all.release();
      assert.equal(log.readChunk(log.maxOffset - 4, 100), null, 'fewer than 8 bytes there');
      assert.equal(log.readChunk(log.maxOffset, 100), null);
      await log.close();
    } finally {
      cleanup();
    }
  });

  test(`[${backend}] readRecords: one view of an exact run, null when the run differs`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const log = await openLog(testConfig(dir, backend), new MapAssigner());
      const rs: AppendResult[] = [];
      for (let i = 0; i < 6; i++) rs.push(log.append(message(`run-${i}-${'y'.repeat(i * 11)}`)));
      const from = rs[1];
      const total = rs[1].sizeBytes + rs[2].sizeBytes + rs[3].sizeBytes;
      const run = log.readRecords(from.physicalOffset, total, 3);
      assert.ok(run);
      assert.equal(run.buffers.length, 1);
      assert.deepEqual(
        decodeRecords(run.buffers[0]).map((d) => d.queueOffset),
        [1, 2, 3],
      );
      run.release();
      assert.equal(log.readRecords(from.physicalOffset, total, 2), null, 'count differs');
      assert.equal(log.readRecords(from.physicalOffset, total - 1, 3), null, 'bytes differ');
      assert.equal(log.readRecords(from.physicalOffset + 1, total, 3), null, 'not a record start');
      assert.equal(log.readRecords(rs[5].physicalOffset, rs[5].sizeBytes + 1, 1), null, 'past end');
      assert.equal(log.readRecords(from.physicalOffset, 4, 1), null, 'too short for a record');
      await log.close();
    } finally {
      cleanup();
    }
  });

  test(`[${backend}] firstRecordStoreTimestamp and readRecord per segment`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const log = await openLog(testConfig(dir, backend), new MapAssigner());
      assert.equal(log.firstRecordStoreTimestamp(0), -1, 'an empty segment has no first record');
      const first = log.append(message('first'));
      // Later records get a later store time (the clock has milliseconds).
      while (Date.now() <= first.storeTimestamp + 1) {
        /* spin for ~2 ms */
      }
      // Fill past the first 64 KiB segment.
      let last = first;
      while (log.segments().length < 2) last = log.append(message('z'.repeat(2000)));
      assert.notEqual(last.storeTimestamp, first.storeTimestamp);
      assert.equal(log.firstRecordStoreTimestamp(0), first.storeTimestamp);
      assert.equal(log.firstRecordStoreTimestamp(1), last.storeTimestamp);
      assert.equal(log.firstRecordStoreTimestamp(7), -1, 'no such segment');
      const rec = takeBytes(log.readRecord(last.physicalOffset));
      assert.ok(rec);
      assert.equal(rec.length, last.sizeBytes);
      await log.close();
    } finally {
      cleanup();
    }
  });
}
