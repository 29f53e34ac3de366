/**
 * Administration codes: UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215),
 * GET_ALL_TOPIC_CONFIG (21), GET_BROKER_RUNTIME_INFO (28), LOCK_BATCH_MQ (41),
 * UNLOCK_BATCH_MQ (42), GET_CONSUMER_CONNECTION_LIST (203), GET_PRODUCER_CONNECTION_LIST (204),
 * GET_CONSUME_STATS (208), GET_TOPIC_STATS_INFO (202) and INVOKE_BROKER_TO_RESET_OFFSET (222).
 */
import {
  decodeLockBatchRequestBody,
  encodeResetOffsetBody,
  encodeConsumeStats,
  encodeLockBatchResponseBody,
  type ConsumeStats,
} from '../protocol/client-bodies.js';
import {
  decodeConsumerGroupRequestHeader,
  decodeGetConsumeStatsRequestHeader,
  decodeResetOffsetRequestHeader,
  encodeResetOffsetRequestHeader,
} from '../protocol/headers/consumer.js';
import { stringifyCompat } from '../protocol/json-compat.js';
import { createRequest } from '../protocol/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import { reqString } from '../protocol/headers/fields.js';
import {
  decodeCreateTopicRequestHeader,
  decodeDeleteTopicRequestHeader,
} from '../protocol/headers/topic.js';
import type { RemotingCommand } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import { encodeKVTable } from '../protocol/route-data.js';
import type { BrokerContext } from './broker-context.js';
import { checkTopicName, isSystemTopic } from './perm.js';
import { errorResponse, ok, okJson, reply } from './responses.js';
import { makeTopicConfig, type TopicFilterType } from './topic-config-manager.js';

/** Most queues a topic may have on one broker. */
export const MAX_QUEUE_NUMS = 1024;

/** Handles the admin request codes. */
export class AdminProcessor<C extends object> {
  private readonly ctx: BrokerContext<C>;
  private readonly bootTimestamp = Date.now();

  constructor(ctx: BrokerContext<C>) {
    this.ctx = ctx;
  }

  /**
   * UPDATE_AND_CREATE_TOPIC. Answers once the name servers have the new topic, so that a client
   * may look its route up right after.
   */
  async updateAndCreateTopic(_conn: C, request: RemotingCommand): Promise<RemotingCommand> {
    try {
      const h = decodeCreateTopicRequestHeader(request.extFields);
      const problem = checkTopicName(h.topic);
      if (problem) return reply(request, ResponseCode.SYSTEM_ERROR, problem);
      if (isSystemTopic(h.topic) || h.topic === this.ctx.config.brokerClusterName) {
        return reply(
          request,
          ResponseCode.SYSTEM_ERROR,
          `the topic[${h.topic}] is a system topic; choose another name`,
        );
      }
      for (const [name, n] of [
        ['readQueueNums', h.readQueueNums],
        ['writeQueueNums', h.writeQueueNums],
      ] as const) {
        if (!Number.isInteger(n) || n < 1 || n > MAX_QUEUE_NUMS) {
          return reply(
            request,
            ResponseCode.SYSTEM_ERROR,
            `${name} must be between 1 and ${MAX_QUEUE_NUMS}, got ${n}`,
          );
        }
      }
      const filterType: TopicFilterType =
        h.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG';
      this.ctx.topicConfigManager.updateTopicConfig(
        makeTopicConfig(h.topic, {
          readQueueNums: h.readQueueNums,
          writeQueueNums: h.writeQueueNums,
          perm: h.perm,
          topicFilterType: filterType,
          topicSysFlag: h.topicSysFlag ?? 0,
          order: h.order,
        }),
      );
      await this.ctx.registerBrokerAll();
      return ok(request);
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** DELETE_TOPIC_IN_BROKER: forgets the topic, its queues and its committed offsets. */
  deleteTopic(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeDeleteTopicRequestHeader(request.extFields);
      if (isSystemTopic(h.topic)) {
        return reply(
          request,
          ResponseCode.SYSTEM_ERROR,
          `the topic[${h.topic}] is a system topic and cannot be deleted`,
        );
      }
      this.ctx.topicConfigManager.deleteTopicConfig(h.topic);
      this.ctx.consumerOffsetManager.removeTopic(h.topic);
      this.ctx.store.deleteTopic(h.topic);
      return ok(request);
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** GET_ALL_TOPIC_CONFIG: topics.json's content. */
  getAllTopicConfig(_conn: C, request: RemotingCommand): RemotingCommand {
    return okJson(request, this.ctx.topicConfigManager.encode());
  }

  /** GET_BROKER_RUNTIME_INFO: a string table of store and broker figures. */
  getBrokerRuntimeInfo(_conn: C, request: RemotingCommand): RemotingCommand {
    const stats = this.ctx.store.stats();
    const table: Record<string, string> = {
      brokerVersionDesc: 'Sluice',
      brokerName: this.ctx.config.brokerName,
      brokerAddr: this.ctx.brokerAddress(),
      bootTimestamp: String(this.bootTimestamp),
      runtime: `${Math.floor((Date.now() - this.bootTimestamp) / 1000)} s`,
      msgPutTotalTodayNow: String(stats.putMessageCount),
      putMessageBytes: String(stats.putMessageBytes),
      commitLogMinOffset: String(stats.minPhysicalOffset),
      commitLogMaxOffset: String(stats.maxPhysicalOffset),
      flushedPhysicalOffset: String(stats.flushedPhysicalOffset),
      dispatchBehindBytes: String(stats.maxPhysicalOffset - stats.dispatchedPhysicalOffset),
      commitLogDiskRatio: String(stats.diskUsedRatio),
      commitLogSegments: String(stats.segments.length),
      storeWritable: String(stats.writable),
      topicCount: String(this.ctx.topicConfigManager.size),
    };
    return ok(request, {}, encodeKVTable(table));
  }

  /**
   * GET_TOPIC_STATS_INFO: per queue of a topic, min and max offset and the store time of the
   * last message (`{"offsetTable": {<queue>: {minOffset, maxOffset, lastUpdateTimestamp}}}`).
   */
  getTopicStatsInfo(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const topic = reqString(request.extFields, 'topic');
      const ctx = this.ctx;
      const config = ctx.topicConfigManager.selectTopicConfig(topic);
      if (!config) {
        return reply(request, ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] does not exist`);
      }
      const table = new Map<unknown, unknown>();
      for (let queueId = 0; queueId < config.writeQueueNums; queueId++) {
        const maxOffset = ctx.store.getMaxOffsetInQueue(topic, queueId);
        const last =
          maxOffset > 0 ? ctx.store.getMessageStoreTimestamp(topic, queueId, maxOffset - 1) : 0;
        table.set(
          { brokerName: ctx.config.brokerName, queueId, topic },
          {
            minOffset: Math.max(ctx.store.getMinOffsetInQueue(topic, queueId), 0),
            maxOffset: Math.max(maxOffset, 0),
            lastUpdateTimestamp: Math.max(last, 0),
          },
        );
      }
      return ok(request, {}, Buffer.from(stringifyCompat({ offsetTable: table }), 'utf8'));
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /**
   * INVOKE_BROKER_TO_RESET_OFFSET: computes each queue's offset for the timestamp (or keeps a
   * smaller committed one unless `isForce`), commits it and sends RESET_CONSUMER_CLIENT_OFFSET
   * (220) to every online consumer of the group, which resets without a restart. Answers the
   * offset table; CONSUMER_NOT_ONLINE when the group has no consumer here.
   */
  invokeBrokerToResetOffset(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeResetOffsetRequestHeader(request.extFields);
      const ctx = this.ctx;
      const config = ctx.topicConfigManager.selectTopicConfig(h.topic);
      if (!config) {
        return reply(request, ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] does not exist`);
      }
      const offsetTable: {
        queue: { topic: string; brokerName: string; queueId: number };
        offset: number;
      }[] = [];
      for (let queueId = 0; queueId < config.readQueueNums; queueId++) {
        let offset = ctx.store.getOffsetInQueueByTime(h.topic, queueId, h.timestamp);
        const committed = ctx.consumerOffsetManager.queryOffset(h.group, h.topic, queueId);
        if (!h.isForce && committed >= 0 && committed < offset) offset = committed;
        ctx.consumerOffsetManager.commitOffset(h.group, h.topic, queueId, offset);
        offsetTable.push({
          queue: { topic: h.topic, brokerName: ctx.config.brokerName, queueId },
          offset,
        });
      }
      const body = encodeResetOffsetBody({ offsetTable });
      const info = ctx.consumerManager.getConsumerGroupInfo(h.group);
      if (!info || info.channels.size === 0) {
        return reply(
          request,
          ResponseCode.CONSUMER_NOT_ONLINE,
          `no consumer of group [${h.group}] is online; the committed offsets were reset`,
        );
      }
      for (const conn of info.channels.keys()) {
        if (!ctx.transport.isOpen(conn)) continue;
        ctx.transport.send(
          conn,
          createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, {
            extFields: encodeResetOffsetRequestHeader(h),
            body,
            oneway: true,
          }),
        );
      }
      return ok(request, {}, body);
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** LOCK_BATCH_MQ: locks what is free (or already the caller's); answers the locked set. */
  lockBatchMq(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const body = decodeLockBatchRequestBody(request.body);
      const locked = this.ctx.lockManager.tryLockBatch(
        body.consumerGroup,
        body.mqSet,
        body.clientId,
      );
      return ok(request, {}, encodeLockBatchResponseBody(locked));
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** UNLOCK_BATCH_MQ. */
  unlockBatchMq(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const body = decodeLockBatchRequestBody(request.body);
      this.ctx.lockManager.unlockBatch(body.consumerGroup, body.mqSet, body.clientId);
      return ok(request);
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** GET_CONSUMER_CONNECTION_LIST: the group's members and subscriptions (206 when offline). */
  getConsumerConnectionList(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeConsumerGroupRequestHeader(request.extFields);
      const info = this.ctx.consumerManager.getConsumerGroupInfo(h.consumerGroup);
      if (!info) {
        return reply(
          request,
          ResponseCode.CONSUMER_NOT_ONLINE,
          `no consumer of group [${h.consumerGroup}] is online`,
        );
      }
      const connectionSet = [...info.channels.values()].map((c) => ({
        clientId: c.clientId,
        clientAddr: c.clientAddr,
        language: c.language,
        version: c.version,
      }));
      return okJson(request, {
        connectionSet,
        subscriptionTable: Object.fromEntries(info.subscriptions),
        consumeType: info.consumeType,
        messageModel: info.messageModel,
        consumeFromWhere: info.consumeFromWhere,
      });
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /** GET_PRODUCER_CONNECTION_LIST: header `producerGroup`. */
  getProducerConnectionList(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const group = reqString(request.extFields, 'producerGroup');
      const members = this.ctx.producerManager.connections(group);
      if (members.length === 0) {
        return reply(
          request,
          ResponseCode.SYSTEM_ERROR,
          `no producer of group [${group}] is online`,
        );
      }
      return okJson(request, {
        connectionSet: members.map((c) => ({
          clientId: c.clientId,
          clientAddr: c.clientAddr,
          language: c.language,
          version: c.version,
        })),
      });
    } catch (error) {
      return errorResponse(request, error);
    }
  }

  /**
   * GET_CONSUME_STATS: for each queue of the group's topics (or the one asked for), the
   * broker's max offset, the group's committed offset and the store time of the last consumed
   * message.
   */
  getConsumeStats(_conn: C, request: RemotingCommand): RemotingCommand {
    try {
      const h = decodeGetConsumeStatsRequestHeader(request.extFields);
      const ctx = this.ctx;
      const topics = new Set<string>(
        h.topic ? [h.topic] : ctx.consumerOffsetManager.topicsOfGroup(h.consumerGroup),
      );
      if (!h.topic) {
        const info = ctx.consumerManager.getConsumerGroupInfo(h.consumerGroup);
        if (info) for (const topic of info.subscriptions.keys()) topics.add(topic);
      }
      const stats: ConsumeStats = { offsetTable: [], consumeTps: 0 };
      for (const topic of topics) {
        const config = ctx.topicConfigManager.selectTopicConfig(topic);
        if (!config) continue;
        for (let queueId = 0; queueId < config.writeQueueNums; queueId++) {
          const brokerOffset = ctx.store.getMaxOffsetInQueue(topic, queueId);
          const committed = ctx.consumerOffsetManager.queryOffset(h.consumerGroup, topic, queueId);
          const consumerOffset = Math.max(committed, 0);
          const lastTimestamp =
            consumerOffset > 0
              ? Math.max(ctx.store.getMessageStoreTimestamp(topic, queueId, consumerOffset - 1), 0)
              : 0;
          stats.offsetTable.push({
            queue: { topic, brokerName: ctx.config.brokerName, queueId },
            offsets: { brokerOffset, consumerOffset, lastTimestamp },
          });
        }
      }
      if (stats.offsetTable.length === 0) {
        return reply(
          request,
          ResponseCode.CONSUMER_NOT_ONLINE,
          `group [${h.consumerGroup}] has no offsets and no subscription on this broker`,
        );
      }
      return ok(request, {}, encodeConsumeStats(stats));
    } catch (error) {
      return errorResponse(request, error);
    }
  }
}
