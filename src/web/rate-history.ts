/**
 * A ring buffer of per-second traffic samples (messages and bytes in/out per second) covering
 * the last 15 minutes, taken from the broker's {@link BrokerStats} totals by a 1 s timer. The
 * dashboard's overview charts read it through `/api/rates`.
 */
import type { BrokerStats } from '../broker/broker-stats.js';

/** Samples kept: 15 minutes at one per second. */
export const RATE_HISTORY_SAMPLES = 900;

/** Column-oriented samples, oldest first (the shape uPlot wants). */
export interface RateSeries {
  /** Sample times, seconds since the epoch. */
  t: number[];
  messagesInPerSec: number[];
  messagesOutPerSec: number[];
  bytesInPerSec: number[];
  bytesOutPerSec: number[];
}

/** Samples the broker's totals at a fixed interval into fixed-size typed arrays. */
export class RateHistory {
  private readonly capacity: number;
  private readonly times: Float64Array;
  private readonly columns: Float64Array[];
  private next = 0;
  private size = 0;
  private last: number[] | undefined;
  private lastMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stats: BrokerStats,
    /** Interval between samples. */
    readonly intervalMs = 1000,
    capacity = RATE_HISTORY_SAMPLES,
  ) {
    this.capacity = capacity;
    this.times = new Float64Array(capacity);
    this.columns = [0, 1, 2, 3].map(() => new Float64Array(capacity));
  }

  /** Starts sampling (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now (the first call only sets the baseline). */
  sample(nowMs = Date.now()): void {
    const s = this.stats;
    const totals = [s.messagesIn, s.messagesOut, s.bytesIn, s.bytesOut];
    if (this.last !== undefined && nowMs > this.lastMs) {
      const seconds = (nowMs - this.lastMs) / 1000;
      const i = this.next;
      this.times[i] = Math.round(nowMs / 1000);
      for (let c = 0; c < 4; c++) {
        this.columns[c]![i] = Math.max(0, (totals[c]! - this.last[c]!) / seconds);
      }
      this.next = (i + 1) % this.capacity;
      if (this.size < this.capacity) this.size++;
    }
    this.last = totals;
    this.lastMs = nowMs;
  }

  /** The samples of the last `seconds` (all kept samples by default), oldest first. */
  series(seconds = Infinity): RateSeries {
    const out: RateSeries = {
      t: [],
      messagesInPerSec: [],
      messagesOutPerSec: [],
      bytesInPerSec: [],
      bytesOutPerSec: [],
    };
    const wanted = Math.min(this.size, Math.ceil((seconds * 1000) / this.intervalMs));
    const targets = [
      out.messagesInPerSec,
      out.messagesOutPerSec,
      out.bytesInPerSec,
      out.bytesOutPerSec,
    ];
    for (let k = this.size - wanted; k < this.size; k++) {
      const i = (this.next - this.size + k + this.capacity) % this.capacity;
      out.t.push(this.times[i]!);
      for (let c = 0; c < 4; c++) targets[c]!.push(Math.round(this.columns[c]![i]! * 100) / 100);
    }
    return out;
  }
}
