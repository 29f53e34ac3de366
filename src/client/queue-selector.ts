/**
 * Producer queue selection: round-robin over the writable queues of a topic, skipping the
 * broker of the previous failed attempt and brokers the {@link LatencyFaultTolerance} avoids;
 * or a fixed queue per sharding key.
 */
import { createHash } from 'node:crypto';
import type { LatencyFaultTolerance } from './latency-fault.js';
import type { MessageQueue } from './message-queue.js';

/** Writable queues of one topic with a round-robin cursor. */
export class TopicPublishInfo {
  /** Writable queues, sorted. */
  readonly queues: readonly MessageQueue[];
  private cursor: number;

  constructor(queues: readonly MessageQueue[], startIndex = Math.floor(Math.random() * 1024)) {
    this.queues = queues;
    this.cursor = startIndex;
  }

  /** True when there is at least one writable queue. */
  get ok(): boolean {
    return this.queues.length > 0;
  }

  /**
   * Next queue in round-robin order. Skips queues of `avoidBroker` (the broker that just
   * failed) and of brokers `fault` reports as unavailable, as long as another choice exists.
   */
  select(avoidBroker: string | undefined, fault?: LatencyFaultTolerance): MessageQueue {
    const n = this.queues.length;
    if (n === 0) throw new RangeError('no writable queue');
    // First pass: healthy and not the broker that just failed.
    for (let i = 0; i < n; i++) {
      const mq = this.queues[this.next(n)]!;
      if (mq.brokerName === avoidBroker) continue;
      if (fault && !fault.isAvailable(mq.brokerName)) continue;
      return mq;
    }
    // Second pass: anything but the broker that just failed.
    if (avoidBroker !== undefined) {
      for (let i = 0; i < n; i++) {
        const mq = this.queues[this.next(n)]!;
        if (mq.brokerName !== avoidBroker) return mq;
      }
    }
    // Everything is avoided: take the broker that recovers first, else plain round-robin.
    if (fault) {
      const best = fault.leastBad(new Set(this.queues.map((q) => q.brokerName)));
      if (best !== undefined) {
        for (let i = 0; i < n; i++) {
          const mq = this.queues[this.next(n)]!;
          if (mq.brokerName === best) return mq;
        }
      }
    }
    return this.queues[this.next(n)]!;
  }

  /**
   * The queue a sharding key maps to: the first 4 bytes of MD5(key), as a big-endian unsigned
   * int, modulo the number of queues. Equal keys always map to the same queue as long as the
   * queue list does not change.
   */
  selectByKey(shardingKey: string): MessageQueue {
    const n = this.queues.length;
    if (n === 0) throw new RangeError('no writable queue');
    return this.queues[shardingKeyHash(shardingKey) % n]!;
  }

  private next(n: number): number {
    const value = this.cursor;
    this.cursor = (this.cursor + 1) % 0x3fffffff;
    return value % n;
  }
}

/** First 4 bytes of MD5(key) as a big-endian unsigned 32-bit integer. */
export function shardingKeyHash(key: string): number {
  return createHash('md5').update(key, 'utf8').digest().readUInt32BE(0);
}
