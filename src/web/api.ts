/**
 * The dashboard's JSON API under `/api` (documented in the README). Cluster-wide questions go
 * through the SDK's {@link Admin} (the same answers `sluice` CLI prints); figures only this
 * broker knows (store, traffic counters, rate history, online members) are read in process.
 * Write actions answer 403 unless the broker runs with `httpWriteEnable=true`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BrokerController } from '../broker/broker-controller.js';
import { brokerStatsOf } from '../broker/broker-stats.js';
import type { Admin } from '../client/admin.js';
import type { ReceivedMessage } from '../client/message.js';
import type { Producer } from '../client/producer.js';
import { resendMessage } from './dlq.js';
import { listGroups } from './groups.js';
import {
  HttpError,
  optionalInt,
  readJsonBody,
  requireString,
  sendError,
  sendJson,
} from './http-util.js';
import { messageView } from './message-view.js';
import { diskUsage, groupLags } from './metrics.js';
import type { RateHistory } from './rate-history.js';
import { readTopic } from './topic-reader.js';

/** What the API needs from the server. */
export interface ApiContext {
  broker: BrokerController;
  admin: Admin;
  /** A started producer (created on first use). */
  producer: () => Promise<Producer>;
  rates: RateHistory;
  writeEnable: boolean;
}

type Handler = (
  ctx: ApiContext,
  params: string[],
  query: URLSearchParams,
  req: IncomingMessage,
) => Promise<unknown>;

interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  write: boolean;
  handler: Handler;
}

const SEGMENT = '([^/]+)';

function route(method: Route['method'], path: string, handler: Handler, write = false): Route {
  return { method, pattern: new RegExp(`^${path.replaceAll(':p', SEGMENT)}$`), write, handler };
}

async function overview(ctx: ApiContext): Promise<unknown> {
  const { broker, admin } = ctx;
  const cluster = await admin.clusterInfo();
  const brokers = await Promise.all(
    Object.values(cluster.brokerAddrTable).flatMap((b) =>
      Object.entries(b.brokerAddrs).map(async ([id, addr]) => {
        let runtime: Record<string, string> | { error: string };
        try {
          runtime = await admin.brokerRuntimeInfo(addr);
        } catch (error) {
          runtime = { error: (error as Error).message };
        }
        return {
          cluster: b.cluster,
          brokerName: b.brokerName,
          brokerId: Number(id),
          addr,
          runtime,
        };
      }),
    ),
  );
  const stats = broker.store.stats();
  const traffic = brokerStatsOf(broker.store);
  return {
    clusters: cluster.clusterAddrTable,
    brokers,
    local: {
      brokerName: broker.config.brokerName,
      addr: broker.address,
      connections: broker.connectionCount,
      heldPulls: broker.heldPullCount,
      topics: broker.topicConfigManager.size,
      messagesIn: traffic.messagesIn,
      messagesOut: traffic.messagesOut,
      bytesIn: traffic.bytesIn,
      bytesOut: traffic.bytesOut,
      diskUsedRatio: stats.diskUsedRatio,
      disk: diskUsage(broker.store.config.storePath),
      storeSizeBytes: stats.segments.reduce((sum, s) => sum + s.sizeBytes, 0),
      writable: stats.writable,
    },
  };
}

function topicList(ctx: ApiContext): unknown {
  const { broker } = ctx;
  const traffic = brokerStatsOf(broker.store);
  const out = [];
  for (const config of broker.topicConfigManager.allTopicConfigs()) {
    let messages = 0;
    for (let q = 0; q < config.writeQueueNums; q++) {
      messages +=
        broker.store.getMaxOffsetInQueue(config.topicName, q) -
        broker.store.getMinOffsetInQueue(config.topicName, q);
    }
    const t = traffic.topics.get(config.topicName);
    out.push({
      topic: config.topicName,
      readQueueNums: config.readQueueNums,
      writeQueueNums: config.writeQueueNums,
      perm: config.perm,
      order: config.order,
      messages,
      messagesIn: t?.messagesIn ?? 0,
      messagesOut: t?.messagesOut ?? 0,
    });
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic));
}

async function topicDetail(ctx: ApiContext, [topic]: string[]): Promise<unknown> {
  const route = await ctx.admin.topicRoute(topic!);
  if (!route) throw new HttpError(404, `topic '${topic}' does not exist`);
  const queues = await ctx.admin.topicStats(topic!);
  return {
    topic,
    route,
    queues: queues.map((q) => ({
      brokerName: q.queue.brokerName,
      queueId: q.queue.queueId,
      minOffset: q.minOffset,
      maxOffset: q.maxOffset,
      lastUpdateTimestamp: q.lastUpdateTimestamp,
    })),
    groups: ctx.broker.consumerOffsetManager.groupsOfTopic(topic!),
  };
}

async function groupDetail(ctx: ApiContext, [group]: string[]): Promise<unknown> {
  const progress = await ctx.admin.consumerProgress(group!).catch((error: Error) => ({
    group,
    queues: [],
    totalLag: 0,
    consumeTps: 0,
    error: error.message,
  }));
  const info = ctx.broker.consumerManager.getConsumerGroupInfo(group!);
  return {
    group,
    progress: {
      ...progress,
      queues: progress.queues.map((q) => ({
        topic: q.queue.topic,
        brokerName: q.queue.brokerName,
        queueId: q.queue.queueId,
        brokerOffset: q.brokerOffset,
        consumerOffset: q.consumerOffset,
        lag: q.lag,
        lastTimestamp: q.lastTimestamp,
      })),
    },
    online: info !== undefined,
    consumeType: info?.consumeType ?? null,
    messageModel: info?.messageModel ?? null,
    members: info
      ? [...info.channels.values()].map((c) => ({
          clientId: c.clientId,
          clientAddr: c.clientAddr,
          language: c.language,
          version: c.version,
          lastUpdateTimestamp: c.lastUpdateTimestamp,
        }))
      : [],
    subscriptions: info
      ? [...info.subscriptions.values()].map((s) => ({ topic: s.topic, expression: s.subString }))
      : [],
  };
}

async function searchMessages(ctx: ApiContext, _p: string[], q: URLSearchParams) {
  const id = q.get('id');
  const topic = q.get('topic') ?? undefined;
  const max = Math.min(optionalInt(q.get('max'), 'max') ?? 64, 1000);
  if (id) {
    const msg = await ctx.admin.queryMessageById(id, topic);
    return { messages: msg ? [messageView(msg)] : [] };
  }
  if (!topic) throw new HttpError(400, "give 'id', or 'topic' with 'key' or a time range");
  const key = q.get('key');
  const begin = optionalInt(q.get('begin'), 'begin');
  const end = optionalInt(q.get('end'), 'end');
  if (key) {
    const found = await ctx.admin.queryMessageByKey(topic, key, {
      maxNum: max,
      beginTimestampMs: begin,
      endTimestampMs: end,
    });
    return { messages: found.map(messageView) };
  }
  const found: ReceivedMessage[] = [];
  await readTopic(
    ctx.admin,
    topic,
    {
      start: begin === undefined ? 'beginning' : { timestampMs: begin },
      untilTimestampMs: end,
      limit: max,
    },
    (msg) => void found.push(msg),
  );
  found.sort((a, b) => a.storeTimestampMs - b.storeTimestampMs);
  return { messages: found.map(messageView) };
}

function storeInfo(ctx: ApiContext): unknown {
  const { broker } = ctx;
  const s = broker.store.stats();
  const c = broker.store.config;
  return {
    storePath: c.storePath,
    backend: c.backend,
    flushMode: c.flushMode,
    segmentSizeBytes: c.commitLogSegmentSizeBytes,
    minPhysicalOffset: s.minPhysicalOffset,
    writtenOffset: s.maxPhysicalOffset,
    flushedOffset: s.flushedPhysicalOffset,
    dispatchedOffset: s.dispatchedPhysicalOffset,
    unflushedBytes: s.maxPhysicalOffset - s.flushedPhysicalOffset,
    dispatchLagBytes: s.maxPhysicalOffset - s.dispatchedPhysicalOffset,
    putMessageCount: s.putMessageCount,
    putMessageBytes: s.putMessageBytes,
    diskUsedRatio: s.diskUsedRatio,
    disk: diskUsage(c.storePath),
    writable: s.writable,
    segments: s.segments.map((seg) => ({
      ...seg,
      endOffset: seg.startOffset + seg.sizeBytes,
      flushedBytes: Math.max(0, Math.min(seg.sizeBytes, s.flushedPhysicalOffset - seg.startOffset)),
    })),
  };
}

const ROUTES: Route[] = [
  route('GET', '/api/info', async (ctx) => ({
    brokerName: ctx.broker.config.brokerName,
    brokerAddr: ctx.broker.address,
    clusterName: ctx.broker.config.brokerClusterName,
    namesrvAddr: ctx.broker.config.namesrvAddr,
    writeEnable: ctx.writeEnable,
  })),
  route('GET', '/api/overview', overview),
  route('GET', '/api/rates', async (ctx, _p, q) =>
    ctx.rates.series(optionalInt(q.get('seconds'), 'seconds') ?? Infinity),
  ),
  route('GET', '/api/topics', async (ctx) => topicList(ctx)),
  route('GET', '/api/topics/:p', topicDetail),
  route(
    'POST',
    '/api/topics',
    async (ctx, _p, _q, req) => {
      const body = await readJsonBody(req);
      const topic = requireString(body.topic, 'topic');
      await ctx.admin.createTopic(topic, {
        queueNums: optionalInt(body.queueNums, 'queueNums') ?? 8,
        order: body.order === true,
      });
      return { created: topic };
    },
    true,
  ),
  route(
    'DELETE',
    '/api/topics/:p',
    async (ctx, [topic]) => {
      await ctx.admin.deleteTopic(topic!);
      brokerStatsOf(ctx.broker.store).forgetTopic(topic!);
      return { deleted: topic };
    },
    true,
  ),
  route(
    'POST',
    '/api/topics/:p/messages',
    async (ctx, [topic], _q, req) => {
      const body = await readJsonBody(req);
      const producer = await ctx.producer();
      const sent = await producer.send({
        topic: topic!,
        body: typeof body.body === 'string' ? body.body : JSON.stringify(body.body ?? ''),
        tags: typeof body.tags === 'string' && body.tags ? body.tags : undefined,
        keys: typeof body.keys === 'string' && body.keys ? body.keys.split(/\s+/) : undefined,
      });
      return { ...sent };
    },
    true,
  ),
  route('GET', '/api/groups', async (ctx) => {
    const lags = groupLags(ctx.broker);
    const groups = await listGroups(ctx.admin, ctx.broker);
    return groups.map((group) => {
      const info = ctx.broker.consumerManager.getConsumerGroupInfo(group);
      return {
        group,
        members: info ? info.channels.size : 0,
        topics: lags.filter((l) => l.group === group).map((l) => l.topic),
        lag: lags.filter((l) => l.group === group).reduce((sum, l) => sum + l.lag, 0),
      };
    });
  }),
  route('GET', '/api/groups/:p', groupDetail),
  route(
    'POST',
    '/api/groups/:p/reset-offset',
    async (ctx, [group], _q, req) => {
      const body = await readJsonBody(req);
      const topic = requireString(body.topic, 'topic');
      const timestampMs = optionalInt(body.timestampMs, 'timestampMs');
      if (timestampMs === undefined) throw new HttpError(400, "'timestampMs' is required");
      const result = await ctx.admin.resetOffsetByTimestamp(group!, topic, timestampMs);
      return {
        group,
        topic,
        queues: [...result.values()].map((r) => ({
          brokerName: r.queue.brokerName,
          queueId: r.queue.queueId,
          offset: r.offset,
        })),
      };
    },
    true,
  ),
  route('GET', '/api/messages', searchMessages),
  route(
    'POST',
    '/api/messages/resend',
    async (ctx, _p, _q, req) => {
      const body = await readJsonBody(req);
      const id = requireString(body.id, 'id');
      const dlqTopic = typeof body.topic === 'string' && body.topic ? body.topic : undefined;
      return resendMessage(ctx.admin, await ctx.producer(), id, { dlqTopic });
    },
    true,
  ),
  route('GET', '/api/store', async (ctx) => storeInfo(ctx)),
];

/** Answers an `/api/...` request. */
export async function handleApi(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    const method = req.method ?? 'GET';
    let matchedPath = false;
    for (const r of ROUTES) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      matchedPath = true;
      if (r.method !== method) continue;
      if (r.write && !ctx.writeEnable) {
        throw new HttpError(
          403,
          'the dashboard is read-only: start the broker with httpWriteEnable=true to allow changes',
        );
      }
      const params = m.slice(1).map((p) => decodeURIComponent(p));
      sendJson(res, 200, await r.handler(ctx, params, url.searchParams, req));
      return;
    }
    throw new HttpError(
      matchedPath ? 405 : 404,
      matchedPath ? `${method} is not allowed on ${url.pathname}` : `no API at ${url.pathname}`,
    );
  } catch (error) {
    sendError(res, error);
  }
}
