/**
 * Queue locks for orderly consumers (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ): a queue is owned by one
 * client of a group until the client unlocks it or the lock is not renewed for 60 s.
 */

/** Lock lifetime without renewal, as in RocketMQ. */
export const REBALANCE_LOCK_MAX_LIVE_TIME_MS = 60_000;

/** A message queue as carried in lock bodies. */
export interface MessageQueueRef {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface LockEntry {
  clientId: string;
  lastUpdateTimestamp: number;
}

function queueKey(mq: MessageQueueRef): string {
  return `${mq.topic}\u0001${mq.brokerName}\u0001${mq.queueId}`;
}

/** Per-group queue locks. */
export class RebalanceLockManager {
  private readonly groups = new Map<string, Map<string, LockEntry>>();
  private readonly lockLifetimeMs: number;

  constructor(lockLifetimeMs = REBALANCE_LOCK_MAX_LIVE_TIME_MS) {
    this.lockLifetimeMs = lockLifetimeMs;
  }

  /**
   * Locks (or renews) every queue not held by another live client; returns the queues the client
   * now holds.
   */
  tryLockBatch(
    group: string,
    queues: readonly MessageQueueRef[],
    clientId: string,
    nowMs = Date.now(),
  ): MessageQueueRef[] {
    let table = this.groups.get(group);
    if (!table) {
      table = new Map();
      this.groups.set(group, table);
    }
    const locked: MessageQueueRef[] = [];
    for (const mq of queues) {
      const key = queueKey(mq);
      const entry = table.get(key);
      if (
        !entry ||
        entry.clientId === clientId ||
        nowMs - entry.lastUpdateTimestamp > this.lockLifetimeMs
      ) {
        table.set(key, { clientId, lastUpdateTimestamp: nowMs });
        locked.push(mq);
      }
    }
    return locked;
  }

  /** Releases the queues the client holds (others' locks are left alone). */
  unlockBatch(group: string, queues: readonly MessageQueueRef[], clientId: string): void {
    const table = this.groups.get(group);
    if (!table) return;
    for (const mq of queues) {
      const key = queueKey(mq);
      if (table.get(key)?.clientId === clientId) table.delete(key);
    }
    if (table.size === 0) this.groups.delete(group);
  }

  /** True when `clientId` holds a live lock on the queue. */
  isLockedBy(group: string, mq: MessageQueueRef, clientId: string, nowMs = Date.now()): boolean {
    const entry = this.groups.get(group)?.get(queueKey(mq));
    return (
      entry !== undefined &&
      entry.clientId === clientId &&
      nowMs - entry.lastUpdateTimestamp <= this.lockLifetimeMs
    );
  }
}
