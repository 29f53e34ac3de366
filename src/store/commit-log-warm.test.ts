import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASYNC_FLUSH_WARM_LEAD_BYTES, SYNC_FLUSH_WARM_LEAD_BYTES } from './commit-log.js';
import { message, openLog, tempStore, testConfig } from './commit-log.fixture.js';
import { nativeAvailable } from './io/native.js';

const MIB = 1024 * 1024;

test('warm leads: a bounded lead by default in both flush modes, shorter with sync flush', () => {
  assert.ok(Number.isFinite(ASYNC_FLUSH_WARM_LEAD_BYTES));
  assert.ok(SYNC_FLUSH_WARM_LEAD_BYTES < ASYNC_FLUSH_WARM_LEAD_BYTES);
});

test('[mmap] async flush warms the active segment only warmLeadBytes ahead of the appends', async (t) => {
  if (!nativeAvailable) return t.skip('native addon not built');
  const { dir, cleanup } = tempStore('sluice-cl-warm-');
  try {
    const log = await openLog(
      testConfig(dir, 'mmap', {
        warmSegments: true,
        commitLogSegmentSizeBytes: 8 * MIB,
        warmLeadBytes: 2 * MIB,
      }),
    );
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
