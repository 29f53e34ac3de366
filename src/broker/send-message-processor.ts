/**
 * SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320): validate the target
 * topic and queue (auto-creating topics when allowed), turn the request into store messages and
 * answer with the offset message id, queue id and queue offset.
 *
 * The body is handed to the store as the view the frame decoder produced (no copy); properties
 * stay the header's string; the tag hash is computed in place.
 */
import { forEachBatchItem } from '../protocol/batch-codec.js';
import {
  decodeSendMessageRequestHeader,
  type SendMessageRequestHeader,
} from '../protocol/headers/send-message.js';
import { createResponse, type RemotingCommand } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { MessageToStore, PutResult } from '../store/types.js';
import type { BrokerContext } from './broker-context.js';
import { brokerStatsOf, type BrokerStats } from './broker-stats.js';
import { routeSpecialMessage } from './schedule/special-messages.js';
import {
  PERM_READ_WRITE,
  PERM_WRITE,
  RETRY_GROUP_TOPIC_PREFIX,
  checkTopicName,
  dlqTopicOf,
  isWriteable,
} from './perm.js';
import { errorResponse, putStatusToCode, reply } from './responses.js';
import type { TopicConfig } from './topic-config-manager.js';
import { TopicSendStates, type TopicSendState } from './topic-send-state.js';

const EMPTY_BODY = new Uint8Array(0);

/** Where a send goes after validation. */
interface SendTarget {
  topic: string;
  queueId: number;
  /** The state of `topic` (undefined only when the topic vanished while it was resolved). */
  state: TopicSendState | undefined;
}

/** Handles the send request codes. */
export class SendMessageProcessor<C extends object> {
  private readonly ctx: BrokerContext<C>;
  private readonly stats: BrokerStats;
  private readonly states: TopicSendStates;

  constructor(ctx: BrokerContext<C>) {
    this.ctx = ctx;
    this.stats = brokerStatsOf(ctx.store);
    this.states = new TopicSendStates(ctx.topicConfigManager, ctx.store, this.stats);
  }

  /**
   * SEND_MESSAGE / SEND_MESSAGE_V2. Answers synchronously (no promise, no microtask) unless a
   * sync flush or a topics.json save has to be awaited.
   */
  sendMessage(conn: C, request: RemotingCommand): RemotingCommand | Promise<RemotingCommand> {
    const startMs = performance.now();
    let header: SendMessageRequestHeader;
    try {
      header = decodeSendMessageRequestHeader(request.extFields);
    } catch (error) {
      return reply(request, ResponseCode.MESSAGE_ILLEGAL, (error as Error).message);
    }
    const target = this.resolveTarget(request, header);
    if ('code' in target) return target;
    const properties = header.properties ?? '';
    const message: MessageToStore = {
      topic: target.topic,
      queueId: target.queueId,
      flag: header.flag,
      body: request.body ?? EMPTY_BODY,
      properties,
      sysFlag: header.sysFlag,
      bornTimestamp: header.bornTimestamp,
      bornHost: this.ctx.bornHostOf(conn),
      reconsumeTimes: header.reconsumeTimes ?? 0,
      preparedTransactionOffset: 0,
      slot: target.state?.slot,
    };
    // Half (transactional), delayed and timed messages wait in system topics.
    const problem = routeSpecialMessage(message, this.ctx.config, Date.now());
    if (problem) return reply(request, ResponseCode.MESSAGE_ILLEGAL, problem);
    let put: PutResult | Promise<PutResult>;
    try {
      put = this.ctx.store.putMessageNow(message);
    } catch (error) {
      return errorResponse(request, error);
    }
    return this.finishPut(request, put, target, startMs);
  }

  /**
   * Answers a put: directly when the result is there and no topic save is pending, else after
   * awaiting them.
   */
  private finishPut(
    request: RemotingCommand,
    put: PutResult | Promise<PutResult>,
    target: SendTarget,
    startMs: number,
  ): RemotingCommand | Promise<RemotingCommand> {
    const topicsSaving = this.ctx.topicsDurable();
    if (topicsSaving) return this.finishPutLater(request, put, topicsSaving, target, startMs);
    if (put instanceof Promise) {
      // Sync flush: a plain chain (no async frame), once per put.
      return put.then(
        (result) => {
          this.countPut(target, result, startMs);
          return this.answer(request, result, target.queueId);
        },
        (error: unknown) => errorResponse(request, error),
      );
    }
    this.countPut(target, put, startMs);
    return this.answer(request, put, target.queueId);
  }

  private async finishPutLater(
    request: RemotingCommand,
    put: PutResult | Promise<PutResult>,
    topicsSaving: Promise<void> | undefined,
    target: SendTarget,
    startMs: number,
  ): Promise<RemotingCommand> {
    let result: PutResult;
    try {
      result = await put;
      if (topicsSaving) await topicsSaving;
    } catch (error) {
      return errorResponse(request, error);
    }
    this.countPut(target, result, startMs);
    return this.answer(request, result, target.queueId);
  }

  /**
   * SEND_BATCH_MESSAGE: every item goes to the same topic and queue, stored contiguously.
   * Synchronous like {@link sendMessage} when nothing has to be awaited.
   */
  sendBatch(conn: C, request: RemotingCommand): RemotingCommand | Promise<RemotingCommand> {
    const startMs = performance.now();
    let header: SendMessageRequestHeader;
    try {
      header = decodeSendMessageRequestHeader(request.extFields);
    } catch (error) {
      return reply(request, ResponseCode.MESSAGE_ILLEGAL, (error as Error).message);
    }
    if (header.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      return reply(
        request,
        ResponseCode.MESSAGE_ILLEGAL,
        'batches cannot be sent to a retry topic; send the messages one by one',
      );
    }
    const target = this.resolveTarget(request, header);
    if ('code' in target) return target;
    if (!request.body || request.body.length === 0) {
      return reply(request, ResponseCode.MESSAGE_ILLEGAL, 'the batch body is empty');
    }
    const bornHost = this.ctx.bornHostOf(conn);
    const messages: MessageToStore[] = [];
    try {
      // Bodies and properties stay views of the request (the store copies their bytes).
      forEachBatchItem(request.body, (item) => {
        messages.push({
          topic: target.topic,
          queueId: target.queueId,
          flag: item.flag,
          body: item.body,
          properties: item.properties,
          sysFlag: header.sysFlag,
          bornTimestamp: header.bornTimestamp,
          bornHost,
          reconsumeTimes: header.reconsumeTimes ?? 0,
          preparedTransactionOffset: 0,
          slot: target.state?.slot,
        });
      });
    } catch (error) {
      return errorResponse(request, error);
    }
    if (messages.length === 0) {
      return reply(request, ResponseCode.MESSAGE_ILLEGAL, 'the batch holds no message');
    }
    let put: PutResult | Promise<PutResult>;
    try {
      put = this.ctx.store.putMessagesNow(messages);
    } catch (error) {
      return errorResponse(request, error);
    }
    return this.finishPut(request, put, target, startMs);
  }

  private countPut(target: SendTarget, result: PutResult, startMs: number): void {
    const traffic = target.state?.traffic ?? this.stats.topic(target.topic);
    this.stats.onPut(traffic, result, startMs);
  }

  private answer(request: RemotingCommand, result: PutResult, queueId: number): RemotingCommand {
    const { code, remark } = putStatusToCode(result.status);
    if (code !== ResponseCode.SUCCESS && code !== ResponseCode.FLUSH_DISK_TIMEOUT) {
      return reply(request, code, remark);
    }
    const appended = result.appended;
    if (appended.length === 0) {
      return reply(request, ResponseCode.SYSTEM_ERROR, 'the store accepted no message');
    }
    let msgId = this.ctx.msgIdEncoder.encode(appended[0]!.physicalOffset);
    for (let i = 1; i < appended.length; i++) {
      msgId += ',' + this.ctx.msgIdEncoder.encode(appended[i]!.physicalOffset);
    }
    return createResponse(request, code, remark, {
      msgId,
      queueId: String(queueId),
      queueOffset: String(appended[0]!.queueOffset),
    });
  }

  /**
   * Checks the topic and queue, creating the topic when allowed; redirects retries that used up
   * their attempts to the group's dead-letter topic. Returns the target or an error response.
   */
  private resolveTarget(
    request: RemotingCommand,
    header: SendMessageRequestHeader,
  ): SendTarget | RemotingCommand {
    const nameProblem = checkTopicName(header.topic);
    if (nameProblem) return reply(request, ResponseCode.MESSAGE_ILLEGAL, nameProblem);
    const topics = this.ctx.topicConfigManager;
    let topic = header.topic;
    let state = this.states.get(topic);
    let config: TopicConfig | undefined = state?.config;
    if (!config && topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      const group = this.ctx.subscriptionGroupManager.findSubscriptionGroupConfig(
        topic.slice(RETRY_GROUP_TOPIC_PREFIX.length),
      );
      if (group) config = topics.createTopicIfAbsent(topic, group.retryQueueNums, PERM_READ_WRITE);
    }
    if (!config) {
      config = topics.createTopicInSendMessageMethod(
        topic,
        header.defaultTopic,
        header.defaultTopicQueueNums,
        0,
      );
    }
    if (state === undefined && config) state = this.states.get(topic);
    if (!config) {
      return reply(
        request,
        ResponseCode.TOPIC_NOT_EXIST,
        `topic[${topic}] does not exist on broker ${this.ctx.config.brokerName} and autoCreateTopicEnable is off; create it first (UPDATE_AND_CREATE_TOPIC)`,
      );
    }
    if (!isWriteable(config.perm)) {
      return reply(
        request,
        ResponseCode.NO_PERMISSION,
        `topic[${topic}] on broker ${this.ctx.config.brokerName} is not writable (perm ${config.perm})`,
      );
    }
    let queueId = header.queueId;
    if (queueId < 0) queueId = Math.floor(Math.random() * config.writeQueueNums);
    if (queueId >= config.writeQueueNums) {
      return reply(
        request,
        ResponseCode.SYSTEM_ERROR,
        `queueId[${queueId}] is illegal: topic[${topic}] has ${config.writeQueueNums} write queues on broker ${this.ctx.config.brokerName}`,
      );
    }
    if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      const groupName = topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
      const group = this.ctx.subscriptionGroupManager.findSubscriptionGroupConfig(groupName);
      const maxTimes = header.maxReconsumeTimes ?? group?.retryMaxTimes ?? 16;
      if ((header.reconsumeTimes ?? 0) >= maxTimes) {
        topic = dlqTopicOf(groupName);
        // Write-only, as RocketMQ: subscriptions cannot read a dead-letter topic.
        topics.createTopicIfAbsent(topic, 1, PERM_WRITE);
        state = this.states.get(topic);
        queueId = 0;
      }
    }
    return { topic, queueId, state };
  }
}
