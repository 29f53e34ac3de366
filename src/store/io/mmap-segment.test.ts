import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MmapSegment } from './mmap-segment.js';
import { dirtiedBytes, smapsValuesOf } from './proc-self.fixture.js';

const SEGMENT_BYTES = 8 * 1024 * 1024;
const RECORD_BYTES = 1024;

/** VmFlags of this process's mappings of `path` (one entry per VMA). */
function vmFlagsOf(path: string): string[][] {
  return smapsValuesOf(path, 'VmFlags').map((v) => v.split(' '));
}

function appendRecords(seg: MmapSegment, count: number): void {
  for (let i = 0; i < count; i++) {
    const w = seg.writeWindow(RECORD_BYTES);
    w.bytes.fill(0x5a, w.pos, w.pos + RECORD_BYTES);
    seg.commitWrite(RECORD_BYTES, RECORD_BYTES);
  }
}

async function withSegment(
  pageGranular: boolean,
  sizeBytes: number,
  body: (seg: MmapSegment, path: string) => Promise<void> | void,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mmap-seg-'));
  const path = join(dir, '00000000000000000000');
  const seg = MmapSegment.open(path, 0, sizeBytes, true, false, {
    pageGranularWriteback: pageGranular,
  });
  try {
    await body(seg, path);
  } finally {
    seg.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('page-granular write-back: the unwritten part is advised random until the segment is full', async () => {
  await withSegment(true, SEGMENT_BYTES, (seg, path) => {
    assert.ok(
      vmFlagsOf(path).every((f) => !f.includes('rr')),
      'no advice before the first write',
    );
    appendRecords(seg, 1);
    assert.ok(
      vmFlagsOf(path).some((f) => f.includes('rr')),
      'MADV_RANDOM from the write position',
    );
    appendRecords(seg, SEGMENT_BYTES / RECORD_BYTES - 1);
    assert.equal(seg.wrotePosition, SEGMENT_BYTES);
    assert.ok(
      vmFlagsOf(path).every((f) => !f.includes('rr')),
      'read-ahead back once full',
    );
  });
});

test('without page-granular write-back the mapping keeps the default advice', async () => {
  await withSegment(false, SEGMENT_BYTES, (seg, path) => {
    appendRecords(seg, 4);
    assert.ok(vmFlagsOf(path).length > 0);
    assert.ok(vmFlagsOf(path).every((f) => !f.includes('rr')));
  });
});

test('page-granular write-back: a group commit does not dirty whole large folios again', async () => {
  // As in a broker with sync flush: a 1 GiB segment (the kernel aligns its mapping for 2 MiB
  // folios), pre-faulted ahead of the appends (which reads it ahead: on ext4 with Linux 6.16+
  // in folios of up to 2 MiB once the read-ahead has ramped up), then flushed every ~700 KiB.
  // With large folios each msync writes and cleans the whole folio around its end, and the next
  // appends dirty all of it again: 2 MiB counted per flush (and 2-4 MiB written). Page-granular,
  // an msync cleans what it covers and the appends land on pages the pre-fault left dirty:
  // nothing counted. (On kernels or file systems without large folios this holds either way.)
  await withSegment(true, 1024 * 1024 * 1024, async (seg) => {
    await seg.prefault(true, 64 * 1024 * 1024);
    appendRecords(seg, 40 * 1024);
    await seg.flush();
    const before = dirtiedBytes();
    for (let round = 0; round < 5; round++) {
      appendRecords(seg, 700);
      await seg.flush();
    }
    const dirtied = dirtiedBytes() - before;
    assert.ok(dirtied <= 5 * 1024 * 1024, `5 flushes of 700 KiB dirtied ${dirtied} bytes`);
  });
});

test('warming to the end keeps pace with a busy event loop', async () => {
  // Each warm-up step is issued when the one before completes, at most once per event-loop
  // turn. A broker under load runs long turns; with 1 MiB steps this 128 MiB segment would need
  // 128 turns, and a loaded store's appends overtook the warm-up of the next segment. What is
  // counted is turns, not the faults' speed: the file's pages are brought into the page cache
  // first (through another mapping), so each step only maps cached pages (fresh memory can cost
  // this kind of VM ~2.5 s per GiB, which would measure the machine instead of the step size),
  // and each turn is long (20 ms: 100 turns leave 61 µs per page; 1 MiB steps need 128 turns).
  const sizeBytes = 128 * 1024 * 1024;
  await withSegment(false, sizeBytes, async (first, path) => {
    assert.equal(await first.prefault(), true);
    const seg = MmapSegment.open(path, 0, sizeBytes, false);
    try {
      let done = false;
      const warm = seg.prefault(true).then((toEnd) => {
        done = true;
        return toEnd;
      });
      let turns = 0;
      while (!done) {
        const busyUntil = performance.now() + 20;
        while (performance.now() < busyUntil) {
          // A turn of the event loop that appends for 20 ms.
        }
        turns++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(await warm, true);
      assert.equal(seg.warmedBytes, sizeBytes);
      assert.ok(turns < 100, `warmed ${sizeBytes / 1024 / 1024} MiB in ${turns} busy turns`);
    } finally {
      seg.close();
    }
  });
});
