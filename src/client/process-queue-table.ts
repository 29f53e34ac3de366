/**
 * The process queues a consumer has been assigned, by queue key and by topic. A rebalance walks
 * one topic's queues at a time: with the queues of every topic in one map, rebalancing T topics
 * walked all Q queues T times (10,000 single-queue topics: 10^8 visits per rebalance).
 */
import { queueKey } from './message-queue.js';
import type { ProcessQueue } from './process-queue.js';

export class ProcessQueueTable {
  private readonly byKey = new Map<string, ProcessQueue>();
  private readonly byTopic = new Map<string, Map<string, ProcessQueue>>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): ProcessQueue | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Adds (or replaces) the process queue of `pq.mq`. */
  add(pq: ProcessQueue): void {
    const key = queueKey(pq.mq);
    this.delete(key);
    this.byKey.set(key, pq);
    let ofTopic = this.byTopic.get(pq.mq.topic);
    if (ofTopic === undefined) {
      ofTopic = new Map();
      this.byTopic.set(pq.mq.topic, ofTopic);
    }
    ofTopic.set(key, pq);
  }

  /** Removes the queue with this key; true when it was there. */
  delete(key: string): boolean {
    const pq = this.byKey.get(key);
    if (pq === undefined) return false;
    this.byKey.delete(key);
    const ofTopic = this.byTopic.get(pq.mq.topic);
    if (ofTopic !== undefined) {
      ofTopic.delete(key);
      if (ofTopic.size === 0) this.byTopic.delete(pq.mq.topic);
    }
    return true;
  }

  /** Every process queue. */
  values(): IterableIterator<ProcessQueue> {
    return this.byKey.values();
  }

  /** [key, process queue] of one topic's queues, as a copy (callers may delete while walking). */
  entriesOf(topic: string): [string, ProcessQueue][] {
    const ofTopic = this.byTopic.get(topic);
    return ofTopic === undefined ? [] : [...ofTopic];
  }

  clear(): void {
    this.byKey.clear();
    this.byTopic.clear();
  }
}
