/**
 * The next queue offset of every topic+queue, assigned at append time (the CommitLog calls
 * {@link QueueOffsetTable.next} under its append path). Rebuilt from the ConsumeQueues' max
 * offsets after recovery.
 */
import type { QueueOffsetAssigner } from './commit-log.js';
import { newOffsetsGeneration, type TopicSlot } from './topic-slot.js';

/** Topic → per-queue next offsets. */
export class QueueOffsetTable implements QueueOffsetAssigner {
  private readonly table = new Map<string, number[]>();
  /**
   * Changes whenever an array is dropped from {@link table}: slots holding an array of an older
   * generation fetch the topic's array again.
   */
  private generation = newOffsetsGeneration();

  /** Returns the first offset for `count` messages and advances the queue by `count`. */
  next(slot: TopicSlot, queueId: number, count: number): number {
    let arr = slot.offsets;
    if (arr === null || slot.offsetsGen !== this.generation) {
      arr = this.arrayOf(slot.topic);
      slot.offsets = arr;
      slot.offsetsGen = this.generation;
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
    this.arrayOf(topic)[queueId] = offset;
  }

  /** Forgets a topic (its queues restart at 0). */
  deleteTopic(topic: string): void {
    if (this.table.delete(topic)) this.generation = newOffsetsGeneration();
  }

  private arrayOf(topic: string): number[] {
    let arr = this.table.get(topic);
    if (arr === undefined) {
      arr = [];
      this.table.set(topic, arr);
    }
    return arr;
  }
}
