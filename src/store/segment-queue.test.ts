import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SegmentQueue } from './segment-queue.js';
import { WARM_DURATIONS_KEPT } from './allocate.js';
import { segmentFileName } from './io/segment-file.js';
import {
  BACKENDS,
  message,
  openLog,
  takeBytes,
  tempStore,
  testConfig,
} from './commit-log.fixture.js';
import { decodeRecord } from '../common/codec/decoded-message.js';

const SIZE = 8192;

for (const backend of BACKENDS) {
  test(`[${backend}] segments are named by offset, pre-allocated ahead and reloaded in order`, async () => {
    const { dir, cleanup } = tempStore('sluice-sq-');
    try {
      const cl = join(dir, 'commitlog');
      const q = SegmentQueue.open({ dir: cl, backend, segmentSizeBytes: SIZE, warmSegments: true });
      assert.equal(q.segments.length, 0);
      const s0 = q.roll();
      assert.equal(s0.startOffset, 0);
      assert.ok(existsSync(join(cl, segmentFileName(SIZE))), 'next segment pre-allocated');
      assert.equal(statSync(join(cl, segmentFileName(SIZE))).size, SIZE);
      const s1 = q.roll();
      assert.equal(s1.startOffset, SIZE);
      q.roll();
      assert.equal(q.findByOffset(SIZE + 5), s1);
      assert.equal(q.indexOf(3 * SIZE + 1), -1);
      await q.allocator.idle();
      if (backend === 'mmap') assert.ok(q.allocator.warmDurationsMs.length > 0, 'segments warmed');
      assert.equal(q.allocator.lastError, null);
      await q.close();
      assert.deepEqual(
        readdirSync(cl).sort(),
        [0, 1, 2, 3].map((i) => segmentFileName(i * SIZE)),
      );
      // reload: four files, contiguous
      const q2 = SegmentQueue.open({
        dir: cl,
        backend,
        segmentSizeBytes: SIZE,
        warmSegments: false,
      });
      assert.equal(q2.segments.length, 4);
      q2.truncateAfter(1);
      assert.equal(q2.segments.length, 2);
      assert.deepEqual(
        readdirSync(cl).sort(),
        [0, 1].map((i) => segmentFileName(i * SIZE)),
      );
      await q2.close();
    } finally {
      cleanup();
    }
  });

  test(`[${backend}] load errors: wrong size, gaps; an empty last file is removed`, async () => {
    const { dir, cleanup } = tempStore('sluice-sq-');
    try {
      const cl = join(dir, 'commitlog');
      mkdirSync(cl);
      writeFileSync(join(cl, segmentFileName(0)), Buffer.alloc(SIZE));
      writeFileSync(join(cl, segmentFileName(SIZE)), Buffer.alloc(0));
      writeFileSync(join(cl, 'not-a-segment.txt'), 'x');
      const q = SegmentQueue.open({
        dir: cl,
        backend,
        segmentSizeBytes: SIZE,
        warmSegments: false,
      });
      assert.equal(q.segments.length, 1);
      assert.equal(existsSync(join(cl, segmentFileName(SIZE))), false);
      await q.close();
      writeFileSync(join(cl, segmentFileName(2 * SIZE)), Buffer.alloc(SIZE));
      assert.throws(
        () => SegmentQueue.open({ dir: cl, backend, segmentSizeBytes: SIZE, warmSegments: false }),
        { code: 'STORE_CORRUPT', message: /gap/ },
      );
      writeFileSync(join(cl, segmentFileName(SIZE)), Buffer.alloc(100));
      assert.throws(
        () => SegmentQueue.open({ dir: cl, backend, segmentSizeBytes: SIZE, warmSegments: false }),
        { code: 'STORE_CORRUPT', message: /100 bytes/ },
      );
    } finally {
      cleanup();
    }
  });
}

test(
  'a log written by one backend is read by the other',
  { skip: BACKENDS.length < 2 },
  async () => {
    const { dir, cleanup } = tempStore('sluice-sq-');
    try {
      const [a, b] = BACKENDS;
      const log = await openLog(testConfig(dir, a, { commitLogSegmentSizeBytes: SIZE }));
      const rs = Array.from({ length: 30 }, (_, i) => log.append(message(`cross-${i}`)));
      await log.close();
      const log2 = await openLog(testConfig(dir, b, { commitLogSegmentSizeBytes: SIZE }));
      assert.equal(log2.maxOffset, rs[29].physicalOffset + rs[29].sizeBytes);
      for (let i = 0; i < 30; i++) {
        const d = decodeRecord(takeBytes(log2.readRecord(rs[i].physicalOffset)) as Buffer);
        assert.equal(Buffer.from(d.body).toString(), `cross-${i}`);
      }
      await log2.close();
    } finally {
      cleanup();
    }
  },
);

test(
  '[mmap] the next segment is sized at once and its blocks allocated off the event loop',
  { skip: !BACKENDS.includes('mmap') },
  async () => {
    const { dir, cleanup } = tempStore('sluice-sq-');
    try {
      const cl = join(dir, 'commitlog');
      const size = 4 * 1024 * 1024;
      const q = SegmentQueue.open({
        dir: cl,
        backend: 'mmap',
        segmentSizeBytes: size,
        warmSegments: false,
      });
      q.roll();
      const next = join(cl, segmentFileName(size));
      assert.equal(statSync(next).size, size, 'sized when allocated');
      await q.allocator.idle();
      assert.ok(statSync(next).blocks * 512 >= size, 'blocks allocated in the background');
      assert.equal(q.allocator.lastError, null);
      // A roll right after an allocation (before the thread pool got to it) allocates there.
      q.roll();
      const third = join(cl, segmentFileName(2 * size));
      q.roll();
      assert.ok(statSync(third).blocks * 512 >= size, 'allocated by the roll onto it');
      await q.close();
      // A sized but unallocated file left by a stopped process is allocated when opened.
      const sparse = join(cl, segmentFileName(4 * size));
      writeFileSync(sparse, '');
      truncateSync(sparse, size);
      assert.ok(statSync(sparse).blocks * 512 < size);
      const q2 = SegmentQueue.open({
        dir: cl,
        backend: 'mmap',
        segmentSizeBytes: size,
        warmSegments: false,
      });
      assert.ok(statSync(sparse).blocks * 512 >= size, 'allocated at load');
      await q2.close();
    } finally {
      cleanup();
    }
  },
);

test('[mmap] with a warm lead, the active segment is pre-faulted only that far ahead of the appends', async (t) => {
  if (!BACKENDS.includes('mmap')) return t.skip('native addon not built');
  const { dir, cleanup } = tempStore('sluice-sq-lead-');
  const MIB = 1024 * 1024;
  try {
    const q = SegmentQueue.open({
      dir: join(dir, 'commitlog'),
      backend: 'mmap',
      segmentSizeBytes: 8 * MIB,
      warmSegments: true,
      warmWhileWriting: true,
      warmLeadBytes: 2 * MIB,
    });
    const seg = q.roll();
    await q.allocator.idle();
    assert.equal(seg.warmResumePosition, 1 * MIB, 'warmed 2 MiB, resumes after half of it');
    const advance = (bytes: number): void => {
      seg.writeWindow(bytes);
      seg.commitWrite(bytes, bytes);
    };
    advance(1.5 * MIB);
    assert.ok(seg.wrotePosition >= seg.warmResumePosition);
    q.warmActive();
    await q.allocator.idle();
    assert.equal(seg.warmResumePosition, 3 * MIB, 'warmed up to 2 MiB past the write position');
    advance(5.5 * MIB);
    q.warmActive();
    await q.allocator.idle();
    assert.equal(seg.warmResumePosition, Number.POSITIVE_INFINITY, 'warmed to the end');
    assert.equal(q.allocator.lastError, null);
    for (let i = 0; i < WARM_DURATIONS_KEPT + 5; i++) {
      q.allocator.warmUp(seg); // nothing left to warm: a short job each
      await q.allocator.idle();
    }
    assert.equal(q.allocator.warmDurationsMs.length, WARM_DURATIONS_KEPT, 'durations bounded');
    await q.close();
  } finally {
    cleanup();
  }
});
