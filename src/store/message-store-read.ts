/**
 * The store's read paths: pull (`getMessage`, with RocketMQ's statuses and next offsets), time
 * and timestamp lookups, and key queries verified against the records.
 */
import {
  checkRecord,
  newRecordMeta,
  readRecordMeta,
  viewOf,
} from '../common/codec/message-record.js';
import { findPropertyRange, type ByteRange } from '../common/codec/properties.js';
import { equalBytes } from '../common/equal-bytes.js';
import type { CommitLog } from './commit-log.js';
import {
  BLANK_ENTRY_SIZE,
  CQ_ENTRY_SIZE,
  cqPhyOffset,
  cqSizeBytes,
  cqTagsCode,
} from './consume-queue-entry.js';
import { COPY_RUN_MAX_BYTES, CopyArena } from './copy-arena.js';
import type { ConsumeQueueStore } from './consume-queue-store.js';
import type { ConsumeQueue, CqEntry } from './consume-queue.js';
import type { IndexService } from './index-service.js';
import { GetSlices } from './get-slices.js';
import type { GetResult, GetStatus, MessageFilter, StoreConfig } from './types.js';

/** Entries scanned at most per get when a filter skips messages (RocketMQ's 16000). */
export const MAX_FILTER_SCAN_ENTRIES = 16_000;
const READ_ENTRIES = 256;

function result(
  status: GetStatus,
  nextBeginOffset: number,
  minOffset: number,
  maxOffset: number,
): GetResult {
  return { status, nextBeginOffset, minOffset, maxOffset, messageCount: 0 };
}

/** Read-side helpers over the log, queues and index. */
export class MessageReader {
  private readonly entries = new Uint8Array(READ_ENTRIES * CQ_ENTRY_SIZE);
  private readonly entriesView = new DataView(this.entries.buffer);
  private readonly meta = newRecordMeta();
  private readonly entry: CqEntry = { phyOffset: 0, sizeBytes: 0, tagsCode: 0 };
  private readonly range: ByteRange = { start: 0, end: 0 };
  /** Accumulates a get's record views and copies (reused). */
  private readonly acc = new GetSlices(new CopyArena());
  /** Set by {@link addRun} when records of a run could not be read. */
  private lostInRun = false;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly config: Readonly<StoreConfig>,
    private readonly log: CommitLog,
    private readonly cqStore: ConsumeQueueStore,
    private readonly index: IndexService,
  ) {}

  /** See {@link MessageStoreApi.getMessage}. */
  getMessage(
    topic: string,
    queueId: number,
    queueOffset: number,
    maxMessages: number,
    filter?: MessageFilter,
  ): GetResult {
    const cq = this.cqStore.get(topic, queueId);
    if (cq === undefined) return result('NO_MATCHED_LOGIC_QUEUE', 0, 0, 0);
    const min = cq.minOffset;
    const max = cq.maxOffset;
    if (max === 0) return result('NO_MESSAGE_IN_QUEUE', 0, min, max);
    if (queueOffset < min) return result('OFFSET_TOO_SMALL', min, min, max);
    if (queueOffset === max) return result('OFFSET_OVERFLOW_ONE', queueOffset, min, max);
    if (queueOffset > max) return result('OFFSET_OVERFLOW_BADLY', min === 0 ? min : max, min, max);

    const maxCount = Math.max(1, Math.min(maxMessages, this.config.maxTransferCount));
    const maxBytes = this.config.maxTransferBytes;
    const scanLimit = queueOffset + Math.max(MAX_FILTER_SCAN_ENTRIES, maxCount);
    const logMin = this.log.minOffset;
    const view = this.entriesView;
    let status: GetStatus = 'NO_MATCHED_MESSAGE';
    const slices = this.acc;
    slices.reset();
    this.lostInRun = false;
    const perRecord = filter?.isMatchedByRecord !== undefined;
    let count = 0;
    let bytes = 0;
    let offset = queueOffset;
    // Consecutive records (adjacent in the log) are read as one run: one view and one hold, or
    // one copy when short (see addRun).
    let runStart = -1;
    let runEnd = -1;
    let runCount = 0;
    let runFirst = 0; // queue offset of the run's first record
    outer: while (offset < max && offset < scanLimit) {
      const n = cq.readEntries(offset, READ_ENTRIES, this.entries);
      if (n === 0) {
        if (count === 0) {
          // The entry's file is gone: continue at the next file.
          const per = this.config.consumeQueueEntriesPerFile;
          const next = Math.min(max, offset - (offset % per) + per);
          return result('OFFSET_FOUND_NULL', next, min, max);
        }
        break;
      }
      for (let i = 0; i < n; i++) {
        const pos = i * CQ_ENTRY_SIZE;
        const size = cqSizeBytes(view, pos);
        if (size === BLANK_ENTRY_SIZE) {
          offset++;
          continue;
        }
        if (count >= maxCount || (count > 0 && bytes + size > maxBytes)) break outer;
        const phy = cqPhyOffset(view, pos);
        if (phy < logMin) {
          if (count === 0) status = 'MESSAGE_WAS_REMOVING';
          offset++;
          continue;
        }
        if (filter !== undefined && !filter.isMatchedByTagsCode(cqTagsCode(view, pos))) {
          offset++;
          continue;
        }
        if (perRecord) {
          const rec = this.log.readRecord(phy);
          if (rec === null) {
            if (count === 0) status = 'MESSAGE_WAS_REMOVING';
            offset++;
            continue;
          }
          if (!filter!.isMatchedByRecord!(rec.buffers[0])) {
            rec.release();
            offset++;
            continue;
          }
          slices.add(rec);
        } else if (phy === runEnd) {
          runEnd += size;
          runCount++;
        } else {
          if (runCount > 0) count -= this.addRun(cq, runFirst, runStart, runEnd, runCount);
          runStart = phy;
          runEnd = phy + size;
          runCount = 1;
          runFirst = offset;
        }
        count++;
        bytes += size;
        offset++;
      }
    }
    if (runCount > 0) count -= this.addRun(cq, runFirst, runStart, runEnd, runCount);
    if (count > 0) {
      const out = slices.take();
      return {
        status: 'FOUND',
        nextBeginOffset: offset,
        minOffset: min,
        maxOffset: max,
        slices: out,
        messageCount: count,
      };
    }
    slices.release();
    if (this.lostInRun) status = 'MESSAGE_WAS_REMOVING';
    return result(status, offset, min, max);
  }

  /**
   * Adds the run of `runCount` records in `[start, end)` of the log, the first at queue offset
   * `first`, to the result: copied into the get's copy memory when it is at most
   * {@link COPY_RUN_MAX_BYTES} long (records of a queue among many other queues' come one by
   * one) and that memory has room, else as a view of the log. When the run is not what the
   * ConsumeQueue said (a segment gone, a damaged record), its records are read one by one and
   * those that cannot be read are skipped, as a record-by-record get would. Returns how many
   * were skipped.
   */
  private addRun(
    cq: ConsumeQueue,
    first: number,
    start: number,
    end: number,
    runCount: number,
  ): number {
    const len = end - start;
    const slab = len <= COPY_RUN_MAX_BYTES ? this.acc.copyTarget(len) : null;
    if (slab !== null) {
      if (this.log.copyRecords(start, len, runCount, slab.bytes, slab.used)) {
        this.acc.copied(len);
        return 0;
      }
    } else {
      const run = this.log.readRecords(start, len, runCount);
      if (run !== null) {
        this.acc.add(run);
        return 0;
      }
    }
    let lost = 0;
    const e = this.entry;
    for (let o = first, k = 0; k < runCount; o++) {
      if (!cq.entryAt(o, e)) {
        lost += runCount - k;
        break;
      }
      if (e.sizeBytes === BLANK_ENTRY_SIZE) continue;
      k++;
      const rec = this.log.readRecord(e.phyOffset);
      if (rec === null) lost++;
      else this.acc.add(rec);
    }
    if (lost > 0) this.lostInRun = true;
    return lost;
  }

  /** Store timestamp of the record at `physicalOffset`, or -1. */
  storeTimestampOf(physicalOffset: number): number {
    const rec = this.log.readRecord(physicalOffset);
    if (rec === null) return -1;
    try {
      const b = rec.buffers[0];
      readRecordMeta(viewOf(b), b, 0, this.meta);
      return this.meta.storeTimestamp;
    } finally {
      rec.release();
    }
  }

  /** Store timestamp of the message at `queueOffset` of `cq`, or -1. */
  storeTimestampAt(cq: ConsumeQueue, queueOffset: number): number {
    if (queueOffset < cq.minOffset || !cq.entryAt(queueOffset, this.entry)) return -1;
    if (this.entry.sizeBytes === BLANK_ENTRY_SIZE) return -1;
    return this.storeTimestampOf(this.entry.phyOffset);
  }

  /** See {@link MessageStoreApi.getOffsetInQueueByTime}. */
  offsetByTime(topic: string, queueId: number, timestampMs: number): number {
    const cq = this.cqStore.get(topic, queueId);
    if (cq === undefined) return 0;
    return cq.offsetByTime(timestampMs, (phy) => this.storeTimestampOf(phy));
  }

  /** Index candidates checked against the records: topic and KEYS/UNIQ_KEY must match. */
  queryByKey(
    topic: string,
    key: string,
    maxCount: number,
    beginMs: number,
    endMs: number,
  ): number[] {
    if (maxCount <= 0) return [];
    const candidates = this.index.query(topic, key, maxCount * 4 + 16, beginMs, endMs);
    const out: number[] = [];
    const seen = new Set<number>();
    const topicBytes = this.encoder.encode(topic);
    const keyBytes = this.encoder.encode(key);
    const logMax = this.log.maxOffset;
    for (const phy of candidates) {
      if (out.length >= maxCount) break;
      if (seen.has(phy) || phy >= logMax) continue;
      seen.add(phy);
      const rec = this.log.readRecord(phy);
      if (rec === null) continue;
      try {
        const b = rec.buffers[0];
        if (checkRecord(b, 0, b.length, false) <= 0) continue;
        readRecordMeta(viewOf(b), b, 0, this.meta);
        if (this.matches(b, topicBytes, keyBytes)) out.push(phy);
      } finally {
        rec.release();
      }
    }
    return out;
  }

  private matches(b: Uint8Array, topic: Uint8Array, key: Uint8Array): boolean {
    const m = this.meta;
    if (!equalBytes(b, m.topicStart, m.topicLength, topic, 0, topic.length)) return false;
    const r = this.range;
    if (findPropertyRange(b, m.propertiesStart, m.propertiesLength, 'UNIQ_KEY', r)) {
      if (equalBytes(b, r.start, r.end - r.start, key, 0, key.length)) return true;
    }
    if (findPropertyRange(b, m.propertiesStart, m.propertiesLength, 'KEYS', r)) {
      let s = r.start;
      while (s < r.end) {
        while (s < r.end && b[s] === 0x20) s++;
        let e = s;
        while (e < r.end && b[e] !== 0x20) e++;
        if (e > s && equalBytes(b, s, e - s, key, 0, key.length)) return true;
        s = e;
      }
    }
    return false;
  }
}
