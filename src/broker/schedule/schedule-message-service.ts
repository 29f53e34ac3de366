/**
 * Delivery of delay-level messages. Each level n has its own queue `SCHEDULE_TOPIC_XXXX`/(n-1)
 * whose ConsumeQueue tag code is the delivery time (store time + the level's delay), so entries
 * of one level are in delivery order. One timer per level waits exactly until the head entry is
 * due (no periodic scan of the backlog), re-puts every due message to its real topic and moves
 * the level's offset on. New entries arm the timer from the dispatch notification.
 *
 * Offsets are saved in `config/delayOffset.json` (`{"offsetTable": {level: offset}}`, RocketMQ's
 * shape) shortly after each delivery and at shutdown, so a restart resumes where delivery
 * stopped. A crash between a re-put and the next save can deliver those few messages twice
 * (at-least-once); a clean restart neither loses nor repeats any.
 */
import { decodeRecord } from '../../common/codec/decoded-message.js';
import type { Logger } from '../../common/logger.js';
import type { MessageFilter, MessageStoreApi } from '../../store/types.js';
import { ConfigFile, type PersistentTable } from '../config-files.js';
import { SCHEDULE_TOPIC } from '../perm.js';
import { DELAY_TRIGGER_PROPERTIES, restoreRealMessage } from './special-messages.js';

/** Wait before retrying a level whose re-put failed (RocketMQ waits 10 s). */
const RETRY_AFTER_ERROR_MS = 1_000;
/** Debounce of offset saves after deliveries. */
const SAVE_DELAY_MS = 50;

/** `delayOffset.json`. */
export interface DelayOffsetJson {
  offsetTable: Record<string, number>;
}

/** Captures the tag code (delivery time) of the entry the store hands out. */
class DeliveryTimeCapture implements MessageFilter {
  tagsCode = 0;
  isMatchedByTagsCode(tagsCode: number): boolean {
    this.tagsCode = tagsCode;
    return true;
  }
}

interface LevelState {
  readonly level: number;
  offset: number;
  timer: NodeJS.Timeout | undefined;
  timerDueMs: number;
  busy: boolean;
}

/** What the service needs from the broker. */
export interface ScheduleServiceOptions {
  store: MessageStoreApi;
  /** Delay per level in ms (index 0 = level 1). */
  levelsMs: readonly number[];
  /** `<storePathRootDir>/config`. */
  configDir: string;
  /** Write queue count of a topic (0 when unknown), to map REAL_QID. */
  queueCount: (topic: string) => number;
  log: Logger;
}

/** Per-level delivery of delayed messages. */
export class ScheduleMessageService implements PersistentTable<DelayOffsetJson> {
  private readonly opts: ScheduleServiceOptions;
  private readonly levels: LevelState[] = [];
  private readonly file: ConfigFile<DelayOffsetJson>;
  private readonly capture = new DeliveryTimeCapture();
  private running: Promise<void>[] = [];
  private stopped = true;
  /** Messages re-put to their real topic since start. */
  deliveredCount = 0;

  constructor(opts: ScheduleServiceOptions) {
    this.opts = opts;
    for (let i = 0; i < opts.levelsMs.length; i++) {
      this.levels.push({
        level: i + 1,
        offset: 0,
        timer: undefined,
        timerDueMs: 0,
        busy: false,
      });
    }
    this.file = new ConfigFile(opts.configDir, 'delayOffset.json', this, opts.log);
  }

  /** {@link PersistentTable.encode}. */
  encode(): DelayOffsetJson {
    const offsetTable: Record<string, number> = {};
    for (const s of this.levels) offsetTable[String(s.level)] = s.offset;
    return { offsetTable };
  }

  /** {@link PersistentTable.decode}. */
  decode(json: Partial<DelayOffsetJson> | undefined): void {
    const table = json?.offsetTable ?? {};
    for (const s of this.levels) {
      const v = table[String(s.level)];
      s.offset = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
    }
  }

  /** Loads the offsets and starts delivering. */
  start(): void {
    this.file.load();
    this.stopped = false;
    for (const s of this.levels) this.run(s);
  }

  /** The offset of a level (for tests and admin). */
  offsetOf(level: number): number {
    return this.levels[level - 1]?.offset ?? 0;
  }

  /**
   * Dispatch notification: a message entered `SCHEDULE_TOPIC_XXXX`/`queueId` due at
   * `deliverAtMs` (its ConsumeQueue tag code).
   */
  onScheduled(queueId: number, deliverAtMs: number): void {
    const s = this.levels[queueId];
    if (!s || this.stopped || s.busy) return;
    if (s.timer !== undefined && s.timerDueMs <= deliverAtMs) return;
    this.arm(s, deliverAtMs);
  }

  private arm(s: LevelState, dueMs: number): void {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timerDueMs = dueMs;
    s.timer = setTimeout(
      () => {
        s.timer = undefined;
        this.run(s);
      },
      Math.max(0, dueMs - Date.now()),
    );
    s.timer.unref();
  }

  private run(s: LevelState): void {
    if (s.busy || this.stopped) return;
    s.busy = true;
    const task = this.deliver(s).finally(() => {
      s.busy = false;
      this.running = this.running.filter((t) => t !== task);
    });
    this.running.push(task);
  }

  /** Delivers every due message of a level, then arms the timer for the next one. */
  private async deliver(s: LevelState): Promise<void> {
    const { store, log } = this.opts;
    const queueId = s.level - 1;
    let moved = false;
    try {
      while (!this.stopped) {
        const r = store.getMessage(SCHEDULE_TOPIC, queueId, s.offset, 1, this.capture);
        if (r.status !== 'FOUND') {
          r.slices?.release();
          const next = r.nextBeginOffset;
          const skip =
            r.status === 'OFFSET_TOO_SMALL' ||
            r.status === 'NO_MATCHED_MESSAGE' ||
            r.status === 'MESSAGE_WAS_REMOVING' ||
            r.status === 'OFFSET_FOUND_NULL' ||
            r.status === 'OFFSET_OVERFLOW_BADLY';
          if (skip && next !== s.offset) {
            s.offset = next;
            moved = true;
            continue;
          }
          return;
        }
        const slices = r.slices!;
        const dueMs = this.capture.tagsCode;
        if (dueMs > Date.now()) {
          slices.release();
          this.arm(s, dueMs);
          return;
        }
        try {
          const bytes =
            slices.buffers.length === 1 ? slices.buffers[0]! : Buffer.concat(slices.buffers);
          const original = decodeRecord(bytes);
          const real = restoreRealMessage(original, DELAY_TRIGGER_PROPERTIES, this.opts.queueCount);
          if (real) {
            const put = await store.putMessage(real);
            if (put.status !== 'PUT_OK' && put.status !== 'FLUSH_DISK_TIMEOUT') {
              log.warn(
                `delay level ${s.level}: re-put of offset ${s.offset} to ${real.topic} failed (${put.status}); retrying in ${RETRY_AFTER_ERROR_MS} ms`,
              );
              this.arm(s, Date.now() + RETRY_AFTER_ERROR_MS);
              return;
            }
            this.deliveredCount++;
          } else {
            log.warn(`delay level ${s.level}: offset ${s.offset} has no REAL_TOPIC; skipped`);
          }
        } finally {
          slices.release();
        }
        s.offset = r.nextBeginOffset;
        moved = true;
      }
    } catch (error) {
      if (!this.stopped) {
        log.error(`delay level ${s.level}: delivery failed at offset ${s.offset}`, error);
        this.arm(s, Date.now() + RETRY_AFTER_ERROR_MS);
      }
    } finally {
      if (moved) this.file.saveSoon(SAVE_DELAY_MS);
    }
  }

  /** Stops the timers, waits for running deliveries and saves the offsets. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.levels) {
      if (s.timer !== undefined) clearTimeout(s.timer);
      s.timer = undefined;
    }
    await Promise.allSettled(this.running);
    await this.file.close();
  }
}
