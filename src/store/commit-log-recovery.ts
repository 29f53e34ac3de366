/**
 * CommitLog recovery: find the end of the log after a restart. Walks forward from a start
 * offset, validating each record (size, magic, recomputed length, body CRC and the stored
 * physical offset); a BLANK moves to the next segment. The first invalid record ends the log
 * and later segments are deleted. The log is the source of truth, so callers re-index every
 * valid record they are handed.
 *
 * Bytes after the end must be zero before appends resume there (a stale record found behind new
 * ones would be taken for part of the log by the next recovery). How much of the tail is wiped
 * depends on how the last run ended ({@link RecoveryMode}):
 * - `clean`: nothing. Every run appends strictly in order into a tail that was zero when it
 *   started, and a clean shutdown leaves nothing after the end.
 * - `process-crash` (same boot: the page cache survived, so everything written is there,
 *   contiguously): past the end lies at most one torn record. Wiped up to the first all-zero
 *   1 MiB chunk that starts a maximal record size or more after the end.
 * - `os-crash` (or unknown): the page cache was lost, so written-back pages may have holes;
 *   the whole rest of the segment is wiped (reading it: up to a segment size).
 */
import { TWO_POW_32 } from '../common/codec/int64.js';
import {
  BLANK_MIN_BYTES,
  POS_PHYSICALOFFSET,
  checkRecord,
  recordSizeBytes,
  viewOf,
} from '../common/codec/message-record.js';
import type { SegmentQueue } from './segment-queue.js';
import type { SegmentFile } from './io/segment-file.js';
import type { StoreConfig } from './types.js';

const SCAN_BYTES = 1024 * 1024;
const ZEROS = Buffer.alloc(SCAN_BYTES);

function isZero(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return b.equals(ZEROS.subarray(0, b.length));
}

/** How the run that wrote the log ended; decides how much of the tail recovery wipes. */
export type RecoveryMode = 'clean' | 'process-crash' | 'os-crash';

/**
 * Wipes every non-zero 1 MiB chunk of `seg` from `pos` on: to its end, or (when `stopAfter` is
 * not -1) up to the first all-zero chunk that starts at or after `stopAfter`.
 */
function wipeTail(seg: SegmentFile, pos: number, stopAfter: number): void {
  let p = pos;
  while (p < seg.sizeBytes) {
    const n = Math.min(SCAN_BYTES - (p % SCAN_BYTES), seg.sizeBytes - p);
    if (!isZero(seg.read(p, n))) seg.zero(p, n);
    else if (stopAfter >= 0 && p >= stopAfter) return;
    p += n;
  }
}

/**
 * Recovers the log in `queue` from `fromOffset` and returns the new max offset. See the module
 * comment for what counts as valid.
 */
export function recoverLog(
  queue: SegmentQueue,
  fromOffset: number,
  config: Readonly<StoreConfig>,
  onValidRecord?: (bytes: Uint8Array, pos: number, physicalOffset: number) => void,
  mode: RecoveryMode = 'os-crash',
): number {
  const segs = queue.segments;
  const size = queue.segmentSizeBytes;
  // No segment: the log restarts at the first segment boundary at or after fromOffset.
  if (segs.length === 0) return Math.ceil(Math.max(0, fromOffset) / size) * size;
  // The largest record the config allows, so a read chunk always holds a whole record.
  const maxRecord = recordSizeBytes(config.maxMessageSizeBytes, 255, 32767, 0x30);
  const chunkBytes = Math.max(8 * 1024 * 1024, maxRecord + BLANK_MIN_BYTES);

  let idx = queue.indexOf(fromOffset);
  if (idx < 0) idx = fromOffset < segs[0].startOffset ? 0 : segs.length - 1;
  let seg = segs[idx];
  let pos = Math.min(Math.max(0, fromOffset - seg.startOffset), size);

  for (;;) {
    let end = -1; // in-segment end of the log, once found
    while (end < 0) {
      if (pos >= size) {
        end = size;
        break;
      }
      const len = Math.min(chunkBytes, size - pos);
      const chunk = seg.read(pos, len);
      const view = viewOf(chunk);
      let p = 0;
      while (p + BLANK_MIN_BYTES <= chunk.length) {
        const r = checkRecord(chunk, p, chunk.length - p, true);
        if (r === 0) break;
        if (r < 0) break;
        const phys = seg.startOffset + pos + p;
        const stored =
          view.getInt32(p + POS_PHYSICALOFFSET) * TWO_POW_32 +
          view.getUint32(p + POS_PHYSICALOFFSET + 4);
        if (stored !== phys) break;
        if (onValidRecord !== undefined) onValidRecord(chunk, p, phys);
        p += r;
      }
      const atEndOfChunk = p + BLANK_MIN_BYTES > chunk.length;
      const r = atEndOfChunk ? -1 : checkRecord(chunk, p, chunk.length - p, false);
      if (r === 0 && !atEndOfChunk) {
        // BLANK: the segment is full.
        end = size;
        pos = size;
        break;
      }
      if (pos + len < size && p > 0) {
        // The record at p may continue past this chunk: read on from there.
        pos += p;
        continue;
      }
      end = pos + p;
    }

    if (end === size && idx + 1 < segs.length) {
      seg.resetPosition(size);
      idx++;
      seg = segs[idx];
      pos = 0;
      continue;
    }
    // The log ends here: wipe the torn tail, drop later segments. After a clean shutdown the
    // segment after the active one is the pre-allocated, never written next segment: kept.
    if (end < size && mode !== 'clean') {
      wipeTail(seg, end, mode === 'process-crash' ? end + maxRecord : -1);
    }
    seg.resetPosition(end);
    queue.truncateAfter(idx, mode === 'clean');
    return seg.startOffset + end;
  }
}
