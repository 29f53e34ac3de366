/**
 * The periodic flush of the store's "logics" — ConsumeQueues and the key index, which follow
 * the CommitLog — and the checkpoint records of how far they are on disk.
 *
 * A pass hands the ConsumeQueues' new entries to their writer in time-boxed steps, stores the
 * index header, then records in the checkpoint the log offset below which everything is written
 * (`logicsWrittenOffset`, enough after a process crash). Every `thoroughIntervalMs`, and sooner
 * once {@link EARLY_SYNC_MIN_NEW_FILES} new ConsumeQueue files wait, it also fsyncs the files
 * and records `logicsSyncedOffset` (enough after a machine crash). One pass runs at a time.
 */
import { createLogger } from '../common/logger.js';
import type { Checkpoint } from './checkpoint.js';
import { EARLY_SYNC_MIN_NEW_FILES, type ConsumeQueueStore } from './consume-queue-store.js';
import type { Dispatcher } from './dispatcher.js';
import type { IndexService } from './index-service.js';

const log = createLogger('store');

/**
 * Longest stretch of one step of the periodic ConsumeQueue flush on the event loop (posting
 * dirty queues' entries to the writer thread); the pass goes on in the next turn. Each step holds
 * up the requests that arrive during it: with 8 ms steps a broker with 1,000 queues, each taking
 * one message a second, paused 5-7 ms once or twice a second, and a probe at 1,000 sends/s
 * measured p99s of 3.4-6.9 ms (median 4.6, six runs) against 2.5-4.8 ms (median 3.3) with
 * 1-2 ms steps, alternated.
 */
const LOGICS_FLUSH_STEP_MS = 2;

/**
 * Dispatch positions of the latest passes kept as candidates for `logicsSyncedOffset` (one pass
 * a second by default). Under steady load the pass's own position is past the CommitLog's flushed
 * offset whenever the fsync runs; an earlier pass's position, also a record boundary, is not.
 */
const PASS_STARTS_KEPT = 16;

/** What the flush works on. */
export interface LogicsParts {
  /** The CommitLog's durable offset. */
  readonly commitLog: { readonly flushedOffset: number };
  readonly cqStore: ConsumeQueueStore;
  readonly index: IndexService;
  readonly dispatcher: Dispatcher;
  readonly checkpoint: Checkpoint;
}

/** When the flush runs. */
export interface LogicsFlushTiming {
  intervalMs: number;
  thoroughIntervalMs: number;
}

/** Runs the logics flush every `intervalMs` once started. */
export class LogicsFlusher {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  private syncInFlight: Promise<void> | null = null;
  private lastThoroughMs = Date.now();
  /** Dispatch positions (record boundaries) at the start of the latest passes, oldest first. */
  private readonly passStarts: number[] = [];

  constructor(
    private readonly parts: LogicsParts,
    private readonly timing: LogicsFlushTiming,
  ) {}

  start(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setInterval(() => this.flush(), this.timing.intervalMs);
    this.timer.unref();
  }

  /** No further passes; a pass under way ends at its next step. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves once a thorough sync under way has ended. */
  async settled(): Promise<void> {
    if (this.syncInFlight !== null) await this.syncInFlight;
  }

  /** One pass (the timer's); returns at once while another runs. */
  flush(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    const { cqStore, index, dispatcher } = this.parts;
    const dispatched = dispatcher.dispatchedOffset;
    const timestamp = dispatcher.lastStoreTimestamp;
    const starts = this.passStarts;
    if (starts.length === 0 || dispatched > starts[starts.length - 1]) {
      if (starts.length === PASS_STARTS_KEPT) starts.shift();
      starts.push(dispatched);
    }
    const step = (): void => {
      if (this.stopped) {
        this.running = false;
        return;
      }
      try {
        if (!cqStore.flushSome(performance.now() + LOGICS_FLUSH_STEP_MS, true)) {
          setImmediate(step);
          return;
        }
        if (cqStore.writer !== null) {
          // The writer thread has the pass's entries: record them once they are in the files.
          cqStore.writesDone().then(finish, finish);
          return;
        }
        finish();
      } catch (err) {
        log.error('ConsumeQueue/index flush failed', err);
        this.running = false;
      }
    };
    const finish = (): void => {
      if (this.stopped) {
        this.running = false;
        return;
      }
      try {
        // Entries a lazy pass kept in memory are not on disk: claim no more than below them.
        const floor = cqStore.unwrittenFloor;
        const written = floor >= 0 && floor < dispatched ? floor : dispatched;
        index.flush();
        cqStore.releaseIdleBuffers();
        const now = Date.now();
        const thorough =
          now - this.lastThoroughMs >= this.timing.thoroughIntervalMs ||
          cqStore.filesCreatedSinceSync >= EARLY_SYNC_MIN_NEW_FILES;
        this.record(written, timestamp, true);
        if (thorough) {
          this.lastThoroughMs = now;
          this.syncInFlight = this.sync(written)
            .catch((err: unknown) => log.error('ConsumeQueue/index fsync failed', err))
            .finally(() => {
              this.syncInFlight = null;
              this.running = false;
            });
          return;
        }
      } catch (err) {
        log.error('ConsumeQueue/index flush failed', err);
      }
      this.running = false;
    };
    step();
  }

  /** Records the dispatcher's position in the checkpoint and saves it before returning. */
  recordNow(): void {
    const { dispatcher } = this.parts;
    this.record(dispatcher.dispatchedOffset, dispatcher.lastStoreTimestamp);
  }

  /**
   * Records in the checkpoint that everything below `dispatched` is written; `background`
   * saves it on the thread pool (the periodic flush), else before returning.
   */
  private record(dispatched: number, timestamp: number, background = false): void {
    const { checkpoint, commitLog, index } = this.parts;
    const cp = checkpoint.data;
    const flushed = commitLog.flushedOffset;
    cp.logicsWrittenOffset = dispatched;
    cp.logicsMsgTimestamp = timestamp;
    cp.indexMsgTimestamp = index.endTimestamp;
    cp.confirmPhyOffset = flushed;
    if (dispatched <= flushed) cp.physicMsgTimestamp = timestamp;
    if (!background) {
      checkpoint.save();
      return;
    }
    checkpoint
      .saveAsync()
      .catch((err: unknown) => log.error('checkpoint save failed; retried next flush', err));
  }

  /**
   * fsyncs ConsumeQueue and index files (off the event loop), then records as the offset below
   * which logics data survives an OS crash the newest record boundary at or below both
   * `dispatched` (everything below it is in those files) and the CommitLog's flushed offset
   * (recovery starts there and reads the log forward: it must be durable and a record's start).
   */
  async sync(dispatched: number): Promise<void> {
    const { checkpoint, commitLog, cqStore, index } = this.parts;
    const synced = this.syncableOffset(dispatched, commitLog.flushedOffset);
    await index.syncAsync();
    await cqStore.syncAllAsync();
    if (synced > checkpoint.data.logicsSyncedOffset) {
      checkpoint.data.logicsSyncedOffset = synced;
      await checkpoint.saveAsync();
    }
  }

  /**
   * `dispatched` when the log is flushed that far, else the newest earlier pass start at or
   * below both; -1 when there is none.
   */
  private syncableOffset(dispatched: number, flushed: number): number {
    if (dispatched <= flushed) return dispatched;
    let best = -1;
    for (const start of this.passStarts) {
      if (start <= flushed && start <= dispatched && start > best) best = start;
    }
    return best;
  }
}
