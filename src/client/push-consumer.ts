/**
 * `PushConsumer`: subscribe to topics and get messages pushed to an async handler (or read them
 * with `for await (const msg of consumer.messages())`). Clustering (queues split among the
 * group, offsets on the broker) or broadcasting (every consumer gets everything, offsets in a
 * local file); concurrent or orderly consumption. A handler that throws gets the message again
 * later (CONSUMER_SEND_MSG_BACK; orderly: the queue pauses and retries).
 */
import { ReleasedError, type MessageHandler } from './consume-service.js';
import type { ConsumerOptions } from './consumer-options.js';
import { ConsumerRuntime } from './consumer-runtime.js';
import { MQClientError } from './errors.js';
import type { ReceivedMessage } from './message.js';
import type { MessageQueue } from './message-queue.js';
import type { SubscriptionExpression } from './subscription.js';

/** Options of {@link PushConsumer}. */
export interface PushConsumerOptions extends ConsumerOptions {
  /** One message at a time per queue, in queue order, holding broker queue locks. Default false. */
  orderly?: boolean;
  /** Handlers running at once, overall. Default 20. */
  consumeConcurrency?: number;
  /** Concurrent mode: handlers running at once for one queue. Default = consumeConcurrency. */
  consumeConcurrencyPerQueue?: number;
  /** Handler for topics subscribed without their own. */
  handler?: MessageHandler;
  /** Orderly: pause of a queue after its handler failed. Default 1000 ms. */
  suspendAfterFailureMs?: number;
  /** Orderly: lock renewal period. Default 20 000 ms. */
  lockIntervalMs?: number;
  /** How long `shutdown()` waits for running handlers. Default 30 000 ms. */
  shutdownTimeoutMs?: number;
}

interface Waiting {
  msg: ReceivedMessage;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A push consumer. */
export class PushConsumer {
  private readonly runtime: ConsumerRuntime;
  private readonly shutdownTimeoutMs: number;
  private iteratorActive = false;
  private readonly parked = new Set<Waiting>();

  constructor(options: PushConsumerOptions) {
    const concurrency = Math.max(1, options.consumeConcurrency ?? 20);
    this.runtime = new ConsumerRuntime(options, {
      orderly: options.orderly ?? false,
      consumeType: 'CONSUME_PASSIVELY',
      maxConcurrency: concurrency,
      maxConcurrencyPerQueue: Math.max(1, options.consumeConcurrencyPerQueue ?? concurrency),
      suspendAfterFailureMs: options.suspendAfterFailureMs ?? 1000,
      lockIntervalMs: options.lockIntervalMs ?? 20_000,
    });
    if (options.handler) this.runtime.setDefaultHandler(options.handler);
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
  }

  /** Consumer group. */
  get group(): string {
    return this.runtime.group;
  }

  /** This consumer's client id (as the broker sees it). */
  get clientId(): string {
    return this.runtime.client.clientId;
  }

  /**
   * Subscribes to `topic`.
   * @param expression `'*'` (default), `'TagA || TagB'`, or `{type: 'SQL92', expression}`.
   * @param handler handler for this topic (else the consumer's default handler).
   */
  subscribe(
    topic: string,
    expression: SubscriptionExpression = '*',
    handler?: MessageHandler,
  ): this {
    this.runtime.subscribe(topic, expression, handler);
    return this;
  }

  /** Starts pulling and consuming. Subscribe (with handlers, or use `messages()`) first. */
  async start(): Promise<void> {
    await this.runtime.start();
  }

  /**
   * Async iterator over messages of every topic without its own handler. A message counts as
   * consumed when the loop asks for the next one. Call before `start()`. After leaving the
   * loop, call `shutdown()`; messages received but not yet yielded are redelivered later.
   */
  messages(): AsyncIterableIterator<ReceivedMessage> {
    if (this.iteratorActive || this.runtime.hasDefaultHandler) {
      throw new MQClientError(
        'CLIENT_STATE',
        'messages() can be used once, and not together with a default handler',
      );
    }
    this.iteratorActive = true;
    const queue: Waiting[] = [];
    let wakeReader: (() => void) | undefined;
    let current: Waiting | undefined;
    let done = false;
    this.runtime.setDefaultHandler(
      (msg) =>
        new Promise<void>((resolve, reject) => {
          if (done) {
            reject(new ReleasedError());
            return;
          }
          const w: Waiting = { msg, resolve, reject };
          this.parked.add(w);
          queue.push(w);
          wakeReader?.();
        }),
    );
    const finishCurrent = (): void => {
      if (current) {
        this.parked.delete(current);
        current.resolve();
        current = undefined;
      }
    };
    const iterator: AsyncIterableIterator<ReceivedMessage> = {
      next: async () => {
        finishCurrent();
        while (queue.length === 0) {
          if (done || !this.runtime.running) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (wakeReader = resolve));
          wakeReader = undefined;
        }
        current = queue.shift()!;
        return { done: false, value: current.msg };
      },
      return: async () => {
        finishCurrent();
        done = true;
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    this.stopIterator = () => {
      done = true;
      wakeReader?.();
    };
    return iterator;
  }

  private stopIterator: (() => void) | undefined;

  /** Queues currently assigned to this consumer. */
  assignedQueues(): MessageQueue[] {
    return this.runtime.assignedQueues();
  }

  /**
   * What the consumer holds right now: messages (and their stored bytes) pulled but not yet
   * consumed, and handlers running. Pulling pauses while the cache is over its limits.
   */
  stats(): { cachedMessages: number; cachedBytes: number; inFlight: number } {
    return { ...this.runtime.cacheStats(), inFlight: this.runtime.inFlight };
  }

  /** Rebalances now (normally every 20 s and on membership changes). */
  async rebalance(): Promise<void> {
    await this.runtime.rebalance();
  }

  /** Commits consumed offsets now (normally every 5 s and on shutdown). */
  async commitOffsets(): Promise<void> {
    await this.runtime.persistOffsets();
  }

  /**
   * Stops pulling, waits for running handlers (up to `shutdownTimeoutMs`), commits offsets,
   * releases locks and closes connections. Messages cached but not handled are redelivered
   * after a restart.
   */
  async shutdown(): Promise<void> {
    await this.runtime.shutdown(this.shutdownTimeoutMs, () => {
      this.stopIterator?.();
      for (const w of this.parked) w.reject(new ReleasedError());
      this.parked.clear();
    });
  }
}
