/**
 * Topic routes as the name server reports them, and the queue lists derived from them: the
 * writable queues a producer may send to and the readable queues a consumer may pull from.
 */
import { SluiceError } from '../common/errors.js';
import type { MessageQueue } from './message-queue.js';
import { compareQueues, messageQueue } from './message-queue.js';

/** Permission bits of a topic on a broker. */
export const Perm = {
  /** Queues are readable. */
  READ: 4,
  /** Queues are writable. */
  WRITE: 2,
  /** Inherits permission (used by the default topic). */
  INHERIT: 1,
} as const;

/** One broker replica set in a route: id 0 is the master. */
export interface RouteBrokerData {
  /** Cluster the broker belongs to. */
  cluster: string;
  /** Broker name (shared by master and slaves). */
  brokerName: string;
  /** Broker id (as a decimal string) → `host:port`; `"0"` is the master. */
  brokerAddrs: Record<string, string>;
}

/** The queues a topic has on one broker. */
export interface RouteQueueData {
  /** Broker name. */
  brokerName: string;
  /** Number of readable queues (ids 0..n-1). */
  readQueueNums: number;
  /** Number of writable queues (ids 0..n-1). */
  writeQueueNums: number;
  /** Permission bits, see {@link Perm}. */
  perm: number;
  /** Topic system flag. */
  topicSysFlag: number;
}

/** A topic's route. */
export interface TopicRoute {
  /** Per-broker queue counts. */
  queueDatas: RouteQueueData[];
  /** Brokers and their addresses. */
  brokerDatas: RouteBrokerData[];
  /** Optional ordered-topic configuration `"brokerName:count;…"`. */
  orderTopicConf?: string;
}

function asNumber(value: unknown, fallback: number): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return fallback;
}

/**
 * Normalises a parsed route body (standard JSON, or fastjson with numeric map keys after
 * relaxed parsing) into a {@link TopicRoute}.
 * @throws SluiceError `PROTOCOL_ERROR` when the shape is not a route.
 */
export function toTopicRoute(raw: unknown): TopicRoute {
  if (typeof raw !== 'object' || raw === null) {
    throw new SluiceError('PROTOCOL_ERROR', 'topic route body is not a JSON object');
  }
  const r = raw as Record<string, unknown>;
  const queueDatasRaw = Array.isArray(r.queueDatas) ? r.queueDatas : [];
  const brokerDatasRaw = Array.isArray(r.brokerDatas) ? r.brokerDatas : [];
  const queueDatas: RouteQueueData[] = queueDatasRaw.map((q) => {
    const o = (q ?? {}) as Record<string, unknown>;
    return {
      brokerName: String(o.brokerName ?? ''),
      readQueueNums: asNumber(o.readQueueNums, 0),
      writeQueueNums: asNumber(o.writeQueueNums, 0),
      perm: asNumber(o.perm, Perm.READ | Perm.WRITE),
      topicSysFlag: asNumber(o.topicSysFlag ?? o.topicSynFlag, 0),
    };
  });
  const brokerDatas: RouteBrokerData[] = brokerDatasRaw.map((b) => {
    const o = (b ?? {}) as Record<string, unknown>;
    const addrs: Record<string, string> = {};
    const rawAddrs = (o.brokerAddrs ?? {}) as Record<string, unknown>;
    for (const [id, addr] of Object.entries(rawAddrs)) {
      if (typeof addr === 'string' && addr) addrs[String(id)] = addr;
    }
    return {
      cluster: String(o.cluster ?? ''),
      brokerName: String(o.brokerName ?? ''),
      brokerAddrs: addrs,
    };
  });
  const route: TopicRoute = { queueDatas, brokerDatas };
  if (typeof r.orderTopicConf === 'string' && r.orderTopicConf) {
    route.orderTopicConf = r.orderTopicConf;
  }
  return route;
}

/** Master address of `brokerName` in `route`, if it has one. */
export function masterAddrOf(route: TopicRoute, brokerName: string): string | undefined {
  return route.brokerDatas.find((b) => b.brokerName === brokerName)?.brokerAddrs['0'];
}

/**
 * Writable queues of a topic, sorted: for each broker whose queue data has the write bit and
 * that has a master, queue ids `0..writeQueueNums-1`. A non-empty `orderTopicConf` overrides
 * the queue data.
 */
export function publishQueues(topic: string, route: TopicRoute): MessageQueue[] {
  const out: MessageQueue[] = [];
  if (route.orderTopicConf) {
    for (const item of route.orderTopicConf.split(';')) {
      const [name, count] = item.split(':');
      const n = Number(count);
      if (!name || !Number.isInteger(n)) continue;
      for (let id = 0; id < n; id++) out.push(messageQueue(topic, name, id));
    }
    return out;
  }
  for (const q of route.queueDatas) {
    if ((q.perm & Perm.WRITE) === 0) continue;
    if (!masterAddrOf(route, q.brokerName)) continue;
    for (let id = 0; id < q.writeQueueNums; id++) out.push(messageQueue(topic, q.brokerName, id));
  }
  return out.sort(compareQueues);
}

/** Readable queues of a topic, sorted: queue ids `0..readQueueNums-1` of every readable broker. */
export function subscribeQueues(topic: string, route: TopicRoute): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const q of route.queueDatas) {
    if ((q.perm & Perm.READ) === 0) continue;
    for (let id = 0; id < q.readQueueNums; id++) out.push(messageQueue(topic, q.brokerName, id));
  }
  return out.sort(compareQueues);
}
