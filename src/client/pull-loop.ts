/**
 * One assigned queue's pull loop: long-polling PULL_MESSAGE requests, one at a time, with flow
 * control (per queue and for the whole consumer), orderly lock checks, tag filtering of what
 * arrives, and the reset of a queue whose offset the broker reports out of range. The consumer
 * runtime starts one loop per queue it is assigned and ends it by dropping the queue or by
 * stopping.
 */
import { PullSysFlag } from '../protocol/headers/pull-message.js';
import { asError, type ClientInstance } from './client-instance.js';
import type { MessageQueue } from './message-queue.js';
import type { ProcessQueue } from './process-queue.js';
import { decodeMessages } from './received-message.js';
import { parseSubscription, tagMatches, type SubscriptionData } from './subscription.js';

/** Waits while a queue's own cache is over its limits (flow control). */
const FLOW_CONTROL_DELAY_MS = 50;
/**
 * Longest wait while the whole consumer is over its limits: the wait normally ends at the
 * completion that brings the consumer back under them.
 */
const TOTAL_FLOW_CONTROL_MAX_WAIT_MS = 1000;
/** Waits for an orderly queue's lock before pulling again. */
const LOCK_WAIT_DELAY_MS = 500;

/** Timings and batch size of the pull requests. */
export interface PullSettings {
  /** How long the broker may hold a pull that finds nothing (long polling). */
  suspendMs: number;
  /** Request timeout of one pull (longer than `suspendMs`). */
  pullTimeoutMs: number;
  /** Pause after a failed pull or a missing route. */
  errorDelayMs: number;
  /** Messages asked for per pull. */
  batchSize: number;
}

/** What a queue's pull loop needs from its consumer. */
export interface PullLoopHost {
  readonly client: ClientInstance;
  readonly group: string;
  readonly clustering: boolean;
  /** Orderly clustering: each queue is consumed under a broker lock. */
  readonly locksQueues: boolean;
  /** False once the consumer stops: every loop ends. */
  readonly running: boolean;
  /** Wakes of the loops' pauses, called all at once when the consumer stops. */
  readonly wake: Set<() => void>;
  /** The subscription of a topic, if there is one. */
  subscriptionOf(topic: string): SubscriptionData | undefined;
  /** True while the consumer holds too many pulled, unconsumed messages in all. */
  overTotalLimits(): boolean;
  /**
   * Resolves once a completed message brings the consumer back under its limits, when it stops,
   * or after `maxWaitMs`.
   */
  underTotalLimits(maxWaitMs: number): Promise<void>;
  /** True when `pq`'s per-queue flow-control limits are reached. */
  overQueueLimits(pq: ProcessQueue): boolean;
  /** True when `pq`'s orderly lock is held and fresh. */
  lockValid(pq: ProcessQueue): boolean;
  /** The offset to report as consumed with the next pull (clustering), or -1. */
  commitOffsetOf(mq: MessageQueue): Promise<number>;
  /** Stores the commit offset of `pq`. */
  commit(pq: ProcessQueue, offset: number): void;
  /** Empties `pq` and moves it to `offset`. */
  resetQueue(pq: ProcessQueue, offset: number): void;
  /** Messages were added to `pq`, or it advanced: let the handlers run. */
  pulled(pq: ProcessQueue): void;
  reportError(err: Error): void;
}

/**
 * Sleeps `ms`, or less when any of the `wakes` sets is called out (e.g. the consumer stops);
 * the sleeper leaves every set when it ends.
 */
export function sleepOrWake(ms: number, ...wakes: Set<() => void>[]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const wake of wakes) wake.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const wake of wakes) wake.add(done);
  });
}

/** Pulls `pq`'s queue until the queue is dropped or the consumer stops. */
export async function pullLoop(
  host: PullLoopHost,
  pq: ProcessQueue,
  settings: PullSettings,
): Promise<void> {
  const mq = pq.mq;
  const sub = host.subscriptionOf(mq.topic) ?? parseSubscription(mq.topic, '*', 0);
  const client = host.client;
  while (host.running && !pq.dropped) {
    if (host.overQueueLimits(pq)) {
      await sleepOrWake(FLOW_CONTROL_DELAY_MS, host.wake);
      continue;
    }
    if (host.overTotalLimits()) {
      // Thousands of queues polling every 50 ms here cost the handlers' CPU while they are the
      // bottleneck; the completion that frees room wakes them instead.
      await host.underTotalLimits(TOTAL_FLOW_CONTROL_MAX_WAIT_MS);
      continue;
    }
    if (host.locksQueues && !host.lockValid(pq)) {
      await sleepOrWake(LOCK_WAIT_DELAY_MS, host.wake);
      continue;
    }
    const addr = client.brokerAddr(mq.brokerName, false);
    if (!addr) {
      await client.updateRoute(mq.topic).catch(() => undefined);
      await sleepOrWake(settings.errorDelayMs, host.wake);
      continue;
    }
    const commitOffset = host.clustering ? await host.commitOffsetOf(mq) : -1;
    const epoch = pq.epoch;
    try {
      const r = await client.api.pullMessage(
        addr,
        {
          consumerGroup: host.group,
          topic: mq.topic,
          queueId: mq.queueId,
          queueOffset: pq.nextPullOffset,
          maxMsgNums: settings.batchSize,
          sysFlag:
            PullSysFlag.SUSPEND |
            PullSysFlag.SUBSCRIPTION |
            (commitOffset > 0 ? PullSysFlag.COMMIT_OFFSET : 0),
          commitOffset: Math.max(0, commitOffset),
          suspendTimeoutMillis: settings.suspendMs,
          subscription: sub.subString,
          subVersion: sub.subVersion,
          expressionType: sub.expressionType === 'SQL92' ? 'SQL92' : undefined,
        },
        settings.pullTimeoutMs,
      );
      if (pq.dropped || epoch !== pq.epoch) continue;
      pq.lastPullMs = Date.now();
      if (r.status === 'OFFSET_ILLEGAL') {
        host.reportError(
          new Error(
            `offset ${pq.nextPullOffset} of ${mq.topic}:${mq.brokerName}:${mq.queueId} is out of range; moving to ${r.nextBeginOffset}`,
          ),
        );
        host.resetQueue(pq, r.nextBeginOffset);
        continue;
      }
      if (r.status === 'FOUND') {
        const msgs = decodeMessages(r.body, mq, mq.brokerName).filter((m) =>
          tagMatches(sub, m.tags),
        );
        pq.put(msgs);
      }
      pq.advanceEmpty(r.nextBeginOffset);
      pq.nextPullOffset = r.nextBeginOffset;
      if (pq.cachedCount === 0) host.commit(pq, pq.commitOffset());
      host.pulled(pq);
    } catch (err) {
      if (!host.running || pq.dropped) break;
      host.reportError(asError(err));
      await sleepOrWake(settings.errorDelayMs, host.wake);
    }
  }
}
