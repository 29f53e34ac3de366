/**
 * Retention: every `cleanResourceIntervalMs` deletes expired CommitLog segments (older than
 * `fileReservedTimeMs`) at the hours of `deleteWhenHours`, or at any hour when the disk is over
 * `diskMaxUsedSpaceRatio`; over `diskSpaceCleanForciblyRatio` it deletes even unexpired
 * segments. Over `diskSpaceWarningLevelRatio` the log is set unwritable (puts fail with
 * DISK_FULL) until usage drops again. After a deletion the ConsumeQueues and IndexFiles follow
 * the log's new min offset.
 */
import { createLogger } from '../common/logger.js';
import type { StoreConfig } from './types.js';

const log = createLogger('store');

/** At most this many segments per round (RocketMQ's deleteFileBatchMax). */
export const DELETE_SEGMENTS_PER_ROUND = 10;

/** What retention acts on. */
export interface RetentionTarget {
  readonly minOffset: number;
  deleteExpiredSegments(olderThanMs: number, force: boolean, maxCount: number): number;
  setWritable(writable: boolean): void;
  /** Called after segments were deleted, with the log's new min offset. */
  onLogMinOffsetChanged(minOffset: number): void;
}

/** Outcome of one round. */
export interface RetentionRound {
  diskUsedRatio: number;
  deletedSegments: number;
  diskFull: boolean;
}

/** The periodic cleanup service. */
export class RetentionService {
  private timer: NodeJS.Timeout | null = null;
  private manualRequests = 0;
  /** True while the disk is over the warning ratio (puts refused). */
  diskFull = false;
  /** Usage seen by the last round (-1 before the first). */
  lastDiskUsedRatio = -1;

  constructor(
    private readonly config: Readonly<StoreConfig>,
    private readonly target: RetentionTarget,
    private readonly diskUsedRatio: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the periodic rounds. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      try {
        this.runRound();
      } catch (err) {
        log.error('retention round failed', err);
      }
    }, this.config.cleanResourceIntervalMs);
    this.timer.unref();
  }

  /** Stops the rounds. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Asks the next round to delete expired segments whatever the hour (admin command). */
  requestDelete(): void {
    this.manualRequests = 20;
  }

  /** One round: disk check, then deletion when due. */
  runRound(): RetentionRound {
    const c = this.config;
    const ratio = this.diskUsedRatio();
    this.lastDiskUsedRatio = ratio;
    if (ratio >= 0) this.updateDiskFull(ratio > c.diskSpaceWarningLevelRatio);
    const overMax = ratio > c.diskMaxUsedSpaceRatio;
    const forcibly = ratio > c.diskSpaceCleanForciblyRatio;
    const hour = new Date(this.now()).getHours();
    const due = c.deleteWhenHours.includes(hour) || overMax || this.manualRequests > 0;
    let deleted = 0;
    if (due) {
      if (this.manualRequests > 0) this.manualRequests--;
      const before = this.target.minOffset;
      deleted = this.target.deleteExpiredSegments(
        c.fileReservedTimeMs,
        forcibly,
        DELETE_SEGMENTS_PER_ROUND,
      );
      if (deleted > 0) {
        log.info(
          `retention deleted ${deleted} CommitLog segment(s)${forcibly ? ' (disk pressure, forced)' : ''}; disk used ${(ratio * 100).toFixed(1)}%`,
        );
      }
      if (this.target.minOffset !== before) {
        this.target.onLogMinOffsetChanged(this.target.minOffset);
      }
    }
    return { diskUsedRatio: ratio, deletedSegments: deleted, diskFull: this.diskFull };
  }

  private updateDiskFull(full: boolean): void {
    if (full === this.diskFull) return;
    this.diskFull = full;
    this.target.setWritable(!full);
    if (full) {
      log.warn(
        `disk usage over diskSpaceWarningLevelRatio=${this.config.diskSpaceWarningLevelRatio}: the store refuses messages (DISK_FULL) until space is freed`,
      );
    } else {
      log.info('disk usage back under the warning level: the store accepts messages again');
    }
  }
}
