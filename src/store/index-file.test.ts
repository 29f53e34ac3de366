import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IndexFile } from './index-file.js';

test('mapped: a new file warms its slot table, so puts to random slots take no page faults', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-idxf-'));
  try {
    // 8,000,000 slots: 7,813 slot pages, hit at random.
    const file = IndexFile.create(
      path.join(dir, '20261126000000000'),
      { hashSlots: 8_000_000, maxEntries: 10_000 },
      'mapped',
    );
    await file.warmed();
    let seed = 12345;
    // In batches of 128, as IndexService stores them.
    const hashes = new Int32Array(128);
    const phys = new Float64Array(128);
    const stamps = new Float64Array(128);
    const putRandom = (from: number, to: number): void => {
      for (let start = from; start < to; start += 128) {
        const n = Math.min(128, to - start);
        for (let j = 0; j < n; j++) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          hashes[j] = seed;
          phys[j] = (start + j) * 100;
          stamps[j] = 1_700_000_000_000 + start + j;
        }
        assert.equal(file.putBatch(hashes, phys, stamps, 0, n), n);
      }
    };
    putRandom(1, 1001); // the first round also faults in compiled code and heap
    const before = process.resourceUsage().minorPageFault;
    putRandom(1001, 5001);
    const faults = process.resourceUsage().minorPageFault - before;
    // Without the warm-up ~2,750 slot pages take their first fault here; with it, only the
    // entries' 20 pages and the rest of the process do (60-450 measured, more when the machine
    // is busy).
    assert.ok(faults < 1_200, `${faults} page faults for 4,000 puts`);
    const out: number[] = [];
    file.query(seed, 0, Number.MAX_SAFE_INTEGER, 1, out);
    assert.deepEqual(out, [500_000]);
    file.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
