/**
 * Re-sending a stored message (typically a dead-lettered one) to its original topic: the same
 * body, tag, keys, flag and user properties, without the properties the broker or the SDK set.
 */
import { MQClientError } from './errors.js';
import { MessageProperty, type Message, type ReceivedMessage } from './message.js';
import { DLQ_TOPIC_PREFIX, RETRY_TOPIC_PREFIX } from './received-message.js';

/** Properties the broker or the SDK set; not copied onto a resent message. */
const SYSTEM_PROPERTIES: ReadonlySet<string> = new Set([
  ...Object.values(MessageProperty),
  'REAL_TOPIC',
  'REAL_QID',
  'CLUSTER',
  'TRAN_MSG',
  'TRACE_ON',
  'MSG_REGION',
  '__STARTDELIVERTIME',
]);

/** The topic a dead-lettered message first went to, or undefined when not recorded. */
export function originalTopicOf(msg: ReceivedMessage): string | undefined {
  const retryTopic = msg.properties[MessageProperty.RETRY_TOPIC];
  if (retryTopic && !retryTopic.startsWith(RETRY_TOPIC_PREFIX)) return retryTopic;
  if (!msg.topic.startsWith(DLQ_TOPIC_PREFIX) && !msg.topic.startsWith(RETRY_TOPIC_PREFIX)) {
    return msg.topic;
  }
  return undefined;
}

/** The message to send again for a dead-lettered one. */
export function resendMessageOf(msg: ReceivedMessage, targetTopic?: string): Message {
  const topic = targetTopic ?? originalTopicOf(msg);
  if (!topic) {
    throw new MQClientError(
      'INVALID_ARGUMENT',
      `message ${msg.offsetMsgId} has no RETRY_TOPIC property; pass the target topic (--to-topic)`,
    );
  }
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(msg.properties)) {
    if (!SYSTEM_PROPERTIES.has(name)) properties[name] = value;
  }
  return {
    topic,
    body: msg.body,
    tags: msg.tags,
    keys: msg.keys.length > 0 ? msg.keys : undefined,
    properties,
    flag: msg.flag,
  };
}
