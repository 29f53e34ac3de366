/**
 * Reads a topic's messages straight from its queues with plain pulls, without joining a consumer
 * group: no heartbeat (so no `%RETRY%` topic is created) and no committed offsets. Used by
 * `sluice message consume|query --since`, `sluice dlq resend` and the dashboard's time-range
 * search. Pulls name the fixed group {@link READER_GROUP} and carry their own subscription.
 */
import type { Admin } from '../client/admin.js';
import { MQClientError } from '../client/errors.js';
import type { ReceivedMessage } from '../client/message.js';
import type { MessageQueue } from '../client/message-queue.js';
import { decodeMessages } from '../client/received-message.js';
import { parseSubscription, tagMatches } from '../client/subscription.js';
import { masterAddrOf, subscribeQueues } from '../client/topic-route.js';
import { PullSysFlag } from '../protocol/headers/pull-message.js';
import { ResponseCode } from '../protocol/response-code.js';

/** The read bit of a topic's permission. */
const PERM_READ = 4;

/** Consumer group named in the reader's pulls (it never commits offsets). */
export const READER_GROUP = 'SLUICE_ADMIN_READER';

/** Where reading starts in every queue. */
export type ReadStart = 'beginning' | 'end' | { timestampMs: number };

/** Options of {@link readTopic}. */
export interface ReadTopicOptions {
  /** Tag expression (`*`, `A || B`). Default `*`. */
  expression?: string;
  /** Where to start. Default `beginning`. */
  start?: ReadStart;
  /** Stop after this many messages. Default unlimited. */
  limit?: number;
  /** Only messages stored before this time (ms); stops a queue at the first later message. */
  untilTimestampMs?: number;
  /** Keep waiting for new messages (long polling) until `signal` aborts. */
  follow?: boolean;
  /** Stops a follow. */
  signal?: AbortSignal;
  /** Long-poll hold per pull when following. Default 2000 ms. */
  suspendMs?: number;
}

interface QueueCursor {
  mq: MessageQueue;
  addr: string;
  offset: number;
  /** End offset when not following (the queue's max offset at the start). */
  endOffset: number;
  done: boolean;
}

async function startOffset(admin: Admin, addr: string, mq: MessageQueue, start: ReadStart) {
  const api = admin.client.api;
  const timeoutMs = admin.client.requestTimeoutMs;
  if (start === 'beginning') return api.getMinOffset(addr, mq, timeoutMs);
  if (start === 'end') return api.getMaxOffset(addr, mq, timeoutMs);
  return api.searchOffset(addr, mq, start.timestampMs, timeoutMs);
}

/**
 * Calls `onMessage` for every matching message of `topic`, queue by queue in offset order (all
 * queues in parallel when following). Resolves when every queue reached its end (or `limit`), or
 * when a follow is aborted.
 */
export async function readTopic(
  admin: Admin,
  topic: string,
  options: ReadTopicOptions,
  onMessage: (msg: ReceivedMessage) => void | Promise<void>,
): Promise<number> {
  const route = await admin.topicRoute(topic);
  if (!route) throw new MQClientError('NOT_FOUND', `topic '${topic}' does not exist`);
  const expression = options.expression ?? '*';
  const sub = parseSubscription(topic, expression);
  const limit = options.limit ?? Infinity;
  const follow = options.follow ?? false;
  const api = admin.client.api;
  const timeoutMs = admin.client.requestTimeoutMs;
  const cursors: QueueCursor[] = [];
  for (const mq of subscribeQueues(topic, route)) {
    const addr = masterAddrOf(route, mq.brokerName);
    if (!addr) continue;
    const offset = await startOffset(admin, addr, mq, options.start ?? 'beginning');
    const endOffset = follow ? Infinity : await api.getMaxOffset(addr, mq, timeoutMs);
    cursors.push({ mq, addr, offset, endOffset, done: offset >= endOffset });
  }
  if (cursors.length === 0 && route.queueDatas.some((q) => (q.perm & PERM_READ) === 0)) {
    throw new MQClientError(
      'BROKER_ERROR',
      `topic '${topic}' is not readable (perm has no read bit)`,
      {
        responseCode: ResponseCode.NO_PERMISSION,
      },
    );
  }
  let delivered = 0;
  const stopped = (): boolean => delivered >= limit || options.signal?.aborted === true;

  const pullQueue = async (c: QueueCursor): Promise<void> => {
    while (!c.done && !stopped()) {
      const suspendMs = follow ? (options.suspendMs ?? 2000) : 0;
      let result;
      try {
        result = await api.pullMessage(
          c.addr,
          {
            consumerGroup: READER_GROUP,
            topic,
            queueId: c.mq.queueId,
            queueOffset: c.offset,
            maxMsgNums: 32,
            sysFlag: PullSysFlag.SUBSCRIPTION | (follow ? PullSysFlag.SUSPEND : 0),
            commitOffset: 0,
            suspendTimeoutMillis: suspendMs,
            subscription: sub.subString,
            subVersion: 0,
            expressionType: 'TAG',
          },
          suspendMs + timeoutMs,
        );
      } catch (err) {
        if (options.signal?.aborted) return;
        throw err;
      }
      if (result.status === 'FOUND') {
        for (const msg of decodeMessages(result.body, c.mq, c.mq.brokerName)) {
          if (msg.queueOffset >= c.endOffset) {
            c.done = true;
            break;
          }
          if (
            options.untilTimestampMs !== undefined &&
            msg.storeTimestampMs > options.untilTimestampMs
          ) {
            c.done = true;
            break;
          }
          if (!tagMatches(sub, msg.tags)) continue;
          if (stopped()) return;
          delivered++;
          await onMessage(msg);
        }
      } else if (result.status === 'OFFSET_ILLEGAL') {
        if (result.nextBeginOffset === c.offset) c.done = !follow;
      } else if (!follow) {
        c.done = true;
      }
      c.offset = Math.max(c.offset, result.nextBeginOffset);
      if (c.offset >= c.endOffset) c.done = true;
    }
  };

  if (follow) {
    await Promise.all(cursors.map(pullQueue));
  } else {
    for (const c of cursors) await pullQueue(c);
  }
  return delivered;
}
