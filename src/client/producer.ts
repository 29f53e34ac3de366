/**
 * `Producer`: sends messages to RocketMQ-compatible brokers. Routes come from the name servers
 * (refreshed every 30 s and after failures); queues are chosen round-robin, avoiding a broker
 * that just failed; a sync send is retried on another broker (2 retries by default) within the
 * per-call timeout.
 */
import {
  BATCH_ITEM_OVERHEAD_BYTES,
  encodeBatchBody,
  type BatchItem,
} from '../protocol/batch-codec.js';
import { UniqueIdGenerator } from '../protocol/message-id.js';
import type { SendMessageRequestHeader } from '../protocol/headers/send-message.js';
import { Perm } from '../protocol/headers/topic.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { TopicRouteData } from '../protocol/route-data.js';
import { ClientInstance, type ClientMember, type ClientOptions } from './client-instance.js';
import type { ClientApi, SendStatus } from './client-api.js';
import { MQClientError } from './errors.js';
import { LatencyFaultTolerance } from './latency-fault.js';
import type { Message } from './message.js';
import { messageQueue, type MessageQueue } from './message-queue.js';
import { encodeMessage, type EncodedMessage, type OutgoingLimits } from './outgoing.js';
import { TopicPublishInfo } from './queue-selector.js';
import { publishQueues } from './topic-route.js';

/** Options of {@link Producer}. */
export interface ProducerOptions extends ClientOptions {
  /** Producer group. Default `"DEFAULT_PRODUCER"`. */
  group?: string;
  /** Default timeout of one send call, retries included. Default 3000 ms. */
  sendTimeoutMs?: number;
  /** Extra attempts on another broker when a sync send fails. Default 2. */
  retryTimesWhenSendFailed?: number;
  /** Bodies larger than this are zlib-compressed. Default 4096 bytes. */
  compressBodyOverBytes?: number;
  /** Largest body accepted. Default 4 MiB. */
  maxMessageSizeBytes?: number;
  /** How long a broker that failed a send is avoided. Default 30 000 ms. */
  failureIsolationMs?: number;
}

/** Per-call options of `send`. */
export interface SendOptions {
  /** Timeout of this call, retries included. */
  timeoutMs?: number;
}

/** What a successful send returns. */
export interface SendResult {
  /** Client-side unique id (`UNIQ_KEY`); comma-joined for batches. */
  msgId: string;
  /** Broker-side id(s): store host + commit-log offset; comma-joined for batches. */
  offsetMsgId: string;
  /** The queue the message went to. */
  queue: MessageQueue;
  /** Queue offset of the (first) message. */
  queueOffset: number;
  /** Store status: `SEND_OK` or a flush/replication timeout (the message is stored anyway). */
  status: SendStatus;
}

/** Result of {@link Producer.sendBatch}. */
export interface BatchSendResult extends SendResult {
  /** Unique id of every message, in order. */
  msgIds: string[];
}

/** Response codes after which a send is retried on another broker. */
const RETRY_CODES: ReadonlySet<number> = new Set([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SYSTEM_BUSY,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
]);

const DEFAULT_TOPIC = 'TBW102';
/** Queues a topic gets when the broker creates it on a producer's first send (RocketMQ clients: 4). */
const DEFAULT_TOPIC_QUEUE_NUMS = 4;

/** True when a failed send may be retried on another broker. */
function retriable(err: unknown): boolean {
  if (!(err instanceof MQClientError)) return false;
  if (err.code === 'TIMEOUT' || err.code === 'CONNECTION_CLOSED') return true;
  return (
    err.code === 'BROKER_ERROR' &&
    err.responseCode !== undefined &&
    RETRY_CODES.has(err.responseCode)
  );
}

/** One message or batch ready to go to any queue. */
interface Outgoing {
  topic: string;
  body: Buffer;
  sysFlag: number;
  flag: number;
  properties: string | undefined;
  batch: boolean;
  shardingKey: string | undefined;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
}

/** Sends messages. Call {@link start} first and {@link shutdown} at the end. */
export class Producer implements ClientMember {
  /** Producer group. */
  readonly producerGroup: string;
  /** The shared client machinery (routes, connections). */
  readonly client: ClientInstance;
  private readonly limits: OutgoingLimits;
  private readonly sendTimeoutMs: number;
  private readonly retries: number;
  private readonly fault: LatencyFaultTolerance;
  private readonly ids = new UniqueIdGenerator();
  private readonly publishInfo = new Map<string, TopicPublishInfo>();
  private state: 'created' | 'running' | 'stopped' = 'created';

  constructor(options: ProducerOptions) {
    this.client = new ClientInstance(options);
    this.producerGroup = options.group ?? 'DEFAULT_PRODUCER';
    this.sendTimeoutMs = options.sendTimeoutMs ?? 3000;
    this.retries = options.retryTimesWhenSendFailed ?? 2;
    this.limits = {
      maxBodyBytes: options.maxMessageSizeBytes ?? 4 * 1024 * 1024,
      compressOverBytes: options.compressBodyOverBytes ?? 4096,
    };
    this.fault = new LatencyFaultTolerance({ failureIsolationMs: options.failureIsolationMs });
  }

  /** Starts route refresh and heartbeats. */
  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'stopped') {
      throw new MQClientError('CLIENT_STATE', 'this producer was shut down; create a new one');
    }
    this.client.register(this);
    this.client.start();
    this.state = 'running';
  }

  /** Stops timers, unregisters from brokers and closes connections. */
  async shutdown(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    this.client.unregister(this);
    await this.client.unregisterGroup({ producerGroup: this.producerGroup });
    this.client.close();
  }

  /** Topics with a cached route (refreshed by the client every 30 s). */
  topics(): Iterable<string> {
    return this.publishInfo.keys();
  }

  /** Rebuilds the queue list of a topic whose route changed. */
  onRouteChanged(topic: string, route: TopicRouteData): void {
    if (this.publishInfo.has(topic)) {
      this.publishInfo.set(topic, new TopicPublishInfo(publishQueues(topic, route)));
    }
  }

  /**
   * Sends one message and waits until the broker stored it.
   * @throws MQClientError `NO_ROUTE` (unknown topic), `BROKER_ERROR` (with the broker's
   *   response code and remark), `TIMEOUT`, or a validation code.
   */
  send(msg: Message, options: SendOptions = {}): Promise<SendResult> {
    // A plain promise chain (no async frame): this runs once per message.
    try {
      this.assertRunning('send');
      const encoded = encodeMessage(msg, this.ids.next(), this.limits);
      return this.sendWithRetries(
        this.outgoing(encoded, msg.shardingKey),
        options.timeoutMs,
        encoded.uniqKey,
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sends one message without waiting for the broker (fire and forget): resolves once the
   * request was written. No retries; delivery is not confirmed.
   */
  async sendOneway(msg: Message): Promise<void> {
    this.assertRunning('sendOneway');
    const encoded = encodeMessage(msg, this.ids.next(), this.limits);
    const info = await this.publishInfoOf(encoded.topic);
    const mq = msg.shardingKey
      ? info.selectByKey(msg.shardingKey)
      : info.select(undefined, this.fault);
    const addr = this.brokerAddrOrThrow(mq);
    await this.client.api.sendMessageOneway(
      addr,
      this.header(this.outgoing(encoded, msg.shardingKey), mq),
      encoded.body,
    );
  }

  /**
   * Sends several messages of one topic in one SEND_BATCH_MESSAGE request: they go to the
   * same queue, in order, and are stored together. No delay levels; bodies are not compressed.
   */
  async sendBatch(msgs: readonly Message[], options: SendOptions = {}): Promise<BatchSendResult> {
    this.assertRunning('sendBatch');
    if (!Array.isArray(msgs) || msgs.length === 0) {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        'sendBatch() needs a non-empty array of messages',
      );
    }
    const topic = msgs[0]!.topic;
    const shardingKey = msgs[0]!.shardingKey;
    const items: EncodedMessage[] = [];
    const batchItems: BatchItem[] = [];
    let totalBytes = 0;
    for (const m of msgs) {
      if (m.topic !== topic) {
        throw new MQClientError(
          'INVALID_ARGUMENT',
          `all messages of a batch must have the same topic ('${topic}' vs '${m.topic}')`,
        );
      }
      if (m.delayLevel || m.deliverTimeMs !== undefined) {
        throw new MQClientError(
          'INVALID_ARGUMENT',
          'batch messages cannot be delayed; send delayed messages one by one',
        );
      }
      if (m.shardingKey !== shardingKey) {
        throw new MQClientError(
          'INVALID_ARGUMENT',
          'all messages of a batch must have the same shardingKey (or none)',
        );
      }
      const e = encodeMessage(m, this.ids.next(), this.limits, false);
      const properties = Buffer.from(e.properties, 'utf8');
      totalBytes += e.body.length + properties.length + BATCH_ITEM_OVERHEAD_BYTES;
      items.push(e);
      batchItems.push({ flag: e.flag, body: e.body, properties });
    }
    if (totalBytes > this.limits.maxBodyBytes) {
      throw new MQClientError(
        'MESSAGE_TOO_LARGE',
        `batch is ${totalBytes} bytes; the limit is ${this.limits.maxBodyBytes}: split it into smaller batches`,
      );
    }
    const body = encodeBatchBody(batchItems);
    const msgIds = items.map((e) => e.uniqKey);
    const result = await this.sendWithRetries(
      { topic, body, sysFlag: 0, flag: 0, properties: undefined, batch: true, shardingKey },
      options.timeoutMs,
      msgIds.join(','),
    );
    return { ...result, msgIds };
  }

  /**
   * Internal: re-sends a consumed message to a retry topic (used by consumers when the broker
   * refuses CONSUMER_SEND_MSG_BACK).
   * @internal
   */
  async sendRaw(
    msg: Message,
    uniqKey: string,
    reconsume: { reconsumeTimes: number; maxReconsumeTimes: number },
  ): Promise<SendResult> {
    this.assertRunning('send');
    const encoded = encodeMessage(msg, uniqKey, this.limits);
    const out = { ...this.outgoing(encoded, undefined), ...reconsume };
    return this.sendWithRetries(out, undefined, uniqKey);
  }

  private outgoing(e: EncodedMessage, shardingKey: string | undefined): Outgoing {
    return {
      topic: e.topic,
      body: e.body,
      sysFlag: e.sysFlag,
      flag: e.flag,
      properties: e.properties,
      batch: false,
      shardingKey: shardingKey || undefined,
    };
  }

  private assertRunning(what: string): void {
    if (this.state !== 'running') {
      throw new MQClientError(
        'CLIENT_STATE',
        this.state === 'created'
          ? `${what}(): call producer.start() first`
          : `${what}(): the producer was shut down`,
      );
    }
  }

  private async publishInfoOf(topic: string): Promise<TopicPublishInfo> {
    let info = this.publishInfo.get(topic);
    if (info && info.ok) return info;
    const route = await this.client.updateRoute(topic);
    info = new TopicPublishInfo(route ? publishQueues(topic, route) : []);
    if (!info.ok) {
      // An unknown topic: like RocketMQ's clients, send through the brokers that accept
      // auto-creation (the default topic's route); the broker creates the topic with
      // DEFAULT_TOPIC_QUEUE_NUMS queues and registers it, and the next route refresh replaces this.
      const fallback = await this.client.updateRoute(DEFAULT_TOPIC).catch(() => undefined);
      if (fallback) {
        // Only brokers whose default topic carries the inherit bit create topics on a send.
        const creators = new Set(
          fallback.queueDatas.filter((q) => (q.perm & Perm.INHERIT) !== 0).map((q) => q.brokerName),
        );
        const queues = publishQueues(topic, fallback).filter(
          (q) => creators.has(q.brokerName) && q.queueId < DEFAULT_TOPIC_QUEUE_NUMS,
        );
        info = new TopicPublishInfo(queues);
      }
    }
    if (!info.ok) {
      throw new MQClientError(
        'NO_ROUTE',
        `no writable queue for topic '${topic}': create it first (Admin.createTopic or 'sluice topic create') and check the broker is registered with the name server`,
      );
    }
    this.publishInfo.set(topic, info);
    return info;
  }

  private brokerAddrOrThrow(mq: MessageQueue): string {
    const addr = this.client.brokerAddr(mq.brokerName);
    if (!addr) {
      throw new MQClientError(
        'NO_ROUTE',
        `broker '${mq.brokerName}' has no master address in the route`,
      );
    }
    return addr;
  }

  private header(o: Outgoing, mq: MessageQueue): SendMessageRequestHeader {
    // Field by field, not a literal: see createRequest() in protocol/remoting-command.ts.
    const h = {} as SendMessageRequestHeader;
    h.producerGroup = this.producerGroup;
    h.topic = o.topic;
    h.defaultTopic = DEFAULT_TOPIC;
    h.defaultTopicQueueNums = DEFAULT_TOPIC_QUEUE_NUMS;
    h.queueId = mq.queueId;
    h.sysFlag = o.sysFlag;
    h.bornTimestamp = Date.now();
    h.flag = o.flag;
    h.properties = o.properties;
    h.reconsumeTimes = o.reconsumeTimes ?? 0;
    h.unitMode = false;
    h.maxReconsumeTimes = o.maxReconsumeTimes;
    h.batch = o.batch || undefined;
    return h;
  }

  /** Records a successful attempt (broker latency) and builds its result. */
  private succeeded(
    o: Outgoing,
    mq: MessageQueue,
    msgId: string,
    startedMs: number,
    r: Awaited<ReturnType<ClientApi['sendMessage']>>,
  ): SendResult {
    this.fault.recordSuccess(mq.brokerName, Date.now() - startedMs);
    // Field by field, not a literal: see createRequest() in protocol/remoting-command.ts.
    const result = {} as SendResult;
    result.msgId = msgId;
    result.offsetMsgId = r.offsetMsgId;
    result.queue = messageQueue(o.topic, mq.brokerName, r.queueId);
    result.queueOffset = r.queueOffset;
    result.status = r.status;
    return result;
  }

  /**
   * Sends with retries on other brokers. The first attempt, when the route is cached, runs as a
   * plain promise chain (no async frame: this is the hot path of every send); a failure that may
   * be retried continues in {@link sendWithRetriesSlow}.
   */
  private sendWithRetries(
    o: Outgoing,
    timeoutMs: number | undefined,
    msgId: string,
  ): Promise<SendResult> {
    const info = this.publishInfo.get(o.topic);
    if (info === undefined || !info.ok) return this.sendWithRetriesSlow(o, timeoutMs, msgId, 0);
    const budgetMs = timeoutMs ?? this.sendTimeoutMs;
    const started = Date.now();
    const mq = o.shardingKey ? info.selectByKey(o.shardingKey) : info.select(undefined, this.fault);
    const addr = this.client.brokerAddr(mq.brokerName);
    if (!addr) return this.sendWithRetriesSlow(o, timeoutMs, msgId, 0);
    return this.client.api.sendMessage(addr, this.header(o, mq), o.body, budgetMs).then(
      (r) => this.succeeded(o, mq, msgId, started, r),
      (err: unknown) => {
        if (!retriable(err)) throw err;
        this.fault.recordFailure(mq.brokerName);
        void this.client.updateRoute(o.topic).catch(() => undefined);
        return this.sendWithRetriesSlow(o, timeoutMs, msgId, 1, started, mq.brokerName, err);
      },
    );
  }

  /**
   * The retry loop, from attempt `firstAttempt` (earlier attempts started at `startedMs` and
   * last failed on `lastBrokerName` with `firstError`).
   */
  private async sendWithRetriesSlow(
    o: Outgoing,
    timeoutMs: number | undefined,
    msgId: string,
    firstAttempt: number,
    startedMs = Date.now(),
    lastBrokerName?: string,
    firstError?: unknown,
  ): Promise<SendResult> {
    const budgetMs = timeoutMs ?? this.sendTimeoutMs;
    const deadline = startedMs + budgetMs;
    let lastBroker: string | undefined = lastBrokerName;
    let lastError: unknown = firstError;
    const attempts = 1 + Math.max(0, this.retries);
    for (let attempt = firstAttempt; attempt < attempts; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let info: TopicPublishInfo;
      try {
        info = await this.publishInfoOf(o.topic);
      } catch (err) {
        lastError = err;
        if (err instanceof MQClientError && err.code === 'NO_ROUTE') throw err;
        continue;
      }
      const mq = o.shardingKey
        ? info.selectByKey(o.shardingKey)
        : info.select(lastBroker, this.fault);
      const addr = this.client.brokerAddr(mq.brokerName);
      if (!addr) {
        lastBroker = mq.brokerName;
        lastError = new MQClientError(
          'NO_ROUTE',
          `broker '${mq.brokerName}' has no master address`,
        );
        void this.client.updateRoute(o.topic).catch(() => undefined);
        continue;
      }
      const started = Date.now();
      try {
        const r = await this.client.api.sendMessage(
          addr,
          this.header(o, mq),
          o.body,
          Math.max(1, deadline - Date.now()),
        );
        return this.succeeded(o, mq, msgId, started, r);
      } catch (err) {
        lastError = err;
        lastBroker = mq.brokerName;
        if (!retriable(err)) throw err;
        this.fault.recordFailure(mq.brokerName);
        void this.client.updateRoute(o.topic).catch(() => undefined);
      }
    }
    if (lastError instanceof MQClientError && lastError.code !== 'TIMEOUT') {
      throw lastError;
    }
    throw new MQClientError(
      'TIMEOUT',
      `send to topic '${o.topic}' did not succeed within ${budgetMs} ms${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
      { cause: lastError },
    );
  }
}
