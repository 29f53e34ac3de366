import { test } from 'node:test';
import assert from 'node:assert/strict';
import { message, openLog, tempStore, testConfig } from './commit-log.fixture.js';
import { nativeAvailable } from './io/native.js';
import { dirtiedBytes, smapsValuesOf } from './io/proc-self.fixture.js';
import { WARM_LEAD_MIN_BYTES } from './allocate.js';

const MIB = 1024 * 1024;

/** An mmap CommitLog of 8 MiB segments, warmed at most 2 MiB ahead of the appends. */
function openWarmLog(dir: string): ReturnType<typeof openLog> {
  return openLog(
    testConfig(dir, 'mmap', {
      warmSegments: true,
      commitLogSegmentSizeBytes: 8 * MIB,
      warmLeadBytes: 2 * MIB,
    }),
  );
}

test('[mmap] with warmLeadBytes, async flush warms the active segment only that far ahead', async (t) => {
  if (!nativeAvailable) return t.skip('native addon not built');
  const { dir, cleanup } = tempStore('sluice-cl-warm-');
  try {
    const log = await openWarmLog(dir);
    log.append(message('x'));
    await log.segmentQueue.allocator.idle();
    const active = log.segmentQueue.last!;
    // Warmed to 2-3 MiB (the lead past the write position, in 1 MiB steps), not to the 8 MiB end;
    // the appends resume it once they have used half the lead.
    const resume = active.warmResumePosition;
    assert.ok(resume >= 1 * MIB && resume <= 2 * MIB, `resumes at ${resume}`);
    await log.close();
  } finally {
    cleanup();
  }
});

test('[mmap] with warmLeadBytes, the next segment is warmed only once the appends near the roll', async (t) => {
  if (!nativeAvailable) return t.skip('native addon not built');
  const { dir, cleanup } = tempStore('sluice-cl-warm-');
  try {
    const log = await openWarmLog(dir);
    const body = Buffer.alloc(16 * 1024 - 512, 1);
    log.append(message(body));
    await log.segmentQueue.allocator.idle();
    const next = log.segmentQueue.nextSegment;
    assert.ok(next !== null, 'the next segment is allocated');
    // Never warmed: warming it now would leave its first lead of dirty zeros there until the
    // active segment fills.
    assert.equal(next.warmResumePosition, Number.POSITIVE_INFINITY);
    // Appends up to 1.5 MiB before the roll: the active segment is warm to its end, so the
    // next one's warm-up begins (it stops at its lead and asks to resume at half of it).
    while (log.maxOffset < 8 * MIB - 1.5 * MIB) {
      log.append(message(body));
      await log.segmentQueue.allocator.idle();
    }
    assert.equal(log.segmentQueue.nextSegment, next);
    assert.ok(next.warmResumePosition <= 1 * MIB, `resumes at ${next.warmResumePosition}`);
    // And the roll goes on warming it from the write position.
    while (log.maxOffset < 8 * MIB + 1.5 * MIB) {
      log.append(message(body));
      await log.segmentQueue.allocator.idle();
    }
    assert.equal(log.segmentQueue.last, next);
    assert.ok(next.warmResumePosition > 1.5 * MIB, `resumes at ${next.warmResumePosition}`);
    await log.close();
  } finally {
    cleanup();
  }
});

/** Resident bytes of this process's mappings of `path`. */
function residentBytesOf(path: string): number {
  return smapsValuesOf(path, 'Rss').reduce((sum, v) => sum + Number(v.split(' ')[0]) * 1024, 0);
}

test('[mmap] by default async flush warms a short lead and only caches the rest of the segment', async (t) => {
  if (!nativeAvailable) return t.skip('native addon not built');
  const { dir, cleanup } = tempStore('sluice-cl-warm-');
  try {
    // Every page warmed ahead of the appends is a dirty page of zeros the kernel may write back
    // before they reach it; the rest of the segment is brought into the page cache clean.
    const before = dirtiedBytes();
    const log = await openLog(
      testConfig(dir, 'mmap', { warmSegments: true, commitLogSegmentSizeBytes: 64 * MIB }),
    );
    log.append(message('x'));
    await log.segmentQueue.allocator.idle();
    const active = log.segmentQueue.last!;
    assert.ok(active.warmResumePosition <= WARM_LEAD_MIN_BYTES, `${active.warmResumePosition}`);
    const dirtied = dirtiedBytes() - before;
    // The lead (2 MiB, warmed in 1 MiB steps past the step holding the write position), rounded
    // out to the kernel's folios (up to 2 MiB each); not the 128 MiB of both segments.
    assert.ok(dirtied <= 8 * MIB, `dirtied ${dirtied} bytes`);
    assert.ok(residentBytesOf(active.path) >= 48 * MIB, 'the active segment is cached');
    const next = log.segmentQueue.nextSegment!;
    assert.ok(residentBytesOf(next.path) >= 48 * MIB, 'the next segment is cached');
    assert.equal(next.warmResumePosition, Number.POSITIVE_INFINITY, 'but not warmed');
    await log.close();
  } finally {
    cleanup();
  }
});
