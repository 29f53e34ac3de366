/**
 * `Admin`: topic management, routes and statistics, consumer-group progress and lag, offset
 * reset by time, message lookup by id or key, cluster and broker runtime information. Plain
 * RocketMQ admin requests, so it also works against Apache RocketMQ.
 */
import { decodeOffsetMessageId } from '../protocol/message-id.js';
import { Perm } from '../protocol/headers/topic.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { ClusterInfo, TopicRouteData } from '../protocol/route-data.js';
import { AdminApi, type TopicQueueStats } from './admin-api.js';
import { asError, ClientInstance, type ClientOptions } from './client-instance.js';
import { MQClientError } from './errors.js';
import type { ReceivedMessage } from './message.js';
import { compareQueues, messageQueue, queueKey, type MessageQueue } from './message-queue.js';
import { checkTopic } from './outgoing.js';
import { Producer } from './producer.js';
import { decodeMessages, DLQ_TOPIC_PREFIX } from './received-message.js';
import { resendMessageOf } from './resend.js';
import { subscribeQueues } from './topic-route.js';

/** Options of {@link Admin}. */
export type AdminOptions = ClientOptions;

/** Options of {@link Admin.createTopic}. */
export interface CreateTopicOptions {
  /** Read and write queues per broker. Default 8. */
  queueNums?: number;
  /** Permission bits (6 = read+write). Default 6. */
  perm?: number;
  /** Ordered topic. Default false. */
  order?: boolean;
  /** Create on every master of this cluster (default: every master the name server knows). */
  clusterName?: string;
  /** Create only on this broker address. */
  brokerAddr?: string;
  /** Wait until the name server serves the route (up to this long). Default 5000 ms; 0 = don't. */
  waitForRouteMs?: number;
}

/** Per-queue progress of a consumer group. */
export interface QueueProgress {
  queue: MessageQueue;
  /** Next offset the broker will write. */
  brokerOffset: number;
  /** Next offset the group will consume. */
  consumerOffset: number;
  /** Messages not yet consumed: `brokerOffset - consumerOffset`. */
  lag: number;
  /** Store time of the last consumed message (ms), 0 if unknown. */
  lastTimestamp: number;
}

/** A consumer group's progress. */
export interface GroupProgress {
  group: string;
  queues: QueueProgress[];
  /** Sum of the queues' lag. */
  totalLag: number;
  /** Consumption rate reported by the brokers (messages/s). */
  consumeTps: number;
}

/** Options of the key queries. */
export interface QueryOptions {
  /** Most messages to return. Default 32. */
  maxNum?: number;
  /** Only messages stored at or after this time (ms). Default 0. */
  beginTimestampMs?: number;
  /** Only messages stored at or before this time (ms). Default now. */
  endTimestampMs?: number;
}

/** Sluice's request code for re-sending a DLQ message (same value as the broker's handler). */
const RESEND_MESSAGE_REQUEST_CODE = 90_001;

function notSupported(err: unknown): boolean {
  return (
    err instanceof MQClientError && err.responseCode === ResponseCode.REQUEST_CODE_NOT_SUPPORTED
  );
}

/** Administration client. */
export class Admin {
  /** The shared client machinery. */
  readonly client: ClientInstance;
  /** The administrative calls, over the client's connections. */
  private readonly api: AdminApi;
  private readonly timeoutMs: number;

  private readonly options: AdminOptions;
  private resendProducer: Producer | undefined;
  private resendProducerStarted: Promise<void> | undefined;

  constructor(options: AdminOptions) {
    this.options = options;
    this.client = new ClientInstance(options);
    this.api = new AdminApi(this.client.api);
    this.timeoutMs = this.client.requestTimeoutMs;
  }

  /** Nothing to start (connections open lazily); kept for symmetry with the other clients. */
  async start(): Promise<void> {}

  /** Closes connections. */
  async shutdown(): Promise<void> {
    if (this.resendProducerStarted) await this.resendProducer?.shutdown();
    this.client.close();
  }

  /** Cluster layout: brokers (name → addresses) and clusters (name → broker names). */
  async clusterInfo(): Promise<ClusterInfo> {
    return this.client.withNameServer((ns) => this.api.getClusterInfo(ns, this.timeoutMs));
  }

  /** The broker's runtime statistics (key/value strings, e.g. `commitLogMaxOffset`). */
  async brokerRuntimeInfo(brokerAddr: string): Promise<Record<string, string>> {
    return this.api.getBrokerRuntimeInfo(brokerAddr, this.timeoutMs);
  }

  private async masterAddrs(clusterName?: string): Promise<string[]> {
    const info = await this.clusterInfo();
    const names = clusterName
      ? (info.clusterAddrTable[clusterName] ?? [])
      : Object.keys(info.brokerAddrTable);
    if (clusterName && names.length === 0) {
      throw new MQClientError(
        'NOT_FOUND',
        `cluster '${clusterName}' is unknown to the name server`,
      );
    }
    const out: string[] = [];
    for (const name of names) {
      const addr = info.brokerAddrTable[name]?.brokerAddrs['0'];
      if (addr) out.push(addr);
    }
    return out;
  }

  /** Creates (or updates) a topic on every master of the cluster, or on one broker. */
  async createTopic(topic: string, options: CreateTopicOptions = {}): Promise<void> {
    checkTopic(topic);
    const queueNums = options.queueNums ?? 8;
    if (!Number.isInteger(queueNums) || queueNums < 1 || queueNums > 1024) {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        `queueNums ${queueNums} must be an integer in 1..1024`,
      );
    }
    const targets = options.brokerAddr
      ? [options.brokerAddr]
      : await this.masterAddrs(options.clusterName);
    if (targets.length === 0) {
      throw new MQClientError(
        'NO_ROUTE',
        'no broker is registered with the name server; start a broker first',
      );
    }
    await Promise.all(
      targets.map((addr) =>
        this.api.createTopic(
          addr,
          {
            topic,
            defaultTopic: 'TBW102',
            readQueueNums: queueNums,
            writeQueueNums: queueNums,
            perm: options.perm ?? Perm.READ | Perm.WRITE,
            topicFilterType: 'SINGLE_TAG',
            topicSysFlag: 0,
            order: options.order ?? false,
          },
          this.timeoutMs,
        ),
      ),
    );
    const waitMs = options.waitForRouteMs ?? 5000;
    const until = Date.now() + waitMs;
    while (waitMs > 0) {
      const route = await this.client.updateRoute(topic).catch(() => undefined);
      const brokers = new Set(route?.queueDatas.map((q) => q.brokerName) ?? []);
      if (brokers.size >= Math.min(targets.length, 1) && route && route.queueDatas.length >= 1)
        break;
      if (Date.now() >= until) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Alias of {@link createTopic}: UPDATE_AND_CREATE_TOPIC overwrites the configuration. */
  async updateTopic(topic: string, options: CreateTopicOptions = {}): Promise<void> {
    await this.createTopic(topic, options);
  }

  /** Deletes a topic from every broker serving it and from every name server. */
  async deleteTopic(topic: string): Promise<void> {
    checkTopic(topic);
    const route = await this.client.updateRoute(topic);
    const addrs = new Set<string>();
    for (const b of route?.brokerDatas ?? []) if (b.brokerAddrs['0']) addrs.add(b.brokerAddrs['0']);
    if (addrs.size === 0) for (const a of await this.masterAddrs()) addrs.add(a);
    await Promise.all([...addrs].map((a) => this.api.deleteTopic(a, topic, false, this.timeoutMs)));
    await this.client.withNameServer((ns) => this.api.deleteTopic(ns, topic, true, this.timeoutMs));
  }

  /** Every topic the name server knows. */
  async listTopics(): Promise<string[]> {
    const topics = await this.client.withNameServer((ns) =>
      this.api.getAllTopics(ns, this.timeoutMs),
    );
    return topics.sort();
  }

  /** The route of a topic, or `undefined` when it does not exist. */
  async topicRoute(topic: string): Promise<TopicRouteData | undefined> {
    return this.client.updateRoute(topic);
  }

  private async routeOrThrow(topic: string): Promise<TopicRouteData> {
    const route = await this.client.updateRoute(topic);
    if (!route) throw new MQClientError('NOT_FOUND', `topic '${topic}' does not exist`);
    return route;
  }

  /** Per-queue min/max offsets and last update time of a topic, over all its brokers. */
  async topicStats(topic: string): Promise<TopicQueueStats[]> {
    const route = await this.routeOrThrow(topic);
    const parts = await Promise.all(
      route.brokerDatas.map(async (b) => {
        const addr = b.brokerAddrs['0'] ?? Object.values(b.brokerAddrs)[0];
        if (!addr) return [];
        try {
          return await this.api.getTopicStats(addr, topic, this.timeoutMs);
        } catch (err) {
          if (!notSupported(err)) throw err;
          return this.topicStatsByOffsets(addr, b.brokerName, topic, route);
        }
      }),
    );
    return parts.flat().sort((a, b) => compareQueues(a.queue, b.queue));
  }

  /** Fallback for brokers without GET_TOPIC_STATS_INFO: min/max offset per queue. */
  private async topicStatsByOffsets(
    addr: string,
    brokerName: string,
    topic: string,
    route: TopicRouteData,
  ): Promise<TopicQueueStats[]> {
    const out: TopicQueueStats[] = [];
    for (const mq of subscribeQueues(topic, route)) {
      if (mq.brokerName !== brokerName) continue;
      const [minOffset, maxOffset] = await Promise.all([
        this.client.api.getMinOffset(addr, mq, this.timeoutMs),
        this.client.api.getMaxOffset(addr, mq, this.timeoutMs),
      ]);
      out.push({ queue: mq, minOffset, maxOffset, lastUpdateTimestamp: 0 });
    }
    return out;
  }

  /**
   * Progress and lag of a consumer group, per queue, over every broker (optionally for one
   * topic only).
   */
  async consumerProgress(group: string, topic?: string): Promise<GroupProgress> {
    const addrs = topic
      ? (await this.routeOrThrow(topic)).brokerDatas
          .map((b) => b.brokerAddrs['0'])
          .filter((a): a is string => !!a)
      : await this.masterAddrs();
    const queues: QueueProgress[] = [];
    let consumeTps = 0;
    const seen = new Set<string>();
    for (const addr of addrs) {
      const stats = await this.api.getConsumeStats(addr, group, topic, this.timeoutMs);
      consumeTps += stats.consumeTps;
      for (const { queue, offsets } of stats.offsetTable) {
        const mq = messageQueue(queue.topic, queue.brokerName, queue.queueId);
        if (seen.has(queueKey(mq))) continue;
        seen.add(queueKey(mq));
        const consumerOffset = Math.max(0, offsets.consumerOffset);
        queues.push({
          queue: mq,
          brokerOffset: offsets.brokerOffset,
          consumerOffset,
          lag: Math.max(0, offsets.brokerOffset - consumerOffset),
          lastTimestamp: offsets.lastTimestamp,
        });
      }
    }
    queues.sort((a, b) => compareQueues(a.queue, b.queue));
    return { group, queues, totalLag: queues.reduce((s, q) => s + q.lag, 0), consumeTps };
  }

  /**
   * Moves a group's offsets on `topic` to the first message stored at or after `timestampMs`.
   * Offsets are written on the brokers, and online consumers are told to reset too.
   * @returns the new offset of every queue.
   */
  async resetOffsetByTimestamp(
    group: string,
    topic: string,
    timestampMs: number,
  ): Promise<Map<string, { queue: MessageQueue; offset: number }>> {
    const route = await this.routeOrThrow(topic);
    const result = new Map<string, { queue: MessageQueue; offset: number }>();
    for (const mq of subscribeQueues(topic, route)) {
      const addr = this.client.brokerAddr(mq.brokerName);
      if (!addr) continue;
      const offset = await this.client.api.searchOffset(addr, mq, timestampMs, this.timeoutMs);
      await this.client.api.updateConsumerOffset(addr, group, mq, offset, this.timeoutMs);
      result.set(queueKey(mq), { queue: mq, offset });
    }
    const masters = new Set(
      route.brokerDatas.map((b) => b.brokerAddrs['0']).filter((a): a is string => !!a),
    );
    for (const addr of masters) {
      await this.api
        .invokeBrokerToResetOffset(addr, topic, group, timestampMs, this.timeoutMs)
        .catch((err) => {
          if (!notSupported(err)) this.client.reportError(asError(err));
        });
    }
    return result;
  }

  /**
   * Finds a message by id. An offset id (what the broker returned as `offsetMsgId`) is read
   * straight from its broker (VIEW_MESSAGE_BY_ID); otherwise, with `topic`, the id is looked up
   * as a client unique id (QUERY_MESSAGE).
   */
  async queryMessageById(msgId: string, topic?: string): Promise<ReceivedMessage | undefined> {
    let viewError: unknown;
    try {
      const id = decodeOffsetMessageId(msgId);
      const body = await this.api.viewMessage(id.address, id.commitLogOffset, this.timeoutMs);
      const [msg] = decodeMessages(body, undefined);
      if (msg && msg.offsetMsgId === msgId.toUpperCase()) return msg;
      if (msg && !topic) return msg;
    } catch (err) {
      viewError = err;
    }
    if (topic) {
      const found = await this.queryByKey(topic, msgId, true, { maxNum: 1 });
      if (found[0]) return found[0];
      return undefined;
    }
    if (viewError instanceof MQClientError && viewError.code === 'BROKER_ERROR') return undefined;
    if (viewError) throw viewError;
    return undefined;
  }

  /**
   * Re-sends a dead-letter message (from `%DLQ%<group>`) to the topic it came from, or to
   * `toTopic`. `offsetMsgId` is the DLQ message's offset id (e.g. from
   * {@link queryMessageByUniqueKey} on the DLQ topic). A Sluice broker re-sends it in place
   * (request code 90001; the copy keeps its UNIQ_KEY); other RocketMQ brokers answer
   * REQUEST_CODE_NOT_SUPPORTED, and the message is then looked up and sent again by a producer.
   * @returns the offset id of the new copy.
   */
  async resendDlqMessage(offsetMsgId: string, toTopic?: string): Promise<string> {
    const id = decodeOffsetMessageId(offsetMsgId);
    const ext: Record<string, string> = { commitLogOffset: String(id.commitLogOffset) };
    if (toTopic !== undefined) ext.topic = toTopic;
    try {
      const r = await this.client.api.callOk(
        id.address,
        RESEND_MESSAGE_REQUEST_CODE,
        ext,
        this.timeoutMs,
        `re-send of dead-letter message ${offsetMsgId}`,
      );
      return r.extFields.msgId ?? '';
    } catch (err) {
      if (!notSupported(err)) throw err;
    }
    // Not a Sluice broker: look the message up and send a copy with a producer (the copy gets
    // a new UNIQ_KEY, as any client-side re-send does).
    const msg = await this.queryMessageById(offsetMsgId);
    if (!msg) throw new MQClientError('NOT_FOUND', `no message with id ${offsetMsgId} was found`);
    if (!msg.queue.topic.startsWith(DLQ_TOPIC_PREFIX)) {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        `message ${offsetMsgId} is in ${msg.queue.topic}, not a dead-letter topic`,
      );
    }
    this.resendProducer ??= new Producer({
      nameServer: this.options.nameServer,
      group: 'SLUICE_ADMIN_RESEND',
      onError: this.options.onError,
    });
    if (!this.resendProducerStarted) {
      this.resendProducerStarted = this.resendProducer.start();
    }
    await this.resendProducerStarted;
    return (await this.resendProducer.send(resendMessageOf(msg, toTopic))).offsetMsgId;
  }

  /** Messages of `topic` whose KEYS contain `key` (searches every broker of the topic). */
  async queryMessageByKey(
    topic: string,
    key: string,
    options: QueryOptions = {},
  ): Promise<ReceivedMessage[]> {
    return this.queryByKey(topic, key, false, options);
  }

  /** The message of `topic` with client unique id `uniqKey`, if stored. */
  async queryMessageByUniqueKey(
    topic: string,
    uniqKey: string,
  ): Promise<ReceivedMessage | undefined> {
    return (await this.queryByKey(topic, uniqKey, true, { maxNum: 1 }))[0];
  }

  private async queryByKey(
    topic: string,
    key: string,
    unique: boolean,
    options: QueryOptions,
  ): Promise<ReceivedMessage[]> {
    const route = await this.routeOrThrow(topic);
    const maxNum = options.maxNum ?? 32;
    const header = {
      topic,
      key,
      maxNum,
      beginTimestamp: options.beginTimestampMs ?? 0,
      endTimestamp: options.endTimestampMs ?? Date.now() + 60_000,
      uniqueKeyQuery: unique,
    };
    const out: ReceivedMessage[] = [];
    const seen = new Set<string>();
    for (const b of route.brokerDatas) {
      const addr = b.brokerAddrs['0'] ?? Object.values(b.brokerAddrs)[0];
      if (!addr) continue;
      const body = await this.api.queryMessage(addr, header, this.timeoutMs);
      for (const msg of decodeMessages(body, undefined, b.brokerName)) {
        const match = unique ? msg.msgId === key : msg.keys.includes(key);
        if (!match || msg.topic !== topic || seen.has(msg.offsetMsgId)) continue;
        // The broker's index keeps store times in seconds: apply the exact range here.
        const at = msg.storeTimestampMs;
        if (at < header.beginTimestamp || at > header.endTimestamp) continue;
        seen.add(msg.offsetMsgId);
        out.push(msg);
      }
    }
    out.sort((a, b) => a.storeTimestampMs - b.storeTimestampMs);
    return out.slice(0, maxNum);
  }
}
