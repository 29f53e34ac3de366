import { test } from 'node:test';
import assert from 'node:assert/strict';
import { message, openLog, tempStore, testConfig } from './commit-log.fixture.js';
import { nativeAvailable } from './io/native.js';

const MIB = 1024 * 1024;

test('[mmap] with warmLeadBytes, async flush warms the active segment only that far ahead', async (t) => {
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
