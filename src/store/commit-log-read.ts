/**
 * The CommitLog's read side: zero-copy views of records in the mapped (or read-mapped) segments,
 * each holding its segment until released, so that retention cannot unmap bytes still in use,
 * and copies of runs of records for pulls that gather short runs into one buffer. Used by the
 * dispatcher (chunks it walks itself), pulls (runs of records that ConsumeQueue entries
 * describe), lookups by offset and retention (a segment's first store time).
 */
import {
  BLANK_MAGIC,
  BLANK_MIN_BYTES,
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  checkRecord,
  newRecordMeta,
  readRecordMeta,
  recordMagicAt,
  recordSizeAt,
  viewOf,
} from '../common/codec/message-record.js';
import type { SegmentFile } from './io/segment-file.js';
import type { SegmentQueue } from './segment-queue.js';
import type { LogSlices } from './types.js';

class Slices implements LogSlices {
  private released = false;
  constructor(
    readonly buffers: Uint8Array[],
    readonly totalBytes: number,
    private readonly seg: SegmentFile,
  ) {}
  release(): void {
    if (this.released) return;
    this.released = true;
    this.seg.release();
  }
}

/**
 * True when `bytes[start, start+totalBytes)` holds exactly `count` records back to back, judged by
 * each one's size and magic (the CRC is not checked).
 */
function isRunOfRecords(
  bytes: Uint8Array,
  start: number,
  totalBytes: number,
  count: number,
): boolean {
  const end = start + totalBytes;
  let p = start;
  let n = 0;
  while (p + BLANK_MIN_BYTES <= end) {
    const size = recordSizeAt(bytes, p);
    const magic = recordMagicAt(bytes, p);
    if (size <= BLANK_MIN_BYTES || (magic !== MESSAGE_MAGIC_V1 && magic !== MESSAGE_MAGIC_V2))
      break;
    p += size;
    n++;
  }
  return p === end && n === count;
}

/** Reads records of one CommitLog's segments. */
export class CommitLogReader {
  /** Set by {@link holdAt}: position in the held segment and bytes written from there. */
  private heldPos = 0;
  private heldAvail = 0;

  constructor(private readonly queue: SegmentQueue) {}

  /**
   * The segment holding `physicalOffset`, held (release it, or hand it to a {@link Slices}),
   * when at least `minBytes` are written from there on; its position and the bytes written from
   * it are left in {@link heldPos} and {@link heldAvail}. Null otherwise (nothing held).
   */
  private holdAt(physicalOffset: number, minBytes: number): SegmentFile | null {
    const seg = this.queue.findByOffset(physicalOffset);
    if (seg === undefined) return null;
    const pos = physicalOffset - seg.startOffset;
    const avail = seg.wrotePosition - pos;
    if (avail < minBytes || !seg.hold()) return null;
    this.heldPos = pos;
    this.heldAvail = avail;
    return seg;
  }

  /**
   * The log from `physicalOffset` on, up to `maxBytes` of its segment, as one zero-copy view
   * that may end in the middle of a record (the dispatcher walks the records itself, one pass);
   * null when fewer than 8 bytes are there.
   */
  readChunk(physicalOffset: number, maxBytes: number): LogSlices | null {
    const seg = this.holdAt(physicalOffset, BLANK_MIN_BYTES);
    if (seg === null) return null;
    const pos = this.heldPos;
    const avail = this.heldAvail;
    try {
      const chunk = seg.read(pos, Math.min(avail, Math.max(maxBytes, BLANK_MIN_BYTES)));
      return new Slices([chunk], chunk.length, seg);
    } catch (err) {
      seg.release();
      throw err;
    }
  }

  /**
   * Zero-copy slices of whole records from `physicalOffset`, at most `maxBytes` (but at least
   * one record), within one segment. Null when no record starts there. Release the result.
   */
  read(physicalOffset: number, maxBytes: number): LogSlices | null {
    const seg = this.holdAt(physicalOffset, BLANK_MIN_BYTES);
    if (seg === null) return null;
    const pos = this.heldPos;
    const avail = this.heldAvail;
    try {
      let chunk = seg.read(pos, Math.min(avail, Math.max(maxBytes, BLANK_MIN_BYTES)));
      let view = viewOf(chunk);
      let p = 0;
      while (p + BLANK_MIN_BYTES <= chunk.length) {
        const size = view.getInt32(p);
        if (size <= BLANK_MIN_BYTES || view.getUint32(p + 4) === BLANK_MAGIC) break;
        if (p + size > chunk.length) {
          if (p > 0 || size > avail) break;
          chunk = seg.read(pos, size); // first record larger than maxBytes: return it whole
          view = viewOf(chunk);
        }
        p += size;
      }
      if (p === 0) {
        seg.release();
        return null;
      }
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, p);
      return new Slices([bytes], p, seg);
    } catch (err) {
      seg.release();
      throw err;
    }
  }

  /**
   * One zero-copy view of the `count` consecutive records that start at `physicalOffset` and
   * fill exactly `totalBytes` (as ConsumeQueue entries describe them): one segment hold for the
   * lot. Each record's size and magic are checked on the way; null when anything differs (the
   * caller then reads record by record with {@link readRecord}).
   */
  readRecords(physicalOffset: number, totalBytes: number, count: number): LogSlices | null {
    if (totalBytes < BLANK_MIN_BYTES) return null;
    const seg = this.holdAt(physicalOffset, totalBytes);
    if (seg === null) return null;
    const pos = this.heldPos;
    try {
      const run = seg.read(pos, totalBytes);
      if (!isRunOfRecords(run, 0, totalBytes, count)) {
        seg.release();
        return null;
      }
      return new Slices([run], totalBytes, seg);
    } catch (err) {
      seg.release();
      throw err;
    }
  }

  /**
   * Copies the `count` consecutive records that start at `physicalOffset` and fill exactly
   * `totalBytes` into `dest` at `destAt`, checking each record's size and magic in the copy as
   * {@link readRecords} does; false when anything differs (what was copied is then meaningless).
   * Nothing stays held.
   */
  copyRecords(
    physicalOffset: number,
    totalBytes: number,
    count: number,
    dest: Uint8Array,
    destAt: number,
  ): boolean {
    if (totalBytes < BLANK_MIN_BYTES) return false;
    const seg = this.holdAt(physicalOffset, totalBytes);
    if (seg === null) return false;
    try {
      seg.copyOut(this.heldPos, totalBytes, dest, destAt);
    } finally {
      seg.release();
    }
    return isRunOfRecords(dest, destAt, totalBytes, count);
  }

  /** The whole record at `physicalOffset` (validated, CRC not checked) or null. */
  readRecord(physicalOffset: number): LogSlices | null {
    const seg = this.holdAt(physicalOffset, BLANK_MIN_BYTES);
    if (seg === null) return null;
    const pos = this.heldPos;
    const avail = this.heldAvail;
    try {
      const head = seg.read(pos, BLANK_MIN_BYTES);
      const size = viewOf(head).getInt32(0);
      if (size <= BLANK_MIN_BYTES || size > avail) {
        seg.release();
        return null;
      }
      const rec = seg.read(pos, size);
      if (checkRecord(rec, 0, size, false) !== size) {
        seg.release();
        return null;
      }
      return new Slices([rec], size, seg);
    } catch (err) {
      seg.release();
      throw err;
    }
  }

  /** Store timestamp of the first record of segment `segmentIndex`, or -1 if it has none. */
  firstRecordStoreTimestamp(segmentIndex: number): number {
    const seg = this.queue.segments[segmentIndex];
    if (seg === undefined || !seg.hold()) return -1;
    try {
      const head = seg.read(0, Math.min(seg.sizeBytes, 4096));
      const size = viewOf(head).getInt32(0);
      const rec =
        size > head.length && size <= seg.sizeBytes && size > 0 ? seg.read(0, size) : head;
      if (checkRecord(rec, 0, rec.length, false) <= 0) return -1;
      const meta = newRecordMeta();
      readRecordMeta(viewOf(rec), rec, 0, meta);
      return meta.storeTimestamp;
    } finally {
      seg.release();
    }
  }
}
