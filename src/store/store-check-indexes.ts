/**
 * The ConsumeQueue and IndexFile checks of the store checker (see `store-check.ts`): every entry
 * against the records found by the CommitLog walk, and every record against the entries.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BLANK_ENTRY_SIZE,
  CQ_ENTRY_SIZE,
  cqPhyOffset,
  cqSizeBytes,
  cqTagsCode,
  readInt64,
} from './consume-queue-entry.js';
import {
  ENTRY_KEY_HASH,
  ENTRY_PHY_OFFSET,
  ENTRY_PREV_INDEX,
  HEADER_INDEX_COUNT,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER_SIZE,
  INDEX_SLOT_SIZE,
  indexEntriesStart,
} from './index-file-layout.js';
import {
  Findings,
  INDEX_NAME,
  LogWalk,
  SEGMENT_NAME,
  isZero,
  listDir,
  readAt,
  type StoreIssueSeverity,
} from './store-check-log.js';

/** Checks every ConsumeQueue; returns the number of entries read. */
export function checkConsumeQueues(storePath: string, log: LogWalk, findings: Findings): number {
  let entries = 0;
  const root = path.join(storePath, 'consumequeue');
  const seen = new Set<string>();
  for (const topic of listDir(root)) {
    for (const qid of listDir(path.join(root, topic))) {
      if (!/^\d+$/.test(qid)) continue;
      const queueId = Number(qid);
      const key = `${topic}\u0000${queueId}`;
      seen.add(key);
      const expected = log.queues.get(key) ?? new Map<number, number>();
      const covered = new Set<number>();
      let maxCovered = -1;
      const dir = path.join(root, topic, qid);
      const files = listDir(dir)
        .filter((n) => SEGMENT_NAME.test(n))
        .sort();
      for (const name of files) {
        const rel = path.join('consumequeue', topic, qid, name);
        const data = fs.readFileSync(path.join(dir, name));
        const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
        const first = Number(name) / CQ_ENTRY_SIZE;
        const issue = (severity: StoreIssueSeverity, qo: number, message: string): void =>
          findings.add({ severity, area: 'consumequeue', file: rel, offset: qo, message });
        if (data.length % CQ_ENTRY_SIZE !== 0)
          issue(
            'warning',
            first,
            `file length ${data.length} is not a multiple of 20 (torn last entry)`,
          );
        for (let at = 0; at + CQ_ENTRY_SIZE <= data.length; at += CQ_ENTRY_SIZE) {
          const qo = first + at / CQ_ENTRY_SIZE;
          if (isZero(data.subarray(at, at + CQ_ENTRY_SIZE))) {
            if (isZero(data.subarray(at))) break;
            issue('error', qo, 'all-zero entry (a hole) before later entries');
            continue;
          }
          entries++;
          let phy: number;
          try {
            phy = cqPhyOffset(view, at);
          } catch (err) {
            issue('error', qo, (err as Error).message);
            continue;
          }
          const size = cqSizeBytes(view, at);
          const tags = cqTagsCode(view, at);
          if (size === BLANK_ENTRY_SIZE) continue;
          covered.add(qo);
          maxCovered = Math.max(maxCovered, qo);
          if (phy < log.minOffset) continue; // expired by retention
          if (phy >= log.endOffset) {
            issue(
              'warning',
              qo,
              `points at ${phy}, past the log end ${log.endOffset} (dropped at the next start)`,
            );
            continue;
          }
          const rec = log.records.get(phy);
          if (rec === undefined) {
            issue('error', qo, `points at ${phy} where no valid record starts`);
          } else if (rec.topic !== topic || rec.queueId !== queueId || rec.queueOffset !== qo) {
            issue(
              'error',
              qo,
              `points at ${phy}, a record of ${rec.topic}/${rec.queueId} queue offset ${rec.queueOffset}`,
            );
          } else if (rec.size !== size) {
            issue('error', qo, `size ${size} but the record at ${phy} has ${rec.size} bytes`);
          } else if (!rec.schedule && rec.tagsCode !== tags) {
            issue('error', qo, `tag hash ${tags} but the record's TAGS hash to ${rec.tagsCode}`);
          }
        }
      }
      reportUnindexed(findings, topic, queueId, expected, covered, maxCovered);
    }
  }
  for (const [key, expected] of log.queues) {
    if (seen.has(key)) continue;
    const [topic, qid] = key.split('\u0000') as [string, string];
    reportUnindexed(findings, topic, Number(qid), expected, new Set(), -1);
  }
  return entries;
}

function reportUnindexed(
  findings: Findings,
  topic: string,
  queueId: number,
  expected: Map<number, number>,
  covered: Set<number>,
  maxCovered: number,
): void {
  const file = path.join('consumequeue', topic, String(queueId));
  let lag = 0;
  let firstLag = -1;
  for (const [qo, phy] of expected) {
    if (covered.has(qo)) continue;
    if (qo > maxCovered) {
      lag++;
      if (firstLag < 0 || qo < firstLag) firstLag = qo;
    } else {
      findings.add({
        severity: 'error',
        area: 'consumequeue',
        file,
        offset: qo,
        message: `no entry for the record at ${phy}`,
      });
    }
  }
  if (lag > 0) {
    findings.add({
      severity: 'warning',
      area: 'consumequeue',
      file,
      offset: firstLag,
      message: `${lag} record(s) at the queue's tail not indexed yet (re-dispatched at the next start)`,
    });
  }
}

/** Checks every IndexFile. */
export function checkIndexFiles(
  storePath: string,
  log: LogWalk,
  findings: Findings,
  hashSlots: number,
): { files: number; entries: number } {
  const dir = path.join(storePath, 'index');
  const names = listDir(dir)
    .filter((n) => INDEX_NAME.test(n))
    .sort();
  const found = new Set<string>();
  let entries = 0;
  let maxIndexedPhy = -1;
  for (const name of names) {
    const rel = path.join('index', name);
    const issue = (severity: StoreIssueSeverity, offset: number, message: string): void =>
      findings.add({ severity, area: 'index', file: rel, offset, message });
    const fd = fs.openSync(path.join(dir, name), 'r');
    try {
      const fileSize = fs.fstatSync(fd).size;
      const header = readAt(fd, 0, INDEX_HEADER_SIZE);
      // The header's slot count is the number of USED slots; the table size is configuration.
      const slots = hashSlots;
      const count =
        header.length === INDEX_HEADER_SIZE ? header.readInt32BE(HEADER_INDEX_COUNT) : -1;
      const entriesStart = indexEntriesStart(slots);
      const maxEntries = (fileSize - entriesStart) / INDEX_ENTRY_SIZE;
      if (!Number.isInteger(maxEntries) || maxEntries <= 0) {
        issue(
          'warning',
          0,
          `not checked: ${fileSize} bytes do not fit a table of ${slots} hash slots (pass the broker's indexMaxHashSlots)`,
        );
        continue;
      }
      if (count === 0 && isZero(header)) {
        // Created, but the header was never flushed (crash): the store treats it as empty.
        issue('warning', 0, 'header never written (empty file after a crash)');
        continue;
      }
      if (header.length < INDEX_HEADER_SIZE || count < 1 || count > maxEntries) {
        issue('error', 0, `bad header: index count ${count} of at most ${maxEntries}`);
        continue;
      }
      for (let s = 0; s < slots; s += 1 << 20) {
        const n = Math.min(1 << 20, slots - s);
        const b = readAt(fd, INDEX_HEADER_SIZE + s * INDEX_SLOT_SIZE, n * INDEX_SLOT_SIZE);
        for (let i = 0; i < n; i++) {
          const v = b.readInt32BE(i * INDEX_SLOT_SIZE);
          if (v < 0 || v >= maxEntries)
            issue('error', 0, `slot ${s + i} holds entry ${v}, out of range`);
          else if (v >= count)
            issue(
              'warning',
              0,
              `slot ${s + i} holds entry ${v} beyond the count ${count} (unflushed header)`,
            );
        }
      }
      const per = 1 << 16;
      for (let first = 1; first < count; first += per) {
        const n = Math.min(per, count - first);
        const b = readAt(fd, entriesStart + first * INDEX_ENTRY_SIZE, n * INDEX_ENTRY_SIZE);
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let i = 0; i < n; i++) {
          const idx = first + i;
          const at = i * INDEX_ENTRY_SIZE;
          entries++;
          const hash = view.getInt32(at + ENTRY_KEY_HASH);
          const prev = view.getInt32(at + ENTRY_PREV_INDEX);
          if (prev < 0 || prev >= idx)
            issue('error', idx, `previous-entry link ${prev} out of range`);
          let phy: number;
          try {
            phy = readInt64(view, at + ENTRY_PHY_OFFSET, 'phyOffset');
          } catch (err) {
            issue('error', idx, (err as Error).message);
            continue;
          }
          if (phy < log.minOffset) continue;
          if (phy >= log.endOffset) {
            issue('warning', idx, `points at ${phy}, past the log end (dropped at the next start)`);
            continue;
          }
          maxIndexedPhy = Math.max(maxIndexedPhy, phy);
          const rec = log.records.get(phy);
          if (rec === undefined)
            issue('error', idx, `points at ${phy} where no valid record starts`);
          else if (!rec.keyHashes?.includes(hash))
            issue('error', idx, `hash ${hash} is not a key of the record at ${phy}`);
          else found.add(`${phy}:${hash}`);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  if (names.length > 0) {
    let lag = 0;
    for (const [phy, rec] of log.records) {
      for (const h of rec.keyHashes ?? []) {
        if (found.has(`${phy}:${h}`)) continue;
        if (phy > maxIndexedPhy) lag++;
        else
          findings.add({
            severity: 'error',
            area: 'index',
            file: 'index',
            offset: phy,
            message: `key hash ${h} of the record at ${phy} is not indexed`,
          });
      }
    }
    if (lag > 0) {
      findings.add({
        severity: 'warning',
        area: 'index',
        file: 'index',
        offset: maxIndexedPhy,
        message: `${lag} key(s) of the newest records not indexed yet (re-dispatched at the next start)`,
      });
    }
  }
  return { files: names.length, entries };
}
