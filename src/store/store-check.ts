/**
 * Offline store consistency checker (`sluice store check <dir>`) and index rebuild
 * (`--repair`). Reads the files directly, never through a running store, and changes nothing
 * unless asked to repair.
 *
 * Checks:
 * - CommitLog: segments contiguous and equally sized; every record's layout (size, magic, field
 *   lengths), body CRC and stored physical offset; each segment ends with a BLANK filling it
 *   exactly, or the log ends with zeros. Invalid bytes after the last valid record of the last
 *   segment are a torn tail (a warning: recovery cuts it at the next start); invalid bytes
 *   followed by valid records are corruption (an error, with the bytes lost).
 * - ConsumeQueue: every entry points at a valid record of that topic and queue, with that queue
 *   offset, the record's size and its TAGS hash code; every record below a queue's last entry has
 *   its entry. Entries past the log end and records not yet indexed at a queue's tail are
 *   warnings (the store fixes both when it starts).
 * - IndexFile: entry and slot links in range, every entry points at a valid record one of whose
 *   keys (UNIQ_KEY, KEYS) has the entry's hash; every keyed record up to the newest indexed one
 *   is indexed.
 *
 * Memory: about 150 bytes per record (a map of the log's records), fine up to millions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SluiceError } from '../common/errors.js';
import { CQ_ENTRY_SIZE } from './consume-queue-entry.js';
import { INDEX_ENTRY_SIZE, indexEntriesStart } from './index-file-layout.js';
import { MessageStore } from './message-store.js';
import { checkConsumeQueues, checkIndexFiles } from './store-check-indexes.js';
import {
  Findings,
  INDEX_NAME,
  LogWalk,
  SEGMENT_NAME,
  listDir,
  type StoreIssue,
} from './store-check-log.js';
import { DEFAULT_STORE_CONFIG, type StoreConfig } from './types.js';

export type { StoreIssue, StoreIssueSeverity } from './store-check-log.js';

/** What {@link checkStore} found. */
export interface StoreCheckReport {
  storePath: string;
  /** True when there are no errors (warnings allowed). */
  ok: boolean;
  errors: number;
  warnings: number;
  /** The first `maxIssues` findings (counts above include all). */
  issues: StoreIssue[];
  segments: number;
  segmentSizeBytes: number;
  records: number;
  logMinOffset: number;
  logEndOffset: number;
  queues: number;
  consumeQueueEntries: number;
  indexFiles: number;
  indexEntries: number;
}

/** Options of {@link checkStore}. */
export interface StoreCheckOptions {
  /** Findings kept in the report (all are counted). Default 200. */
  maxIssues?: number;
  /** Verify body CRCs (default true). */
  verifyCrc?: boolean;
  /** Hash slots per IndexFile, as configured for the store (default 5,000,000). */
  indexMaxHashSlots?: number;
}

/** The store folder inside `dir`: `dir` itself when it holds `commitlog/`, else `dir/store`. */
export function resolveStorePath(dir: string): string {
  if (fs.existsSync(path.join(dir, 'commitlog'))) return dir;
  const nested = path.join(dir, 'store');
  if (fs.existsSync(path.join(nested, 'commitlog'))) return nested;
  throw new SluiceError(
    'NOT_FOUND',
    `no CommitLog under ${dir} (looked for commitlog/ and store/commitlog/); pass the broker's data or store folder`,
  );
}

/**
 * Checks the store under `dir` (the broker's data folder or its `store/` folder).
 * @throws SluiceError `NOT_FOUND` when there is no CommitLog.
 */
export function checkStore(dir: string, options: StoreCheckOptions = {}): StoreCheckReport {
  const storePath = resolveStorePath(dir);
  const findings = new Findings(options.maxIssues ?? 200);
  const log = new LogWalk(storePath, findings, options.verifyCrc ?? true);
  log.run();
  const consumeQueueEntries = checkConsumeQueues(storePath, log, findings);
  const index = checkIndexFiles(
    storePath,
    log,
    findings,
    options.indexMaxHashSlots ?? DEFAULT_STORE_CONFIG.indexMaxHashSlots,
  );
  return {
    storePath,
    ok: findings.errors === 0,
    errors: findings.errors,
    warnings: findings.warnings,
    issues: findings.issues,
    segments: log.segments,
    segmentSizeBytes: log.segmentSizeBytes,
    records: log.records.size,
    logMinOffset: log.minOffset,
    logEndOffset: log.endOffset,
    queues: log.queues.size,
    consumeQueueEntries,
    indexFiles: index.files,
    indexEntries: index.entries,
  };
}

/** Options of {@link repairStore}. */
export interface StoreRepairOptions {
  /** Entries per ConsumeQueue file; default: inferred from existing files, else 300,000. */
  consumeQueueEntriesPerFile?: number;
  /** Index sizes; default: the store's default slots, entries inferred from an existing file. */
  indexMaxHashSlots?: number;
  indexMaxEntries?: number;
  /** Largest message the broker accepts (recovery read size). Default 4 MiB. */
  maxMessageSizeBytes?: number;
}

/** What {@link repairStore} did. */
export interface StoreRepairResult {
  storePath: string;
  /** Where the old ConsumeQueues, index files and checkpoint were moved. */
  backupDir: string;
  recordsRedispatched: number;
  logEndOffset: number;
}

function inferEntriesPerFile(storePath: string): number | undefined {
  const root = path.join(storePath, 'consumequeue');
  let best: number | undefined;
  for (const topic of listDir(root)) {
    for (const qid of listDir(path.join(root, topic))) {
      const starts = listDir(path.join(root, topic, qid))
        .filter((n) => SEGMENT_NAME.test(n))
        .map(Number)
        .sort((a, b) => a - b);
      for (let i = 1; i < starts.length; i++) {
        const step = (starts[i]! - starts[i - 1]!) / CQ_ENTRY_SIZE;
        best = best === undefined ? step : Math.min(best, step);
      }
    }
  }
  return best;
}

function inferIndexEntries(storePath: string, slots: number): number | undefined {
  const dir = path.join(storePath, 'index');
  const name = listDir(dir).find((n) => INDEX_NAME.test(n));
  if (name === undefined) return undefined;
  const bytes = fs.statSync(path.join(dir, name)).size;
  const entries = (bytes - indexEntriesStart(slots)) / INDEX_ENTRY_SIZE;
  return Number.isInteger(entries) && entries > 0 ? entries : undefined;
}

/**
 * Rebuilds every ConsumeQueue and IndexFile from the CommitLog with the store's own recovery and
 * dispatcher: moves `consumequeue/`, `index/` and `checkpoint` into a backup folder, opens the
 * store (which validates the whole log and re-dispatches it) and shuts it down cleanly.
 * The store must not be in use (its lock is taken).
 */
export async function repairStore(
  dir: string,
  options: StoreRepairOptions = {},
): Promise<StoreRepairResult> {
  const storePath = resolveStorePath(dir);
  const segments = listDir(path.join(storePath, 'commitlog')).filter((n) => SEGMENT_NAME.test(n));
  if (segments.length === 0)
    throw new SluiceError(
      'NOT_FOUND',
      `no CommitLog segments in ${storePath}; nothing to rebuild from`,
    );
  const segmentSize = fs.statSync(path.join(storePath, 'commitlog', segments[0]!)).size;
  const entriesPerFile =
    options.consumeQueueEntriesPerFile ?? inferEntriesPerFile(storePath) ?? 300_000;
  const config: Partial<StoreConfig> = {
    storePath,
    backend: 'file',
    commitLogSegmentSizeBytes: segmentSize,
    consumeQueueEntriesPerFile: entriesPerFile,
    maxMessageSizeBytes: options.maxMessageSizeBytes ?? 4 * 1024 * 1024,
    warmSegments: false,
    flushMode: 'async',
  };
  const slots = options.indexMaxHashSlots ?? DEFAULT_STORE_CONFIG.indexMaxHashSlots;
  const maxEntries = options.indexMaxEntries ?? inferIndexEntries(storePath, slots);
  config.indexMaxHashSlots = slots;
  if (maxEntries !== undefined) config.indexMaxEntries = maxEntries;
  const backupDir = path.join(storePath, `repair-backup-${Date.now()}`);
  fs.mkdirSync(backupDir);
  for (const name of ['consumequeue', 'index', 'checkpoint']) {
    const from = path.join(storePath, name);
    if (fs.existsSync(from)) fs.renameSync(from, path.join(backupDir, name));
  }
  const store = await MessageStore.open(config);
  const { recordsRedispatched, logEndOffset } = store.recovery;
  await store.shutdown();
  return { storePath, backupDir, recordsRedispatched, logEndOffset };
}
