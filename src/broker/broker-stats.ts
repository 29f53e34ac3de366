/**
 * Traffic counters of one broker, fed by the request processors and read by the dashboard and
 * `/metrics`: messages and bytes in (stored by sends) and out (returned by pulls) per topic, and
 * send / pull latency in fixed buckets. The hot path only adds to numbers held in a per-topic
 * object (created once per topic) and to a preallocated bucket array: no allocation per message.
 *
 * A broker's stats are found from its store ({@link brokerStatsOf}), so processors need no extra
 * wiring and two brokers in one process (tests) keep separate counters.
 */
import type { PutResult } from '../store/types.js';

/** Upper bounds (seconds) of the latency buckets; the last bucket (+Inf) is implicit. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]);

/** A latency histogram with fixed buckets (non-cumulative counts; +Inf last). */
export class LatencyHistogram {
  /** Count per bucket of {@link LATENCY_BUCKETS_SECONDS}, then the +Inf bucket. */
  readonly bucketCounts = new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1);
  /** Sum of every observation in seconds. */
  sumSeconds = 0;
  /** Number of observations. */
  count = 0;

  /** Records one duration in milliseconds. */
  observeMs(durationMs: number): void {
    const seconds = durationMs > 0 ? durationMs / 1000 : 0;
    const bounds = LATENCY_BUCKETS_SECONDS;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.bucketCounts[i]! += 1;
    this.sumSeconds += seconds;
    this.count++;
  }
}

/** Running totals of one topic. */
export class TopicTraffic {
  /** Messages stored by sends. */
  messagesIn = 0;
  /** Record bytes stored by sends. */
  bytesIn = 0;
  /** Messages returned by pulls. */
  messagesOut = 0;
  /** Record bytes returned by pulls. */
  bytesOut = 0;

  constructor(
    /** The topic name. */
    readonly topic: string,
  ) {}
}

/** The traffic counters of one broker. */
export class BrokerStats {
  /** Per-topic totals (a topic appears on its first send or pull). */
  readonly topics = new Map<string, TopicTraffic>();
  /** Send latency: request decoded → stored (and flushed in sync mode). */
  readonly sendLatency = new LatencyHistogram();
  /** Pull latency: store read of a pull that is answered (held pulls count when answered). */
  readonly pullLatency = new LatencyHistogram();
  /** Sum over topics, kept separately so rate sampling is O(1). */
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  /** Sends the store refused (disk full, illegal message, …). */
  sendFailures = 0;

  /** The counters of `topic`, created on first use. */
  topic(topic: string): TopicTraffic {
    let t = this.topics.get(topic);
    if (t === undefined) {
      t = new TopicTraffic(topic);
      this.topics.set(topic, t);
    }
    return t;
  }

  /**
   * A send to the topic counted by `traffic` (from {@link topic}) finished: `startMs` is
   * `performance.now()` when the request was taken up.
   */
  onPut(traffic: TopicTraffic, result: PutResult, startMs: number): void {
    this.sendLatency.observeMs(performance.now() - startMs);
    if (result.status !== 'PUT_OK' && result.status !== 'FLUSH_DISK_TIMEOUT') {
      this.sendFailures++;
      return;
    }
    const appended = result.appended;
    let bytes = 0;
    for (let i = 0; i < appended.length; i++) bytes += appended[i]!.sizeBytes;
    traffic.messagesIn += appended.length;
    traffic.bytesIn += bytes;
    this.messagesIn += appended.length;
    this.bytesIn += bytes;
  }

  /** A pull is answered with `messages` records of `bytes` bytes (0 when nothing was found). */
  onPull(topic: string, messages: number, bytes: number, startMs: number): void {
    this.pullLatency.observeMs(performance.now() - startMs);
    if (messages <= 0) return;
    const t = this.topic(topic);
    t.messagesOut += messages;
    t.bytesOut += bytes;
    this.messagesOut += messages;
    this.bytesOut += bytes;
  }

  /** Forgets a deleted topic's counters. */
  forgetTopic(topic: string): void {
    this.topics.delete(topic);
  }
}

const statsByStore = new WeakMap<object, BrokerStats>();

/** The stats of the broker that owns `store` (created on first use). */
export function brokerStatsOf(store: object): BrokerStats {
  let stats = statsByStore.get(store);
  if (stats === undefined) {
    stats = new BrokerStats();
    statsByStore.set(store, stats);
  }
  return stats;
}
