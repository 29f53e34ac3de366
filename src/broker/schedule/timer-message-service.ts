/**
 * Delivery of timer messages (arbitrary delivery time, RocketMQ 5's `TIMER_*` properties and
 * ONS's `__STARTDELIVERTIME`). Messages wait in `rmq_sys_wheel_timer`/0 in arrival order; this
 * service indexes them by delivery time into minute buckets on disk ({@link TimerBucketStore})
 * and delivers from the earliest bucket only, with one timer set to the next due entry, so a
 * tick never walks the backlog.
 *
 * Progress, in `config/timerCheckpoint.json`:
 * - `ingestOffset`: timer-topic queue offset up to which messages are in bucket files;
 * - `cursorMs` / `cursorPhy`: every entry ordered at or before (deliverMs, physicalOffset) was
 *   delivered.
 * Bucket entries are written before the ingest offset is saved, and a delivery is done before
 * the cursor is saved, so a crash at most delivers a message twice; a clean restart neither
 * loses nor repeats one. An entry that arrives after the cursor passed its time is delivered
 * at once.
 */
import { newRecordMeta, readRecordMeta, viewOf } from '../../common/codec/message-record.js';
import { decodeRecord } from '../../common/codec/decoded-message.js';
import { findProperty } from '../../common/codec/properties.js';
import type { Logger } from '../../common/logger.js';
import type { MessageStoreApi } from '../../store/types.js';
import { ConfigFile, type PersistentTable } from '../config-files.js';
import { TIMER_TOPIC } from '../perm.js';
import {
  DELAY_TRIGGER_PROPERTIES,
  SpecialProperty,
  restoreRealMessage,
} from './special-messages.js';
import {
  TIMER_BUCKET_MS,
  TimerBucketStore,
  bucketOf,
  compareTimerEntries,
  type TimerEntry,
} from './timer-bucket-store.js';

const RETRY_AFTER_ERROR_MS = 1_000;
const SAVE_DELAY_MS = 50;
const INGEST_BATCH = 32;

/** `timerCheckpoint.json`. */
export interface TimerCheckpointJson {
  ingestOffset: number;
  cursorMs: number;
  cursorPhy: number;
}

/** What the service needs from the broker. */
export interface TimerServiceOptions {
  store: MessageStoreApi;
  /** Folder of the bucket files. */
  dataDir: string;
  /** `<storePathRootDir>/config`. */
  configDir: string;
  queueCount: (topic: string) => number;
  log: Logger;
}

function safeInt(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

/** Timer-message delivery. */
export class TimerMessageService implements PersistentTable<TimerCheckpointJson> {
  private readonly opts: TimerServiceOptions;
  private readonly buckets: TimerBucketStore;
  private readonly file: ConfigFile<TimerCheckpointJson>;
  private readonly meta = newRecordMeta();
  private ingestOffset = 0;
  private cursor: TimerEntry = { deliverMs: 0, physicalOffset: 0 };
  /** The bucket being delivered: its start and remaining entries in delivery order. */
  private current: { start: number; entries: TimerEntry[] } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDueMs = 0;
  private busy = false;
  private again = false;
  private running: Promise<void> = Promise.resolve();
  private stopped = true;
  /** Messages re-put to their real topic since start. */
  deliveredCount = 0;

  constructor(opts: TimerServiceOptions) {
    this.opts = opts;
    this.buckets = new TimerBucketStore(opts.dataDir);
    this.file = new ConfigFile(opts.configDir, 'timerCheckpoint.json', this, opts.log);
  }

  /** {@link PersistentTable.encode}. */
  encode(): TimerCheckpointJson {
    return {
      ingestOffset: this.ingestOffset,
      cursorMs: this.cursor.deliverMs,
      cursorPhy: this.cursor.physicalOffset,
    };
  }

  /** {@link PersistentTable.decode}. */
  decode(json: Partial<TimerCheckpointJson> | undefined): void {
    this.ingestOffset = safeInt(json?.ingestOffset);
    this.cursor = { deliverMs: safeInt(json?.cursorMs), physicalOffset: safeInt(json?.cursorPhy) };
  }

  /** Number of bucket files waiting (for tests and stats). */
  get pendingBuckets(): number {
    return this.buckets.bucketCount;
  }

  /** Loads the checkpoint and buckets and starts delivering. */
  start(): void {
    this.buckets.open();
    this.file.load();
    this.stopped = false;
    this.kick();
  }

  /** Dispatch notification: a message entered the timer topic. */
  onArrived(): void {
    this.kick();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = this.pump().finally(() => {
      this.busy = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  private arm(dueMs: number): void {
    if (this.timer !== undefined) {
      if (this.timerDueMs <= dueMs) return;
      clearTimeout(this.timer);
    }
    this.timerDueMs = dueMs;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.max(0, dueMs - Date.now()),
    );
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    try {
      await this.ingest();
      await this.deliverDue();
    } catch (error) {
      if (!this.stopped) {
        this.opts.log.error('timer delivery failed; retrying', error);
        this.arm(Date.now() + RETRY_AFTER_ERROR_MS);
      }
    }
  }

  /** Moves new timer-topic messages into bucket files (or delivers them when overdue). */
  private async ingest(): Promise<void> {
    const { store } = this.opts;
    while (!this.stopped) {
      const r = store.getMessage(TIMER_TOPIC, 0, this.ingestOffset, INGEST_BATCH);
      if (r.status !== 'FOUND') {
        r.slices?.release();
        const skip =
          r.status === 'OFFSET_TOO_SMALL' ||
          r.status === 'NO_MATCHED_MESSAGE' ||
          r.status === 'MESSAGE_WAS_REMOVING' ||
          r.status === 'OFFSET_FOUND_NULL' ||
          r.status === 'OFFSET_OVERFLOW_BADLY';
        if (skip && r.nextBeginOffset !== this.ingestOffset) {
          this.ingestOffset = r.nextBeginOffset;
          continue;
        }
        return;
      }
      const fresh: TimerEntry[] = [];
      try {
        for (const bytes of r.slices!.buffers) this.collect(bytes, fresh);
      } finally {
        r.slices!.release();
      }
      const later: TimerEntry[] = [];
      for (const e of fresh) {
        if (compareTimerEntries(e, this.cursor) <= 0) await this.deliverOne(e);
        else later.push(e);
      }
      this.buckets.append(later);
      const cur = this.current;
      if (cur) {
        for (const e of later) {
          const start = bucketOf(e.deliverMs);
          if (start === cur.start) insertSorted(cur.entries, e);
          // An earlier bucket appeared: reload from the earliest one (the files hold it all).
          else if (start < cur.start) this.current = undefined;
        }
      }
      this.ingestOffset = r.nextBeginOffset;
      this.file.saveSoon(SAVE_DELAY_MS);
    }
  }

  private collect(bytes: Uint8Array, out: TimerEntry[]): void {
    const view = viewOf(bytes);
    const meta = this.meta;
    let p = 0;
    while (p + 8 <= bytes.length) {
      const size = view.getInt32(p);
      if (size <= 8 || p + size > bytes.length) break;
      readRecordMeta(view, bytes, p, meta);
      const text = findProperty(
        bytes,
        meta.propertiesStart,
        meta.propertiesLength,
        SpecialProperty.TIMER_OUT_MS,
      );
      const deliverMs = Number(text);
      out.push({
        deliverMs: Number.isSafeInteger(deliverMs) ? deliverMs : meta.storeTimestamp,
        physicalOffset: meta.physicalOffset,
      });
      p += size;
    }
  }

  /** Delivers due entries of the earliest buckets; arms the timer for the next one. */
  private async deliverDue(): Promise<void> {
    while (!this.stopped) {
      let cur = this.current;
      if (!cur || cur.entries.length === 0) {
        if (cur) {
          this.buckets.remove(cur.start);
          this.current = undefined;
        }
        const start = this.buckets.firstBucket();
        if (start === undefined) return;
        const entries = this.buckets
          .load(start)
          .filter((e) => compareTimerEntries(e, this.cursor) > 0);
        cur = this.current = { start, entries };
        continue;
      }
      const head = cur.entries[0]!;
      if (head.deliverMs > Date.now()) {
        this.arm(head.deliverMs);
        return;
      }
      if (!(await this.deliverOne(head))) {
        this.arm(Date.now() + RETRY_AFTER_ERROR_MS);
        return;
      }
      cur.entries.shift();
      this.cursor = head;
      this.file.saveSoon(SAVE_DELAY_MS);
    }
  }

  /** Re-puts one timer message to its real topic; false when the store refused it. */
  private async deliverOne(e: TimerEntry): Promise<boolean> {
    const { store, log } = this.opts;
    const slices = store.lookMessageByOffset(e.physicalOffset);
    if (!slices) {
      log.warn(`timer message at offset ${e.physicalOffset} is gone (expired); skipped`);
      return true;
    }
    try {
      const bytes =
        slices.buffers.length === 1 ? slices.buffers[0]! : Buffer.concat(slices.buffers);
      const real = restoreRealMessage(
        decodeRecord(bytes),
        DELAY_TRIGGER_PROPERTIES,
        this.opts.queueCount,
      );
      if (!real) {
        log.warn(`timer message at offset ${e.physicalOffset} has no REAL_TOPIC; skipped`);
        return true;
      }
      const put = await store.putMessage(real);
      if (put.status !== 'PUT_OK' && put.status !== 'FLUSH_DISK_TIMEOUT') {
        log.warn(`timer delivery to ${real.topic} failed (${put.status}); will retry`);
        return false;
      }
      this.deliveredCount++;
      return true;
    } finally {
      slices.release();
    }
  }

  /** Stops delivering and saves the checkpoint. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running.catch(() => undefined);
    await this.file.close();
  }
}

/** Inserts `e` into the sorted `list` (binary search). */
function insertSorted(list: TimerEntry[], e: TimerEntry): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareTimerEntries(list[mid]!, e) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] && compareTimerEntries(list[lo]!, e) === 0) return;
  list.splice(lo, 0, e);
}

/** Bucket width, re-exported for tests. */
export const TIMER_BUCKET_WIDTH_MS = TIMER_BUCKET_MS;
