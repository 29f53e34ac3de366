/**
 * The next queue offset of every topic+queue, assigned at append time (the CommitLog calls
 * {@link QueueOffsetTable.next} under its append path). Rebuilt from the ConsumeQueues' max
 * offsets after recovery.
 */
import type { QueueOffsetAssigner } from './commit-log.js';

/** Topic → per-queue next offsets. */
export class QueueOffsetTable implements QueueOffsetAssigner {
  private readonly table = new Map<string, number[]>();

  /** Returns the first offset for `count` messages and advances the queue by `count`. */
  next(topic: string, queueId: number, count: number): number {
    let arr = this.table.get(topic);
    if (arr === undefined) {
      arr = [];
      this.table.set(topic, arr);
    }
    const current = arr[queueId] ?? 0;
    arr[queueId] = current + count;
    return current;
  }

  /** The next offset of a queue (0 when unknown). */
  get(topic: string, queueId: number): number {
    return this.table.get(topic)?.[queueId] ?? 0;
  }

  /** Sets a queue's next offset. */
  set(topic: string, queueId: number, offset: number): void {
    let arr = this.table.get(topic);
    if (arr === undefined) {
      arr = [];
      this.table.set(topic, arr);
    }
    arr[queueId] = offset;
  }

  /** Forgets a topic (its queues restart at 0). */
  deleteTopic(topic: string): void {
    this.table.delete(topic);
  }
}
