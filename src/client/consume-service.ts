/**
 * Hands cached messages to the user's handler: concurrently (bounded per queue and overall) or
 * orderly (one message at a time per queue, only while the queue's broker lock is held,
 * suspending the queue after a failure). Failed concurrent messages are sent back to the broker
 * for later redelivery.
 */
import type { ProcessQueue } from './process-queue.js';
import type { ReceivedMessage } from './message.js';

/** A message handler: resolve = consumed, throw/reject = redeliver later. */
export type MessageHandler = (msg: ReceivedMessage) => unknown;

/** Thrown (or rejected) by internal handlers to release a message without consuming it. */
export class ReleasedError extends Error {
  constructor() {
    super('message released without consumption');
    this.name = 'ReleasedError';
  }
}

/** What the service needs from its consumer. */
export interface ConsumeHost {
  /** True while the consumer accepts new work. */
  readonly running: boolean;
  /** Orderly consumption. */
  readonly orderly: boolean;
  /** Clustering (true) or broadcasting (false). */
  readonly clustering: boolean;
  /** Handler for a message's (restored) topic. */
  handlerFor(topic: string): MessageHandler | undefined;
  /** Called with the new commit offset after a message is done. */
  commit(pq: ProcessQueue, offset: number): void;
  /**
   * Arranges redelivery of a failed message (send-back). Resolves true when the broker (or
   * the retry topic) took it, false when it must be retried locally.
   */
  sendBack(msg: ReceivedMessage): Promise<boolean>;
  /** True when the queue's orderly lock is held and fresh. */
  lockValid(pq: ProcessQueue): boolean;
  /** Reports a handler failure. */
  reportError(err: Error): void;
}

/** Limits of the consume service. */
export interface ConsumeLimits {
  /** Handlers running at once, overall. */
  maxConcurrency: number;
  /** Handlers running at once for one queue (concurrent mode). */
  maxConcurrencyPerQueue: number;
  /** Orderly: how long a queue pauses after a failed message. */
  suspendAfterFailureMs: number;
  /** Concurrent: delay before a message whose send-back failed is retried locally. */
  localRetryDelayMs: number;
}

/** Dispatches cached messages to handlers. */
export class ConsumeService {
  private inFlight = 0;
  private readonly ready = new Set<ProcessQueue>();
  private pumping = false;
  private idleWaiters: (() => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly host: ConsumeHost,
    private readonly limits: ConsumeLimits,
  ) {}

  /** Handlers currently running. */
  get running(): number {
    return this.inFlight;
  }

  /** Signals that `pq` may have work (new messages, lock acquired, suspension over). */
  notify(pq: ProcessQueue): void {
    if (pq.pendingCount > 0 && !pq.dropped) this.ready.add(pq);
    this.pump();
  }

  /** Resolves once no handler is running, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private canStart(pq: ProcessQueue): boolean {
    if (!this.host.orderly) return pq.inFlight < this.limits.maxConcurrencyPerQueue;
    if (pq.inFlight > 0) return false;
    if (this.host.clustering && !this.host.lockValid(pq)) return false;
    const wait = pq.suspendedUntilMs - Date.now();
    if (wait > 0) {
      this.later(pq, wait);
      return false;
    }
    return true;
  }

  private later(pq: ProcessQueue, delayMs: number, msg?: ReceivedMessage): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (msg) pq.putBackFront(msg);
      this.notify(pq);
    }, delayMs);
    this.timers.add(timer);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let progressed = true;
      while (progressed && this.host.running && this.ready.size > 0) {
        progressed = false;
        for (const pq of this.ready) {
          if (this.inFlight >= this.limits.maxConcurrency) return;
          this.ready.delete(pq);
          if (pq.dropped || !this.canStart(pq)) continue;
          const msg = pq.takeNext();
          if (!msg) continue;
          void this.run(pq, msg);
          if (pq.pendingCount > 0) this.ready.add(pq);
          progressed = true;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async run(pq: ProcessQueue, msg: ReceivedMessage): Promise<void> {
    this.inFlight++;
    pq.inFlight++;
    let failure: unknown;
    let ok = false;
    try {
      const handler = this.host.handlerFor(msg.topic);
      if (!handler) throw new Error(`no handler for topic '${msg.topic}'`);
      await handler(msg);
      ok = true;
    } catch (err) {
      failure = err;
    }
    try {
      if (failure instanceof ReleasedError) {
        // Left in the cache uncommitted: redelivered after a restart or rebalance.
      } else if (ok) {
        this.host.commit(pq, pq.complete(msg));
      } else if (this.host.orderly) {
        this.host.reportError(handlerError(msg, failure, 'the queue pauses and retries it'));
        pq.putBackFront(msg);
        pq.suspendedUntilMs = Date.now() + this.limits.suspendAfterFailureMs;
      } else if (!this.host.clustering) {
        this.host.reportError(handlerError(msg, failure, 'broadcasting mode drops it'));
        this.host.commit(pq, pq.complete(msg));
      } else {
        this.host.reportError(handlerError(msg, failure, 'it is sent back for redelivery'));
        if (await this.host.sendBack(msg)) this.host.commit(pq, pq.complete(msg));
        else this.later(pq, this.limits.localRetryDelayMs, msg);
      }
    } finally {
      this.inFlight--;
      pq.inFlight--;
      pq.lastConsumeMs = Date.now();
      if (this.inFlight === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
      this.notify(pq);
    }
  }
}

function handlerError(msg: ReceivedMessage, cause: unknown, what: string): Error {
  const text = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `handler failed for message ${msg.msgId} (${msg.topic}, queue ${msg.queue.brokerName}:${msg.queue.queueId}, offset ${msg.queueOffset}); ${what}: ${text}`,
    { cause },
  );
}
