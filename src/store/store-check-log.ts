/**
 * The CommitLog walk of the store checker (see `store-check.ts`): validates every segment and
 * record and builds the map of valid records the index checks compare against.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  POS_MAGIC,
  SYSFLAG_TRANSACTION_MASK,
  SYSFLAG_TRANSACTION_PREPARED,
  SYSFLAG_TRANSACTION_ROLLBACK,
  checkRecord,
  newRecordMeta,
  readRecordMeta,
  type RecordMeta,
} from '../common/codec/message-record.js';
import { findPropertyRange, type ByteRange } from '../common/codec/properties.js';
import {
  indexKeyHash,
  javaHashContinue,
  javaHashContinueUtf8,
  javaHashUtf8,
  javaStringHashCode,
} from '../common/java-hash.js';
import { SCHEDULE_TOPIC } from './dispatcher.js';
import { readFullySync } from './io/positional-io.js';

/** Severity of a finding: errors make the check fail, warnings are repaired by a restart. */
export type StoreIssueSeverity = 'error' | 'warning';

/** One finding of the store checker. */
export interface StoreIssue {
  severity: StoreIssueSeverity;
  area: 'commitlog' | 'consumequeue' | 'index';
  /** File the finding is in (relative to the store folder). */
  file: string;
  /** Log offset for the CommitLog, queue offset for a ConsumeQueue, entry index for an index. */
  offset: number;
  message: string;
}

/** What the checker knows of one valid record. */
export interface RecordRef {
  size: number;
  topic: string;
  queueId: number;
  queueOffset: number;
  tagsCode: number;
  inQueue: boolean;
  schedule: boolean;
  keyHashes: number[] | undefined;
}

export const CHUNK_BYTES = 8 * 1024 * 1024;
export const SEGMENT_NAME = /^\d{20}$/;
export const INDEX_NAME = /^\d{17}(-\d+)?$/;

/** Entries of a folder, none when it is missing. */
export function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  const done = readFullySync(fd, out, 0, length, position);
  return done === length ? out : out.subarray(0, done);
}

/** True when every byte is zero. */
export function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Accumulates findings and counts. */
export class Findings {
  errors = 0;
  warnings = 0;
  readonly issues: StoreIssue[] = [];
  constructor(private readonly max: number) {}
  add(issue: StoreIssue): void {
    if (issue.severity === 'error') this.errors++;
    else this.warnings++;
    if (this.issues.length < this.max) this.issues.push(issue);
  }
}

/** Walks the CommitLog and builds the map of valid records. */
export class LogWalk {
  readonly records = new Map<number, RecordRef>();
  /** `topic\0queueId` → queue offset → physical offset. */
  readonly queues = new Map<string, Map<number, number>>();
  segments = 0;
  /** Segments holding records (the rest are pre-allocated). */
  dataSegments = 0;
  segmentSizeBytes = 0;
  minOffset = 0;
  endOffset = 0;
  private readonly meta: RecordMeta = newRecordMeta();
  private readonly range: ByteRange = { start: 0, end: 0 };
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly storePath: string,
    private readonly findings: Findings,
    private readonly verifyCrc: boolean,
  ) {}

  run(): void {
    const dir = path.join(this.storePath, 'commitlog');
    const starts = listDir(dir)
      .filter((n) => SEGMENT_NAME.test(n))
      .map(Number)
      .sort((a, b) => a - b);
    this.segments = starts.length;
    if (starts.length === 0) return;
    const file = (s: number): string => path.join('commitlog', String(s).padStart(20, '0'));
    this.segmentSizeBytes = fs.statSync(path.join(this.storePath, file(starts[0]!))).size;
    this.minOffset = starts[0]!;
    this.endOffset = this.minOffset;
    let ended = false;
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i]!;
      const name = file(start);
      const size = fs.statSync(path.join(this.storePath, name)).size;
      if (size !== this.segmentSizeBytes || start % this.segmentSizeBytes !== 0) {
        this.issue('error', name, start, `segment has ${size} bytes or is misaligned`);
      }
      if (i > 0 && start !== starts[i - 1]! + this.segmentSizeBytes) {
        this.issue('error', name, start, `gap before this segment (previous ${starts[i - 1]})`);
      }
      if (ended) {
        // Segments after the log end must be empty (pre-allocated ahead of need).
        if (this.hasData(name)) {
          this.issue('error', name, start, 'data in a segment after the end of the log');
        }
        continue;
      }
      const last = i === starts.length - 1 || !this.hasData(file(starts[i + 1]!));
      const end = this.walkSegment(name, start, size, last);
      this.endOffset = end;
      if (end < start + size) ended = true;
      else this.dataSegments = i + 1;
      if (ended && end > start) this.dataSegments = i + 1;
    }
  }

  /** True when a segment's first record slot is not zero (it is not just pre-allocated). */
  private hasData(name: string): boolean {
    const fd = fs.openSync(path.join(this.storePath, name), 'r');
    try {
      return !isZero(readAt(fd, 0, 8));
    } finally {
      fs.closeSync(fd);
    }
  }

  private issue(severity: StoreIssueSeverity, file: string, offset: number, message: string): void {
    this.findings.add({ severity, area: 'commitlog', file, offset, message });
  }

  /** Walks one segment; returns the log offset where its valid data ends. */
  private walkSegment(name: string, start: number, size: number, last: boolean): number {
    const fd = fs.openSync(path.join(this.storePath, name), 'r');
    try {
      let chunkAt = 0;
      let chunk = readAt(fd, 0, Math.min(CHUNK_BYTES, size));
      let pos = 0;
      while (pos < size) {
        let p = pos - chunkAt;
        if (p + 8 > chunk.length) {
          if (pos + 8 > size) {
            this.issue(
              'error',
              name,
              start + pos,
              `${size - pos} bytes left at the segment end without a BLANK`,
            );
            return start + pos;
          }
          chunkAt = pos;
          chunk = readAt(fd, pos, Math.min(CHUNK_BYTES, size - pos));
          p = 0;
        }
        const total = chunk.readInt32BE(p);
        const magic = chunk.readUInt32BE(p + POS_MAGIC);
        const isMessage = magic === MESSAGE_MAGIC_V1 || magic === MESSAGE_MAGIC_V2;
        if (isMessage && total > chunk.length - p && pos + total <= size) {
          chunkAt = pos;
          chunk = readAt(fd, pos, Math.max(total, Math.min(CHUNK_BYTES, size - pos)));
          p = 0;
        }
        const r = checkRecord(chunk, p, chunk.length - p, this.verifyCrc);
        if (r === 0) {
          if (total !== size - pos) {
            this.issue(
              'error',
              name,
              start + pos,
              `BLANK claims ${total} bytes, ${size - pos} are left`,
            );
          }
          return start + size;
        }
        if (r > 0 && this.addRecord(chunk, p, start + pos, name)) {
          pos += r;
          continue;
        }
        return this.invalidAt(fd, name, start, size, pos, last);
      }
      return start + size;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Classifies invalid bytes at `pos`: end of log (zeros), torn tail, or corruption. */
  private invalidAt(
    fd: number,
    name: string,
    start: number,
    size: number,
    pos: number,
    last: boolean,
  ): number {
    if (last && this.unfinishedBatchAt(fd, start, size, pos)) {
      this.issue(
        'warning',
        name,
        start + pos,
        'a batch write cut off before its first record got its magic code (the file backend ' +
          'writes it last; nothing from here on was acknowledged): recovery cuts the log here',
      );
      return start + pos;
    }
    const magicV1 = Buffer.alloc(4);
    magicV1.writeUInt32BE(MESSAGE_MAGIC_V1);
    let nonZero = false;
    for (let at = pos; at < size; at += CHUNK_BYTES) {
      const chunk = readAt(fd, at, Math.min(CHUNK_BYTES + 4096, size - at));
      if (!nonZero && !isZero(chunk.subarray(0, Math.min(CHUNK_BYTES, chunk.length))))
        nonZero = true;
      // Look for a later valid record (its stored physical offset must match its place).
      let from = at === pos ? 1 : 0;
      while (nonZero) {
        const m = chunk.indexOf(magicV1, from + POS_MAGIC);
        if (m < 0 || m - POS_MAGIC >= CHUNK_BYTES) break;
        const q = m - POS_MAGIC;
        if (checkRecord(chunk, q, chunk.length - q, true) > 0) {
          const meta = this.meta;
          readRecordMeta(
            new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength),
            chunk,
            q,
            meta,
          );
          if (meta.physicalOffset === start + at + q) {
            this.issue(
              'error',
              name,
              start + pos,
              `corrupt record; valid records resume at ${start + at + q} (${at + q - pos} bytes unreadable, recovery would cut the log here)`,
            );
            return start + pos;
          }
        }
        from = m + 1;
      }
    }
    if (nonZero) {
      this.issue(
        last ? 'warning' : 'error',
        name,
        start + pos,
        last
          ? 'torn or invalid bytes after the last valid record (recovery cuts the log here at the next start)'
          : 'invalid record and no BLANK in a segment that is not the last one',
      );
    }
    return start + pos;
  }

  /**
   * True when the bytes at `pos` are the file backend's batch write cut off before its last
   * step: a record that is whole and in its place but for a zero magic code (what follows is the
   * rest of that batch, whole or cut off where the write stopped). Asked in the last segment
   * with data only: earlier, a record like that is corruption.
   */
  private unfinishedBatchAt(fd: number, start: number, size: number, pos: number): boolean {
    const head = readAt(fd, pos, Math.min(8, size - pos));
    if (head.length < 8 || head.readUInt32BE(POS_MAGIC) !== 0) return false;
    const total = head.readInt32BE(0);
    if (total <= 0 || pos + total > size) return false;
    const record = readAt(fd, pos, total);
    for (const magic of [MESSAGE_MAGIC_V1, MESSAGE_MAGIC_V2]) {
      record.writeUInt32BE(magic, POS_MAGIC);
      if (checkRecord(record, 0, total, true) !== total) continue;
      readRecordMeta(
        new DataView(record.buffer, record.byteOffset, record.byteLength),
        record,
        0,
        this.meta,
      );
      return this.meta.physicalOffset === start + pos;
    }
    return false;
  }

  private addRecord(bytes: Buffer, p: number, phy: number, name: string): boolean {
    const meta = this.meta;
    try {
      readRecordMeta(
        new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        bytes,
        p,
        meta,
      );
    } catch (err) {
      this.issue('error', name, phy, `record header unreadable: ${(err as Error).message}`);
      return false;
    }
    if (meta.physicalOffset !== phy) {
      this.issue('error', name, phy, `record says it is at offset ${meta.physicalOffset}`);
      return false;
    }
    const topic = this.decoder.decode(
      bytes.subarray(meta.topicStart, meta.topicStart + meta.topicLength),
    );
    const tx = meta.sysFlag & SYSFLAG_TRANSACTION_MASK;
    const inQueue = tx !== SYSFLAG_TRANSACTION_PREPARED && tx !== SYSFLAG_TRANSACTION_ROLLBACK;
    const range = this.range;
    let tagsCode = 0;
    if (findPropertyRange(bytes, meta.propertiesStart, meta.propertiesLength, 'TAGS', range)) {
      tagsCode = javaHashUtf8(bytes, range.start, range.end);
    }
    let keyHashes: number[] | undefined;
    if (tx !== SYSFLAG_TRANSACTION_ROLLBACK) {
      const prefix = javaHashContinue(javaStringHashCode(topic), '#');
      const add = (s: number, e: number): void => {
        (keyHashes ??= []).push(indexKeyHash(javaHashContinueUtf8(prefix, bytes, s, e)));
      };
      const ps = meta.propertiesStart;
      const pl = meta.propertiesLength;
      if (findPropertyRange(bytes, ps, pl, 'UNIQ_KEY', range) && range.end > range.start) {
        add(range.start, range.end);
      }
      if (findPropertyRange(bytes, ps, pl, 'KEYS', range)) {
        for (let s = range.start; s < range.end;) {
          while (s < range.end && bytes[s] === 0x20) s++;
          let e = s;
          while (e < range.end && bytes[e] !== 0x20) e++;
          if (e > s) add(s, e);
          s = e;
        }
      }
    }
    this.records.set(phy, {
      size: meta.totalSize,
      topic,
      queueId: meta.queueId,
      queueOffset: meta.queueOffset,
      tagsCode,
      inQueue,
      schedule: topic === SCHEDULE_TOPIC,
      keyHashes,
    });
    if (inQueue) {
      const key = `${topic}\u0000${meta.queueId}`;
      let q = this.queues.get(key);
      if (q === undefined) this.queues.set(key, (q = new Map()));
      const prev = q.get(meta.queueOffset);
      if (prev !== undefined) {
        this.issue(
          'error',
          name,
          phy,
          `${topic}/${meta.queueId} queue offset ${meta.queueOffset} also used by the record at ${prev}`,
        );
      }
      q.set(meta.queueOffset, phy);
    }
    return true;
  }
}
