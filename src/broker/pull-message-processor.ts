/**
 * PULL_MESSAGE (11) with long polling. A pull reads up to `maxMsgNums` records from the queue
 * through the subscription's tag filter; found records go out as zero-copy slices of the log, or
 * copies of short runs gathered by the store (released once the socket wrote them). A pull that finds nothing and asks to be suspended is
 * parked in the {@link PullRequestHoldService} until a matching message is dispatched or its
 * suspend time passes, then re-run and answered.
 */
import {
  PullSysFlag,
  decodePullMessageRequestHeader,
  type PullMessageRequestHeader,
} from '../protocol/headers/pull-message.js';
import { createResponse, type RemotingCommand } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { GetStatus, MessageFilter } from '../store/types.js';
import type { BrokerContext } from './broker-context.js';
import { brokerStatsOf } from './broker-stats.js';
import { isReadable } from './perm.js';
import { PullRequestHoldService, type HeldPullRequest } from './pull-request-hold-service.js';
import { errorResponse, reply } from './responses.js';
import { TagMessageFilter, buildSubscriptionData } from './subscription-data.js';
import { compileSqlFilter } from './filter/sql-message-filter.js';

/**
 * Longest hold, whatever the client asks: ali-ons and Java clients time the pull out after 30 s
 * and a timeout resets the whole connection.
 */
export const MAX_SUSPEND_MS = 25_000;
const FILTER_CACHE_LIMIT = 1024;

/** A parked pull. */
interface HeldPull<C> extends HeldPullRequest {
  readonly conn: C;
  readonly request: RemotingCommand;
  readonly header: PullMessageRequestHeader;
}

function statusToCode(status: GetStatus, requestedOffset: number): number {
  switch (status) {
    case 'FOUND':
      return ResponseCode.SUCCESS;
    case 'NO_MATCHED_MESSAGE':
    case 'MESSAGE_WAS_REMOVING':
      return ResponseCode.PULL_RETRY_IMMEDIATELY;
    case 'NO_MATCHED_LOGIC_QUEUE':
    case 'NO_MESSAGE_IN_QUEUE':
      return requestedOffset !== 0 ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND;
    case 'OFFSET_FOUND_NULL':
    case 'OFFSET_OVERFLOW_ONE':
      return ResponseCode.PULL_NOT_FOUND;
    case 'OFFSET_OVERFLOW_BADLY':
    case 'OFFSET_TOO_SMALL':
      return ResponseCode.PULL_OFFSET_MOVED;
  }
}

/** Handles PULL_MESSAGE and owns the long-polling hold service. */
export class PullMessageProcessor<C extends object> {
  private readonly ctx: BrokerContext<C>;
  /** Parked pulls; the broker wires the store's dispatch events to it. */
  readonly holdService: PullRequestHoldService<HeldPull<C>>;
  private readonly filterCache = new Map<string, MessageFilter>();

  constructor(ctx: BrokerContext<C>) {
    this.ctx = ctx;
    this.holdService = new PullRequestHoldService<HeldPull<C>>((held) => this.wakeup(held));
  }

  /** PULL_MESSAGE entry point. */
  pullMessage(conn: C, request: RemotingCommand): RemotingCommand | null {
    let header: PullMessageRequestHeader;
    try {
      header = decodePullMessageRequestHeader(request.extFields);
    } catch (error) {
      return errorResponse(request, error);
    }
    const ctx = this.ctx;
    const group = ctx.subscriptionGroupManager.findSubscriptionGroupConfig(header.consumerGroup);
    if (!group) {
      return reply(
        request,
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `consumer group [${header.consumerGroup}] does not exist and autoCreateSubscriptionGroup is off`,
      );
    }
    if (!group.consumeEnable) {
      return reply(
        request,
        ResponseCode.NO_PERMISSION,
        `consumer group [${header.consumerGroup}] may not consume`,
      );
    }
    const topic = ctx.topicConfigManager.selectTopicConfig(header.topic);
    if (!topic) {
      return reply(
        request,
        ResponseCode.TOPIC_NOT_EXIST,
        `topic[${header.topic}] does not exist on broker ${ctx.config.brokerName}`,
      );
    }
    if (!isReadable(topic.perm)) {
      return reply(request, ResponseCode.NO_PERMISSION, `topic[${header.topic}] is not readable`);
    }
    if (header.queueId < 0 || header.queueId >= topic.readQueueNums) {
      return reply(
        request,
        ResponseCode.SYSTEM_ERROR,
        `queueId[${header.queueId}] is illegal: topic[${header.topic}] has ${topic.readQueueNums} read queues`,
      );
    }
    const filter = this.filterFor(header);
    if ('code' in filter) return reply(request, filter.code, filter.remark);

    if ((header.sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0) {
      ctx.consumerOffsetManager.commitOffset(
        header.consumerGroup,
        header.topic,
        header.queueId,
        header.commitOffset,
      );
    }
    return this.run(conn, request, header, filter, true);
  }

  private filterFor(
    header: PullMessageRequestHeader,
  ): MessageFilter | { code: number; remark: string } {
    let subString: string | undefined;
    let expressionType = header.expressionType;
    if ((header.sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) {
      subString = header.subscription;
    } else {
      const sub = this.ctx.consumerManager.findSubscriptionData(header.consumerGroup, header.topic);
      if (!sub) {
        return {
          code: ResponseCode.SUBSCRIPTION_NOT_EXIST,
          remark: `consumer group [${header.consumerGroup}] has no subscription to topic[${header.topic}]; send a heartbeat first or put the subscription in the pull`,
        };
      }
      subString = sub.subString;
      expressionType = sub.expressionType;
    }
    const sql = expressionType === 'SQL92';
    if (sql && !this.ctx.config.enablePropertyFilter) {
      return {
        code: ResponseCode.SUBSCRIPTION_PARSE_FAILED,
        remark:
          'this broker does not filter by SQL92 (enablePropertyFilter=false); subscribe with tags',
      };
    }
    const key = (sql ? 'SQL92\u0000' : '') + (subString ?? '*');
    let filter = this.filterCache.get(key);
    if (!filter) {
      if (this.filterCache.size >= FILTER_CACHE_LIMIT) this.filterCache.clear();
      if (sql) {
        const compiled = compileSqlFilter(subString ?? '');
        if ('remark' in compiled) {
          return { code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: compiled.remark };
        }
        filter = compiled;
      } else {
        filter = new TagMessageFilter(buildSubscriptionData(header.topic, key, 'TAG', 0));
      }
      this.filterCache.set(key, filter);
    }
    return filter;
  }

  /** Reads and answers; parks the pull instead when nothing was found and suspension is allowed. */
  private run(
    conn: C,
    request: RemotingCommand,
    header: PullMessageRequestHeader,
    filter: MessageFilter,
    allowSuspend: boolean,
  ): RemotingCommand | null {
    const ctx = this.ctx;
    const startMs = performance.now();
    const result = ctx.store.getMessage(
      header.topic,
      header.queueId,
      header.queueOffset,
      header.maxMsgNums,
      filter,
    );
    const code = statusToCode(result.status, header.queueOffset);
    if (
      code === ResponseCode.PULL_NOT_FOUND &&
      allowSuspend &&
      (header.sysFlag & PullSysFlag.SUSPEND) !== 0
    ) {
      const holdMs = ctx.config.longPollingEnable
        ? Math.min(Math.max(header.suspendTimeoutMillis, 0), MAX_SUSPEND_MS)
        : ctx.config.shortPollingTimeMills;
      const held: HeldPull<C> = {
        topic: header.topic,
        queueId: header.queueId,
        pullFromOffset: header.queueOffset,
        deadlineMs: Date.now() + holdMs,
        filter,
        conn,
        request,
        header,
      };
      this.holdService.hold(held);
      return null;
    }
    brokerStatsOf(ctx.store).onPull(
      header.topic,
      result.messageCount,
      result.slices?.totalBytes ?? 0,
      startMs,
    );
    const response = createResponse(request, code, undefined, {
      suggestWhichBrokerId: '0',
      nextBeginOffset: String(result.nextBeginOffset),
      minOffset: String(result.minOffset),
      maxOffset: String(result.maxOffset),
    });
    const slices = result.slices;
    if (code === ResponseCode.SUCCESS && slices) {
      ctx.transport.send(conn, response, slices.buffers, () => slices.release());
      return null;
    }
    slices?.release();
    if (code !== ResponseCode.SUCCESS) response.remark = result.status;
    return response;
  }

  private wakeup(held: HeldPull<C>): void {
    if (!this.ctx.transport.isOpen(held.conn)) return;
    let response: RemotingCommand | null;
    try {
      response = this.run(held.conn, held.request, held.header, held.filter, false);
    } catch (error) {
      response = errorResponse(held.request, error);
    }
    if (response) this.ctx.transport.send(held.conn, response);
  }

  /** Forgets the parked pulls of a closed connection. */
  dropConnection(conn: C): void {
    this.holdService.removeWhere((held) => held.conn === conn);
  }

  /** Answers every parked pull and stops parking. */
  shutdown(): void {
    this.holdService.shutdown();
  }
}
