import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, message, openLog, tempStore, testConfig } from './commit-log.fixture.js';
import { waitFor } from '../common/wait-for.fixture.js';
import { LARGE_FOLIO_BYTES } from './flush.js';

const MIB = 1024 * 1024;

for (const backend of BACKENDS) {
  test(`[${backend}] async background flushes ${backend === 'mmap' ? 'stop at the last 2 MiB boundary' : 'go to the end of the log'}`, async () => {
    const { dir, cleanup } = tempStore('sluice-cl-flush-');
    try {
      const log = await openLog(
        testConfig(dir, backend, {
          commitLogSegmentSizeBytes: 8 * MIB,
          flushIntervalMs: 5,
          flushThoroughIntervalMs: 60_000,
        }),
      );
      const body = Buffer.alloc(8 * 1024, 7);
      while (log.maxOffset < LARGE_FOLIO_BYTES + MIB / 2) log.append(message(body));
      if (backend === 'mmap') {
        // The folio the appends are in is left for the thorough flush (or for them to leave).
        await waitFor('a background flush', () => log.flushedOffset >= LARGE_FOLIO_BYTES, 3_000);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(log.flushedOffset, LARGE_FOLIO_BYTES);
        await log.flushAll();
      } else {
        // fdatasync cannot flush a part of the file.
        await waitFor('a background flush', () => log.flushedOffset === log.maxOffset, 3_000);
      }
      assert.equal(log.flushedOffset, log.maxOffset);
      await log.close();
    } finally {
      cleanup();
    }
  });
}
