/**
 * Opening a `MessageStore`'s parts, with recovery: lock the folder, load queues, index and
 * checkpoint, recover the log's end (from the checkpoint's dispatch offset; after a crash the
 * log is validated record by record from there and cut after the last good record), drop
 * ConsumeQueue and index entries past the log's end, re-dispatch the tail, rebuild the
 * queue-offset table, then leave an `abort` marker until a clean shutdown.
 */
import fs from 'node:fs';
import { SluiceError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import {
  Checkpoint,
  acquireStoreLock,
  currentBootId,
  readAbortMarker,
  writeAbortMarker,
} from './checkpoint.js';
import { CommitLog } from './commit-log.js';
import { ConsumeQueueStore } from './consume-queue-store.js';
import { diskUsedRatio } from './disk.js';
import { Dispatcher, type DispatchLog } from './dispatcher.js';
import { IndexService } from './index-service.js';
import { QueueOffsetTable } from './queue-offset-table.js';
import { RetentionService } from './retention.js';
import type { StoreConfig } from './types.js';

const log = createLogger('store');

/** Test and embedding hooks for {@link MessageStore.open}. */
export interface MessageStoreOptions {
  /** Disk usage source (default: `fs.statfs` of the store folder). */
  diskUsedRatio?: () => number;
  /** Clock for retention's hour check. */
  now?: () => number;
}

/** How the last run ended, as found by {@link MessageStore.open}. */
export interface RecoveryInfo {
  abnormal: boolean;
  /** Log offset recovery (validation and re-dispatch) started from. */
  fromOffset: number;
  /** The log's end after recovery. */
  logEndOffset: number;
  consumeQueueEntriesDropped: number;
  indexEntriesDropped: number;
  recordsRedispatched: number;
  /** Time spent re-dispatching at open. */
  redispatchMs: number;
}

function validateConfig(c: StoreConfig): void {
  const positive: Array<keyof StoreConfig> = [
    'commitLogSegmentSizeBytes',
    'consumeQueueEntriesPerFile',
    'indexMaxHashSlots',
    'indexMaxEntries',
    'maxTransferCount',
    'maxTransferBytes',
    'cleanResourceIntervalMs',
  ];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new SluiceError('CONFIG_INVALID', `store config ${k} must be a positive integer`);
    }
  }
  const budget = c.consumeQueueBufferBudgetBytes;
  if (budget !== undefined && !(Number.isSafeInteger(budget) && budget >= 0)) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `store config consumeQueueBufferBudgetBytes must be an integer >= 0, got ${budget}`,
    );
  }
}

/** The parts of an opened store, recovered and ready to start. */
export interface StoreParts {
  recovery: RecoveryInfo;
  commitLog: CommitLog;
  cqStore: ConsumeQueueStore;
  index: IndexService;
  dispatcher: Dispatcher;
  checkpoint: Checkpoint;
  offsets: QueueOffsetTable;
  retention: RetentionService;
  diskRatio: () => number;
  releaseLock: () => void;
}

/**
 * Locks, loads and recovers the store at `cfg.storePath` (see the module comment). The
 * retention service calls `onLogMinOffsetChanged` once it has deleted log segments.
 */
export async function openStoreParts(
  cfg: Readonly<StoreConfig>,
  options: MessageStoreOptions,
  onLogMinOffsetChanged: (minOffset: number) => void,
): Promise<StoreParts> {
  validateConfig(cfg);
  fs.mkdirSync(cfg.storePath, { recursive: true });
  const releaseLock = acquireStoreLock(cfg.storePath);
  let commitLog: CommitLog | undefined;
  let cqStoreOpened: ConsumeQueueStore | undefined;
  try {
    const abort = readAbortMarker(cfg.storePath);
    const checkpoint = new Checkpoint(cfg.storePath);
    const cqStore = new ConsumeQueueStore({
      storePath: cfg.storePath,
      entriesPerFile: cfg.consumeQueueEntriesPerFile,
      maxOpenFiles: cfg.consumeQueueMaxOpenFiles,
      bufferBudgetBytes: cfg.consumeQueueBufferBudgetBytes,
      writeThread: cfg.consumeQueueWriteThread ?? true,
    });
    cqStoreOpened = cqStore;
    cqStore.load();
    const index = new IndexService({
      storePath: cfg.storePath,
      sizes: { hashSlots: cfg.indexMaxHashSlots, maxEntries: cfg.indexMaxEntries },
      // writeMode left to the index's default: mapped whenever the addon is there, whatever
      // the CommitLog's backend (see IndexServiceOptions.writeMode).
    });
    index.load();
    const offsets = new QueueOffsetTable();
    commitLog = await CommitLog.open(cfg as StoreConfig, offsets);
    const log0 = commitLog;

    // Where to start validating and re-dispatching: the last offset whose ConsumeQueue and
    // index data is known to be on disk. After an OS crash only fsynced data counts.
    const abnormal = abort !== null;
    const sameBoot = abort !== null && abort.bootId !== '' && abort.bootId === currentBootId();
    let from = 0;
    if (checkpoint.loadedValid) {
      from =
        abnormal && !sameBoot
          ? checkpoint.data.logicsSyncedOffset
          : checkpoint.data.logicsWrittenOffset;
    }
    from = Math.max(from, log0.minOffset);
    if (abnormal) {
      log.warn(
        `the store was not shut down cleanly (${sameBoot ? 'process crash' : 'machine restart'}); validating the log from offset ${from}`,
      );
    }
    const logEnd = log0.recover(
      from,
      undefined,
      !abnormal ? 'clean' : sameBoot ? 'process-crash' : 'os-crash',
    );
    if (from > logEnd) from = logEnd;
    const cqDropped = cqStore.truncateFrom(logEnd);
    const idxDropped = index.truncateFrom(logEnd);
    cqStore.setLogMinOffset(log0.minOffset);
    if (cqDropped > 0 || idxDropped > 0) {
      log.warn(
        `dropped ${cqDropped} ConsumeQueue and ${idxDropped} index entries past the log end ${logEnd}`,
      );
    }
    if (abnormal && !sameBoot) {
      // After a machine crash ConsumeQueue and index files may hold entries whose pages never
      // reached the disk (zeros) before or among ones that did, and the dispatcher would not
      // write those again: keep only what was fsynced, and dispatch the rest again.
      const cutMs = performance.now();
      const cqCut = cqStore.cutUnsynced(from);
      const idxCut = index.cutUnsynced(from);
      if (cqCut > 0 || idxCut > 0) {
        log.warn(
          `machine restart: dropped ${cqCut} ConsumeQueue and ${idxCut} index entries from offset ${from} on, not known to be on disk; they are dispatched again (${(performance.now() - cutMs).toFixed(0)} ms)`,
        );
      }
    }
    const source: DispatchLog = {
      get maxOffset() {
        return log0.maxOffset;
      },
      get minOffset() {
        return log0.minOffset;
      },
      read: (off, max) => log0.readChunk(off, max),
      slotAt: (off) => log0.slotAt(off),
      nextSegmentStart: (off) => {
        for (const s of log0.segmentQueue.segments) if (s.startOffset > off) return s.startOffset;
        return -1;
      },
    };
    const dispatcher = new Dispatcher(
      source,
      cqStore,
      index,
      { messageIndexEnable: cfg.messageIndexEnable, delayLevelsMs: cfg.delayLevelsMs },
      from,
    );
    const redispatchStart = performance.now();
    const redispatched = dispatcher.dispatchUntil();
    const redispatchMs = performance.now() - redispatchStart;
    cqStore.forEach((q) => offsets.set(q.topic, q.queueId, q.maxOffset));
    cqStore.flushAll();
    index.flush();

    writeAbortMarker(cfg.storePath);
    const ratio = options.diskUsedRatio ?? (() => diskUsedRatio(cfg.storePath));
    const retention = new RetentionService(
      cfg,
      {
        get minOffset() {
          return log0.minOffset;
        },
        deleteExpiredSegments: (age, force, max) => log0.deleteExpiredSegments(age, force, max),
        setWritable: (w) => log0.setWritable(w),
        onLogMinOffsetChanged,
      },
      ratio,
      options.now,
    );
    return {
      recovery: {
        abnormal,
        fromOffset: from,
        logEndOffset: logEnd,
        consumeQueueEntriesDropped: cqDropped,
        indexEntriesDropped: idxDropped,
        recordsRedispatched: redispatched,
        redispatchMs,
      },
      commitLog: log0,
      cqStore,
      index,
      dispatcher,
      checkpoint,
      offsets,
      retention,
      diskRatio: ratio,
      releaseLock,
    };
  } catch (err) {
    await closeStoreParts({ commitLog, cqStore: cqStoreOpened, releaseLock });
    throw err;
  }
}

/**
 * Closes what {@link openStoreParts} opened, for a store that fails to open or to start: the
 * log, the ConsumeQueue writer thread (each if it got that far), then the folder's lock.
 */
export async function closeStoreParts(
  parts: Partial<Pick<StoreParts, 'commitLog' | 'cqStore'>> & Pick<StoreParts, 'releaseLock'>,
): Promise<void> {
  await parts.commitLog?.close().catch(() => undefined);
  await parts.cqStore?.closeWriter().catch(() => undefined);
  parts.releaseLock();
}
