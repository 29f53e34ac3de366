/**
 * A message queue: one (topic, broker, queue id) triple. Queues are the unit of ordering, of
 * consumer assignment and of offsets.
 */

/** Identifies one queue of a topic on one broker. */
export interface MessageQueue {
  /** Topic name. */
  readonly topic: string;
  /** Name of the broker (replica set) holding the queue. */
  readonly brokerName: string;
  /** Queue id within the topic on that broker. */
  readonly queueId: number;
}

/** Stable string key of a queue, for maps: `topic@brokerName@queueId`. */
export function queueKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

/** Orders queues by topic, then broker name, then queue id (RocketMQ's sort order). */
export function compareQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/**
 * Creates a frozen queue value (filled in field by field, not written as an object literal:
 * see createRequest() in src/protocol/remoting-command.ts).
 */
export function messageQueue(topic: string, brokerName: string, queueId: number): MessageQueue {
  const q = {} as { topic: string; brokerName: string; queueId: number };
  q.topic = topic;
  q.brokerName = brokerName;
  q.queueId = queueId;
  return Object.freeze(q);
}

/** True when both describe the same queue. */
export function sameQueue(a: MessageQueue, b: MessageQueue): boolean {
  return a.queueId === b.queueId && a.brokerName === b.brokerName && a.topic === b.topic;
}
