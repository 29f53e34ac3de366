/**
 * `SimpleConsumer`: the application asks for messages (`receive`) and acknowledges each one
 * (`ack`), over ordinary pulls and committed offsets. An unacknowledged message holds back its
 * queue's committed offset, so it is redelivered after a restart; `nack` asks for redelivery
 * now (through the retry topic).
 */
import { ReleasedError } from './consume-service.js';
import type { ConsumerOptions } from './consumer-options.js';
import { ConsumerRuntime } from './consumer-runtime.js';
import { MQClientError } from './errors.js';
import type { ReceivedMessage } from './message.js';
import type { SubscriptionExpression } from './subscription.js';

/** Options of {@link SimpleConsumer}. */
export type SimpleConsumerOptions = ConsumerOptions;

interface Outstanding {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A receive/ack consumer. */
export class SimpleConsumer {
  private readonly runtime: ConsumerRuntime;
  private readonly buffer: ReceivedMessage[] = [];
  private readonly outstanding = new Map<ReceivedMessage, Outstanding>();
  private waiters: (() => void)[] = [];

  constructor(options: SimpleConsumerOptions) {
    const capacity = options.maxCachedMessagesTotal ?? 10_000;
    this.runtime = new ConsumerRuntime(options, {
      orderly: false,
      consumeType: 'CONSUME_ACTIVELY',
      maxConcurrency: capacity,
      maxConcurrencyPerQueue: capacity,
      suspendAfterFailureMs: 1000,
      lockIntervalMs: 20_000,
    });
    this.runtime.setDefaultHandler(
      (msg) =>
        new Promise<void>((resolve, reject) => {
          this.outstanding.set(msg, { resolve, reject });
          this.buffer.push(msg);
          const waiters = this.waiters;
          this.waiters = [];
          for (const w of waiters) w();
        }),
    );
  }

  /** Subscribes to `topic` (`'*'`, `'A || B'` or a SQL92 expression). */
  subscribe(topic: string, expression: SubscriptionExpression = '*'): this {
    this.runtime.subscribe(topic, expression);
    return this;
  }

  /** Starts pulling in the background. */
  async start(): Promise<void> {
    await this.runtime.start();
  }

  /**
   * Returns up to `maxMessages` messages, waiting up to `waitMs` for the first one; an empty
   * array when none arrived in time.
   */
  async receive(maxMessages = 32, waitMs = 10_000): Promise<ReceivedMessage[]> {
    if (!this.runtime.running)
      throw new MQClientError('CLIENT_STATE', 'receive(): start the consumer first');
    if (this.buffer.length === 0 && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== wake);
          resolve();
        }, waitMs);
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        this.waiters.push(wake);
      });
    }
    return this.buffer.splice(0, Math.max(1, maxMessages));
  }

  /** Acknowledges a received message: it will not be delivered again. */
  ack(msg: ReceivedMessage): void {
    const o = this.take(msg, 'ack');
    o.resolve();
  }

  /** Asks for redelivery of a received message later (via the group's retry topic). */
  nack(msg: ReceivedMessage): void {
    const o = this.take(msg, 'nack');
    o.reject(new Error('negative acknowledgement'));
  }

  private take(msg: ReceivedMessage, what: string): Outstanding {
    const o = this.outstanding.get(msg);
    if (!o) {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        `${what}(): the message is not outstanding (already acknowledged, or not from this consumer)`,
      );
    }
    this.outstanding.delete(msg);
    return o;
  }

  /** Commits offsets, releases unacknowledged messages (redelivered later) and disconnects. */
  async shutdown(): Promise<void> {
    await this.runtime.shutdown(5000, () => {
      for (const o of this.outstanding.values()) o.reject(new ReleasedError());
      this.outstanding.clear();
      this.buffer.length = 0;
      for (const w of this.waiters) w();
      this.waiters = [];
    });
  }
}
