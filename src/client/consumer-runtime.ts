/**
 * The engine shared by PushConsumer and SimpleConsumer: subscriptions, queue rebalancing
 * (`rebalancer.ts`: every 20 s and when the broker reports a membership change), one long-polling
 * pull loop per assigned queue (`pull-loop.ts`) with flow control, offset bookkeeping (committed
 * every 5 s and on shutdown), orderly queue locks, and send-back of failed messages.
 */
import type { ConsumerData } from '../protocol/client-bodies.js';
import { decodeResetOffsetBody } from '../protocol/client-bodies.js';
import { decodeResetOffsetRequestHeader } from '../protocol/headers/consumer.js';
import { RequestCode } from '../protocol/request-code.js';
import type { TopicRouteData } from '../protocol/route-data.js';
import { asError, ClientInstance, type ClientMember } from './client-instance.js';
import { ConsumeService, type MessageHandler } from './consume-service.js';
import type { ConsumerOptions, RuntimeSettings } from './consumer-options.js';
import { MQClientError } from './errors.js';
import type { ReceivedMessage } from './message.js';
import { queueKey, type MessageQueue } from './message-queue.js';
import {
  defaultOffsetDir,
  LocalFileOffsetStore,
  RemoteOffsetStore,
  type OffsetStore,
} from './offset-store.js';
import { ProcessQueue, type CacheTotals, type QueueLimits } from './process-queue.js';
import { ProcessQueueTable } from './process-queue-table.js';
import { pullLoop, sleepOrWake, type PullLoopHost, type PullSettings } from './pull-loop.js';
import { RETRY_TOPIC_PREFIX, retryTopicOf } from './received-message.js';
import { Rebalancer } from './rebalancer.js';
import { SendBackService } from './send-back.js';
import {
  parseSubscription,
  type SubscriptionData,
  type SubscriptionExpression,
} from './subscription.js';

/** Orderly locks are considered stale after this long without renewal (broker keeps 60 s). */
const LOCK_MAX_AGE_MS = 30_000;

/** The consumer engine. Not exported from the package; use PushConsumer or SimpleConsumer. */
export class ConsumerRuntime implements ClientMember, PullLoopHost {
  readonly client: ClientInstance;
  readonly group: string;
  readonly clustering: boolean;
  readonly orderly: boolean;
  /** Orderly clustering: each queue is consumed under a broker lock, renewed periodically. */
  readonly locksQueues: boolean;
  running = false;
  private readonly opts: ConsumerOptions;
  private readonly settings: RuntimeSettings;
  private readonly subscriptions = new Map<string, SubscriptionData>();
  private readonly handlers = new Map<string, MessageHandler>();
  private defaultHandler: MessageHandler | undefined;
  private readonly pqs = new ProcessQueueTable();
  private offsetStore!: OffsetStore;
  private readonly consume: ConsumeService;
  private readonly limits: QueueLimits;
  /** Cached messages and bytes over the assigned queues. */
  private readonly cacheTotals: CacheTotals = { messages: 0, bytes: 0 };
  private readonly pullSettings: PullSettings;
  readonly wake = new Set<() => void>();
  /** Pull loops waiting for the consumer to get back under its total limits. */
  private readonly capacityWaiters = new Set<() => void>();
  private timers: NodeJS.Timeout[] = [];
  private readonly rebalancer: Rebalancer;
  private readonly retries: SendBackService;
  private state: 'created' | 'running' | 'stopped' = 'created';

  constructor(options: ConsumerOptions, settings: RuntimeSettings) {
    if (!options.group || typeof options.group !== 'string') {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        'a consumer needs a group name: { group: "my-group" }',
      );
    }
    this.opts = options;
    this.settings = settings;
    this.group = options.group;
    this.clustering = (options.messageModel ?? 'CLUSTERING') === 'CLUSTERING';
    this.orderly = settings.orderly;
    this.locksQueues = this.orderly && this.clustering;
    this.client = new ClientInstance(options);
    this.limits = {
      maxCachedMessages: options.maxCachedMessagesPerQueue ?? 1000,
      maxCachedBytes: options.maxCachedBytesPerQueue ?? 100 * 1024 * 1024,
      maxOffsetSpan: options.maxOffsetSpan ?? 2000,
    };
    this.pullSettings = {
      suspendMs: options.pullSuspendMs ?? 15_000,
      pullTimeoutMs: options.pullTimeoutMs ?? 30_000,
      errorDelayMs: options.pullErrorDelayMs ?? 3000,
      batchSize: options.pullBatchSize ?? 32,
    };
    this.consume = new ConsumeService(this, {
      maxConcurrency: settings.maxConcurrency,
      maxConcurrencyPerQueue: settings.maxConcurrencyPerQueue,
      suspendAfterFailureMs: settings.suspendAfterFailureMs,
      localRetryDelayMs: 5000,
    });
    this.retries = new SendBackService(this.client, options, (err) => this.reportError(err));
    this.rebalancer = new Rebalancer({
      client: this.client,
      group: this.group,
      clustering: this.clustering,
      locksQueues: this.locksQueues,
      queues: this.pqs,
      allocateStrategy: options.allocateStrategy,
      consumeFrom: options.consumeFrom,
      isRunning: () => this.running,
      offsets: () => this.offsetStore,
      topics: () => this.topics(),
      reportError: (err) => this.reportError(err),
      addrOf: (mq) => this.addrOf(mq),
      adopt: (mq, offset, locked) => this.adopt(mq, offset, locked),
    });
  }

  /** Adds a subscription (before or after start). */
  subscribe(
    topic: string,
    expression: SubscriptionExpression | undefined,
    handler?: MessageHandler,
  ): void {
    if (this.state === 'stopped')
      throw new MQClientError('CLIENT_STATE', 'subscribe(): the consumer was shut down');
    if (!topic || typeof topic !== 'string')
      throw new MQClientError('INVALID_ARGUMENT', 'subscribe() needs a topic');
    this.subscriptions.set(topic, parseSubscription(topic, expression));
    if (handler) this.handlers.set(topic, handler);
    if (this.state === 'running') void this.refreshAndRebalance([topic]);
  }

  /** Sets the handler used for topics subscribed without their own. */
  setDefaultHandler(handler: MessageHandler): void {
    this.defaultHandler = handler;
  }

  /** True when a default handler is installed. */
  get hasDefaultHandler(): boolean {
    return this.defaultHandler !== undefined;
  }

  /** Handler of a topic. */
  handlerFor(topic: string): MessageHandler | undefined {
    return this.handlers.get(topic) ?? this.defaultHandler;
  }

  /** Reports a background error. */
  reportError(err: Error): void {
    this.client.reportError(err);
  }

  /** Subscribed topics, plus `%RETRY%<group>` in clustering mode. */
  topics(): string[] {
    const list = [...this.subscriptions.keys()];
    if (this.clustering && list.length > 0) list.push(retryTopicOf(this.group));
    return list;
  }

  /** Heartbeat data of this consumer. */
  consumerData(): ConsumerData {
    const subs = [...this.subscriptions.values()].map((s) => ({ ...s }));
    if (this.clustering) subs.push(parseSubscription(retryTopicOf(this.group), '*', 0));
    const from = this.opts.consumeFrom ?? 'LAST_OFFSET';
    return {
      groupName: this.group,
      consumeType: this.settings.consumeType,
      messageModel: this.clustering ? 'CLUSTERING' : 'BROADCASTING',
      consumeFromWhere:
        typeof from === 'object' ? 'CONSUME_FROM_TIMESTAMP' : `CONSUME_FROM_${from}`,
      subscriptionDataSet: subs,
      unitMode: false,
    };
  }

  /** A subscribed topic's route changed: rebalance soon. */
  onRouteChanged(_topic: string, _route: TopicRouteData): void {
    if (this.running) void this.rebalance();
  }

  /** Starts the consumer: routes, heartbeat, first rebalance, timers. */
  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'stopped')
      throw new MQClientError('CLIENT_STATE', 'this consumer was shut down; create a new one');
    if (this.subscriptions.size === 0) {
      throw new MQClientError('INVALID_ARGUMENT', 'subscribe to at least one topic before start()');
    }
    for (const topic of this.subscriptions.keys()) {
      if (!this.handlerFor(topic)) {
        throw new MQClientError(
          'INVALID_ARGUMENT',
          `no handler for topic '${topic}': pass one to subscribe() or set a default handler`,
        );
      }
    }
    this.offsetStore = this.clustering
      ? new RemoteOffsetStore(this.group, {
          queryConsumerOffset: (g, mq) =>
            this.client.api.queryConsumerOffset(
              this.addrOf(mq),
              g,
              mq,
              this.client.requestTimeoutMs,
            ),
          updateConsumerOffset: (g, mq, offset) =>
            this.client.api.updateConsumerOffset(
              this.addrOf(mq),
              g,
              mq,
              offset,
              this.client.requestTimeoutMs,
            ),
        })
      : new LocalFileOffsetStore(
          this.opts.offsetStoreDir ?? defaultOffsetDir(),
          this.client.clientId.split('#')[0]!,
          this.group,
        );
    await this.offsetStore.load();
    this.client.onServerRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req) => {
      if (req.extFields.consumerGroup === undefined || req.extFields.consumerGroup === this.group) {
        void this.rebalance();
      }
    });
    this.client.onServerRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, (req) =>
      this.onResetOffset(req.extFields, req.body),
    );
    this.client.register(this);
    this.client.start();
    this.state = 'running';
    this.running = true;
    await this.refreshAndRebalance(this.topics());
    this.timers.push(
      setInterval(() => void this.rebalance(), this.opts.rebalanceIntervalMs ?? 20_000).unref(),
      setInterval(
        () => void this.persistOffsets(),
        this.opts.persistOffsetIntervalMs ?? 5000,
      ).unref(),
    );
    if (this.locksQueues) {
      this.timers.push(
        setInterval(() => void this.lockAll(), this.settings.lockIntervalMs).unref(),
      );
    }
  }

  private async refreshAndRebalance(topics: string[]): Promise<void> {
    await Promise.all(
      topics.map((t) =>
        this.client.updateRoute(t).then(
          (route) => {
            if (!route && !t.startsWith(RETRY_TOPIC_PREFIX)) {
              this.reportError(
                new MQClientError(
                  'NO_ROUTE',
                  `topic '${t}' has no route yet; the consumer will pick it up once it exists`,
                ),
              );
            }
          },
          (err) => this.reportError(asError(err)),
        ),
      ),
    );
    await this.client.heartbeatAll();
    await this.rebalance();
  }

  /**
   * Stops pulling, waits up to `drainTimeoutMs` for running handlers, commits offsets, releases
   * orderly locks, unregisters and closes connections.
   */
  async shutdown(drainTimeoutMs: number, beforeDrain?: () => void): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const w of [...this.wake]) w();
    beforeDrain?.();
    await this.consume.drain(drainTimeoutMs);
    const mqs = [...this.pqs.values()].map((pq) => pq.mq);
    await this.offsetStore.persistAll(mqs).catch((err) => this.reportError(asError(err)));
    if (this.locksQueues) await this.rebalancer.unlock(mqs);
    for (const pq of this.pqs.values()) {
      pq.dropped = true;
      pq.detachTotals();
    }
    this.pqs.clear();
    this.client.unregister(this);
    await this.client.unregisterGroup({ consumerGroup: this.group });
    await this.retries.shutdown();
    this.client.close();
  }

  /** Queues currently assigned to this consumer. */
  assignedQueues(): MessageQueue[] {
    return [...this.pqs.values()].map((pq) => pq.mq);
  }

  /** Messages and bytes pulled but not yet consumed, over every assigned queue. */
  cacheStats(): { cachedMessages: number; cachedBytes: number } {
    return { cachedMessages: this.cacheTotals.messages, cachedBytes: this.cacheTotals.bytes };
  }

  /** Commits offsets of every assigned queue now. */
  async persistOffsets(): Promise<void> {
    if (!this.offsetStore) return;
    await this.offsetStore
      .persistAll(this.assignedQueues())
      .catch((err) => this.reportError(asError(err)));
  }

  /** Called by the consume service with the new commit offset of `pq`. */
  commit(pq: ProcessQueue, offset: number): void {
    if (offset >= 0 && !pq.dropped) this.offsetStore.update(pq.mq, offset, true);
    if (this.capacityWaiters.size > 0 && !this.overTotalLimits()) {
      for (const w of [...this.capacityWaiters]) w();
    }
  }

  /** True when `pq`'s orderly lock is held and fresh. */
  lockValid(pq: ProcessQueue): boolean {
    return pq.locked && Date.now() - pq.lastLockMs < LOCK_MAX_AGE_MS;
  }

  private addrOf(mq: MessageQueue, masterOnly = true): string {
    const addr = this.client.brokerAddr(mq.brokerName, masterOnly);
    if (!addr)
      throw new MQClientError('NO_ROUTE', `no address known for broker '${mq.brokerName}'`);
    return addr;
  }

  /** Rebalances every topic; concurrent calls coalesce. */
  rebalance(): Promise<void> {
    return this.rebalancer.rebalance();
  }

  /** Starts consuming a queue the rebalancer assigned: a process queue and its pull loop. */
  private adopt(mq: MessageQueue, offset: number, locked: boolean): void {
    const pq = new ProcessQueue(mq, this.cacheTotals);
    pq.nextPullOffset = offset;
    pq.advanceEmpty(offset);
    if (locked) {
      pq.locked = true;
      pq.lastLockMs = Date.now();
    }
    this.pqs.add(pq);
    void pullLoop(this, pq, this.pullSettings);
  }

  /** True while the consumer holds too many pulled, unconsumed messages in all. */
  overTotalLimits(): boolean {
    return (
      this.cacheTotals.messages > (this.opts.maxCachedMessagesTotal ?? 10_000) ||
      this.cacheTotals.bytes > (this.opts.maxCachedBytesTotal ?? 256 * 1024 * 1024)
    );
  }

  /** See {@link PullLoopHost.underTotalLimits}; {@link commit} checks after every completion. */
  underTotalLimits(maxWaitMs: number): Promise<void> {
    return sleepOrWake(maxWaitMs, this.wake, this.capacityWaiters);
  }

  /** True when `pq`'s per-queue flow-control limits are reached. */
  overQueueLimits(pq: ProcessQueue): boolean {
    return pq.overLimits(this.limits, this.orderly);
  }

  /** The subscription of a topic, if there is one. */
  subscriptionOf(topic: string): SubscriptionData | undefined {
    return this.subscriptions.get(topic);
  }

  /** The offset to report as consumed with the next pull. */
  commitOffsetOf(mq: MessageQueue): Promise<number> {
    return this.offsetStore.read(mq, 'memory');
  }

  /** Messages were added to `pq`, or it advanced: let the handlers run. */
  pulled(pq: ProcessQueue): void {
    this.consume.notify(pq);
  }

  /** Empties `pq` and moves it to `offset` (the stored offset follows, not yet committed). */
  resetQueue(pq: ProcessQueue, offset: number): void {
    pq.clear();
    pq.epoch++;
    pq.nextPullOffset = offset;
    pq.advanceEmpty(offset);
    this.offsetStore.update(pq.mq, offset, false);
  }

  private onResetOffset(ext: Record<string, string>, body: Buffer | undefined): void {
    try {
      const header = decodeResetOffsetRequestHeader(ext);
      if (header.group !== this.group) return;
      for (const { queue, offset } of decodeResetOffsetBody(body).offsetTable) {
        const pq = this.pqs.get(queueKey(queue));
        if (pq) this.resetQueue(pq, offset);
        else this.offsetStore.update(queue, offset, false);
      }
      void this.persistOffsets();
    } catch (err) {
      this.reportError(asError(err));
    }
  }

  /** Renews the broker locks of every assigned queue (orderly clustering). */
  async lockAll(): Promise<void> {
    const pqs = [...this.pqs.values()];
    const locked = new Set((await this.rebalancer.lockQueues(pqs.map((p) => p.mq))).map(queueKey));
    const now = Date.now();
    for (const pq of pqs) {
      if (locked.has(queueKey(pq.mq))) {
        pq.locked = true;
        pq.lastLockMs = now;
        this.consume.notify(pq);
      } else {
        pq.locked = false;
      }
    }
  }

  /**
   * Send-back of a failed message: CONSUMER_SEND_MSG_BACK to its broker; if that fails, a copy
   * is re-sent to `%RETRY%<group>`. Resolves false when both failed.
   */
  sendBack(msg: ReceivedMessage): Promise<boolean> {
    return this.retries.sendBack(msg);
  }

  /** Handlers currently running. */
  get inFlight(): number {
    return this.consume.running;
  }
}
