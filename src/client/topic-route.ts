/**
 * Queue lists derived from a topic route: the writable queues a producer may send to and the
 * readable queues a consumer may pull from.
 */
import { Perm } from '../protocol/headers/topic.js';
import { MASTER_BROKER_ID, type TopicRouteData } from '../protocol/route-data.js';
import type { MessageQueue } from './message-queue.js';
import { compareQueues, messageQueue } from './message-queue.js';

/** Master address of `brokerName` in `route`, if it has one. */
export function masterAddrOf(route: TopicRouteData, brokerName: string): string | undefined {
  return route.brokerDatas.find((b) => b.brokerName === brokerName)?.brokerAddrs[
    String(MASTER_BROKER_ID)
  ];
}

/**
 * Writable queues of a topic, sorted: for each broker whose queue data has the write bit and
 * that has a master, queue ids `0..writeQueueNums-1`. A non-empty `orderTopicConf`
 * (`"brokerName:count;…"`) overrides the queue data.
 */
export function publishQueues(topic: string, route: TopicRouteData): MessageQueue[] {
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

/** Readable queues of a topic, sorted: ids `0..readQueueNums-1` of every readable broker. */
export function subscribeQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const q of route.queueDatas) {
    if ((q.perm & Perm.READ) === 0) continue;
    for (let id = 0; id < q.readQueueNums; id++) out.push(messageQueue(topic, q.brokerName, id));
  }
  return out.sort(compareQueues);
}
