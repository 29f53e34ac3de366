/**
 * Typed remoting calls of the SDK's Admin: topics, cluster and broker information, statistics,
 * offset resets and message lookups, one method per request code, over the same
 * {@link ClientApi} (connections, error wrapping) as producers and consumers use. Plain RocketMQ
 * remoting, so they also work against an Apache RocketMQ broker and name server.
 */
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import { parseLenientJson } from '../protocol/json-compat.js';
import { decodeConsumeStats, type ConsumeStats } from '../protocol/client-bodies.js';
import {
  decodeClusterInfo,
  decodeKVTable,
  decodeTopicList,
  type ClusterInfo,
} from '../protocol/route-data.js';
import {
  encodeCreateTopicRequestHeader,
  type CreateTopicRequestHeader,
} from '../protocol/headers/topic.js';
import {
  encodeQueryMessageRequestHeader,
  type QueryMessageRequestHeader,
} from '../protocol/headers/query.js';
import { toExtFields } from '../protocol/headers/fields.js';
import type { ClientApi } from './client-api.js';
import { responseError } from './errors.js';
import { messageQueue, type MessageQueue } from './message-queue.js';

/** Per-queue offsets of a topic on one broker. */
export interface TopicQueueStats {
  queue: MessageQueue;
  minOffset: number;
  maxOffset: number;
  /** Store time (ms) of the last message, 0 if unknown. */
  lastUpdateTimestamp: number;
}

function queueFromKey(key: string): MessageQueue {
  const o = parseLenientJson(key) as Record<string, unknown>;
  return messageQueue(String(o.topic), String(o.brokerName), Number(o.queueId));
}

/** The administrative remoting calls. */
export class AdminApi {
  constructor(private readonly api: ClientApi) {}

  /** UPDATE_AND_CREATE_TOPIC on one broker. */
  async createTopic(
    addr: string,
    header: CreateTopicRequestHeader,
    timeoutMs: number,
  ): Promise<void> {
    await this.api.callOk(
      addr,
      RequestCode.UPDATE_AND_CREATE_TOPIC,
      encodeCreateTopicRequestHeader(header),
      timeoutMs,
      `create topic '${header.topic}'`,
    );
  }

  /** DELETE_TOPIC_IN_BROKER or DELETE_TOPIC_IN_NAMESRV. */
  async deleteTopic(
    addr: string,
    topic: string,
    inNameServer: boolean,
    timeoutMs: number,
  ): Promise<void> {
    const code = inNameServer
      ? RequestCode.DELETE_TOPIC_IN_NAMESRV
      : RequestCode.DELETE_TOPIC_IN_BROKER;
    await this.api.callOk(addr, code, { topic }, timeoutMs, `delete topic '${topic}'`);
  }

  /** GET_ALL_TOPIC_LIST_FROM_NAMESERVER. */
  async getAllTopics(nsAddr: string, timeoutMs: number): Promise<string[]> {
    const r = await this.api.callOk(
      nsAddr,
      RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
      {},
      timeoutMs,
      'topic list',
    );
    return r.body && r.body.length > 0 ? decodeTopicList(r.body).topicList : [];
  }

  /** GET_BROKER_CLUSTER_INFO. */
  async getClusterInfo(nsAddr: string, timeoutMs: number): Promise<ClusterInfo> {
    const r = await this.api.callOk(
      nsAddr,
      RequestCode.GET_BROKER_CLUSTER_INFO,
      {},
      timeoutMs,
      'cluster info',
    );
    if (!r.body || r.body.length === 0) return { brokerAddrTable: {}, clusterAddrTable: {} };
    return decodeClusterInfo(r.body);
  }

  /** GET_BROKER_RUNTIME_INFO: the broker's key/value statistics. */
  async getBrokerRuntimeInfo(addr: string, timeoutMs: number): Promise<Record<string, string>> {
    const r = await this.api.callOk(
      addr,
      RequestCode.GET_BROKER_RUNTIME_INFO,
      {},
      timeoutMs,
      'broker runtime info',
    );
    return decodeKVTable(r.body);
  }

  /** GET_TOPIC_STATS_INFO: per-queue min/max offsets of a topic on one broker. */
  async getTopicStats(addr: string, topic: string, timeoutMs: number): Promise<TopicQueueStats[]> {
    const op = `stats of topic '${topic}'`;
    const r = await this.api.callOk(
      addr,
      RequestCode.GET_TOPIC_STATS_INFO,
      { topic },
      timeoutMs,
      op,
    );
    if (!r.body || r.body.length === 0) return [];
    const parsed = parseLenientJson(r.body) as {
      offsetTable?: Record<string, Record<string, unknown>>;
    };
    const out: TopicQueueStats[] = [];
    for (const [key, value] of Object.entries(parsed.offsetTable ?? {})) {
      out.push({
        queue: queueFromKey(key),
        minOffset: Number(value.minOffset ?? 0),
        maxOffset: Number(value.maxOffset ?? 0),
        lastUpdateTimestamp: Number(value.lastUpdateTimestamp ?? 0),
      });
    }
    return out;
  }

  /** GET_CONSUME_STATS: per-queue broker and consumer offsets of a group on one broker. */
  async getConsumeStats(
    addr: string,
    consumerGroup: string,
    topic: string | undefined,
    timeoutMs: number,
  ): Promise<ConsumeStats> {
    const r = await this.api.callOk(
      addr,
      RequestCode.GET_CONSUME_STATS,
      toExtFields({ consumerGroup, topic }),
      timeoutMs,
      `consume stats of group '${consumerGroup}'`,
    );
    return decodeConsumeStats(r.body);
  }

  /**
   * INVOKE_BROKER_TO_RESET_OFFSET: the broker computes offsets for `timestampMs` and tells the
   * group's online consumers. Resolves false when no consumer of the group is online (the
   * caller then writes offsets itself).
   */
  async invokeBrokerToResetOffset(
    addr: string,
    topic: string,
    group: string,
    timestampMs: number,
    timeoutMs: number,
  ): Promise<boolean> {
    const op = `offset reset of group '${group}' on topic '${topic}'`;
    const ext = toExtFields({ topic, group, timestamp: timestampMs, isForce: true });
    const r = await this.api.call(
      addr,
      RequestCode.INVOKE_BROKER_TO_RESET_OFFSET,
      ext,
      timeoutMs,
      op,
    );
    if (r.code === ResponseCode.CONSUMER_NOT_ONLINE) return false;
    if (r.code !== ResponseCode.SUCCESS) throw responseError(op, addr, r.code, r.remark);
    return true;
  }

  /** VIEW_MESSAGE_BY_ID: the raw record at a commit-log offset. */
  async viewMessage(addr: string, commitLogOffset: number, timeoutMs: number): Promise<Buffer> {
    const r = await this.api.callOk(
      addr,
      RequestCode.VIEW_MESSAGE_BY_ID,
      toExtFields({ offset: commitLogOffset }),
      timeoutMs,
      'view message by id',
    );
    return r.body ?? Buffer.alloc(0);
  }

  /** QUERY_MESSAGE: raw records whose key (or unique key) matches; empty when none. */
  async queryMessage(
    addr: string,
    header: QueryMessageRequestHeader,
    timeoutMs: number,
  ): Promise<Buffer> {
    const op = `query of key '${header.key}' in topic '${header.topic}'`;
    const r = await this.api.call(
      addr,
      RequestCode.QUERY_MESSAGE,
      encodeQueryMessageRequestHeader(header),
      timeoutMs,
      op,
    );
    if (r.code === ResponseCode.QUERY_NOT_FOUND) return Buffer.alloc(0);
    if (r.code !== ResponseCode.SUCCESS) throw responseError(op, addr, r.code, r.remark);
    return r.body ?? Buffer.alloc(0);
  }
}
