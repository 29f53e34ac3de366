/**
 * Latency fault tolerance for producers: brokers that failed or answered slowly are avoided for
 * a while, so a send retry goes to a healthy broker instead of the one that just failed.
 *
 * Slow answers isolate a broker for a time that grows with the latency (table below, after
 * RocketMQ's defaults); a failure isolates it for `failureIsolationMs`.
 *
 * | latency at least (ms) | 0 | 550 | 1000 | 2000 | 3000 | 15000 |
 * |-----------------------|---|-----|------|------|------|-------|
 * | avoided for (ms)      | 0 | 30 s| 60 s | 120 s| 180 s| 600 s |
 */

const LATENCY_STEPS_MS = [0, 550, 1000, 2000, 3000, 15000];
const ISOLATION_STEPS_MS = [0, 30_000, 60_000, 120_000, 180_000, 600_000];

interface FaultItem {
  latencyMs: number;
  availableAtMs: number;
}

/** Options of {@link LatencyFaultTolerance}. */
export interface LatencyFaultOptions {
  /** How long a broker that failed a request is avoided. Default 30 000 ms. */
  failureIsolationMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  nowMs?: () => number;
}

/** Tracks per-broker health for queue selection. */
export class LatencyFaultTolerance {
  private readonly items = new Map<string, FaultItem>();
  private readonly failureIsolationMs: number;
  private readonly nowMs: () => number;

  constructor(options: LatencyFaultOptions = {}) {
    this.failureIsolationMs = options.failureIsolationMs ?? 30_000;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Records a successful call to `brokerName` that took `latencyMs`. */
  recordSuccess(brokerName: string, latencyMs: number): void {
    let step = 0;
    for (let i = LATENCY_STEPS_MS.length - 1; i >= 0; i--) {
      if (latencyMs >= LATENCY_STEPS_MS[i]!) {
        step = i;
        break;
      }
    }
    if (step === 0) {
      this.items.delete(brokerName);
      return;
    }
    this.items.set(brokerName, {
      latencyMs,
      availableAtMs: this.nowMs() + ISOLATION_STEPS_MS[step]!,
    });
  }

  /** Records a failed call (network error, timeout, broker busy) to `brokerName`. */
  recordFailure(brokerName: string): void {
    this.items.set(brokerName, {
      latencyMs: Number.MAX_SAFE_INTEGER,
      availableAtMs: this.nowMs() + this.failureIsolationMs,
    });
  }

  /** True when `brokerName` is not currently avoided. */
  isAvailable(brokerName: string): boolean {
    const item = this.items.get(brokerName);
    if (!item) return true;
    if (this.nowMs() >= item.availableAtMs) {
      this.items.delete(brokerName);
      return true;
    }
    return false;
  }

  /** Forgets everything known about `brokerName`. */
  remove(brokerName: string): void {
    this.items.delete(brokerName);
  }

  /**
   * Of the avoided brokers in `candidates`, the one that becomes available first (the least
   * bad choice when every broker is avoided), or `undefined` when none is tracked.
   */
  leastBad(candidates: Iterable<string>): string | undefined {
    let best: string | undefined;
    let bestAt = Infinity;
    for (const name of candidates) {
      const item = this.items.get(name);
      const at = item ? item.availableAtMs : -Infinity;
      if (at < bestAt) {
        bestAt = at;
        best = name;
      }
    }
    return best;
  }
}
