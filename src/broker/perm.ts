/**
 * Topic permission bits (RocketMQ's PermName) and the names of the topics and topic prefixes the
 * broker treats specially.
 */

/** Priority bit (informational; Sluice does not schedule by it). */
export const PERM_PRIORITY = 8;
/** Consumers may pull from the topic. */
export const PERM_READ = 4;
/** Producers may send to the topic. */
export const PERM_WRITE = 2;
/** Topics auto-created from this one inherit its settings (set on TBW102). */
export const PERM_INHERIT = 1;
/** Read + write: the usual permission of a topic. */
export const PERM_READ_WRITE = PERM_READ | PERM_WRITE;

/** True when `perm` lets consumers pull. */
export function isReadable(perm: number): boolean {
  return (perm & PERM_READ) !== 0;
}

/** True when `perm` lets producers send. */
export function isWriteable(perm: number): boolean {
  return (perm & PERM_WRITE) !== 0;
}

/** True when topics may be auto-created from a topic with `perm`. */
export function isInherited(perm: number): boolean {
  return (perm & PERM_INHERIT) !== 0;
}

/** The default topic from which producers' topics are auto-created. */
export const AUTO_CREATE_TOPIC_KEY = 'TBW102';
/** Where messages with a delay level wait (queue id = level - 1). */
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
/** Prepared (half) transactional messages. */
export const TRANS_HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
/** Commit/rollback markers of half messages. */
export const TRANS_OP_HALF_TOPIC = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
/** Messages waiting in the timer wheel (arbitrary delays). */
export const TIMER_TOPIC = 'rmq_sys_wheel_timer';
/** Prefix of a consumer group's retry topic: `%RETRY%<group>`. */
export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
/** Prefix of a consumer group's dead-letter topic: `%DLQ%<group>`. */
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';

/** Topics created at start-up that users may neither create nor delete. */
export const SYSTEM_TOPICS: readonly string[] = [
  AUTO_CREATE_TOPIC_KEY,
  SCHEDULE_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TIMER_TOPIC,
];

/** True for the broker's own topics. */
export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.includes(topic);
}

/** `%RETRY%<group>`. */
export function retryTopicOf(group: string): string {
  return RETRY_GROUP_TOPIC_PREFIX + group;
}

/** `%DLQ%<group>`. */
export function dlqTopicOf(group: string): string {
  return DLQ_GROUP_TOPIC_PREFIX + group;
}

/** Longest topic name: the V1 record stores the topic length in one signed byte. */
export const TOPIC_MAX_LENGTH = 127;
const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;

/**
 * Checks a topic name a client asked for. Returns `undefined` when valid, else the reason, ready
 * to use as a response remark.
 */
export function checkTopicName(topic: string | undefined): string | undefined {
  if (topic === undefined || topic === '') return 'the topic name is empty; set a topic';
  if (topic.length > TOPIC_MAX_LENGTH) {
    return `the topic name is ${topic.length} characters long; at most ${TOPIC_MAX_LENGTH} are allowed`;
  }
  if (!TOPIC_PATTERN.test(topic)) {
    return `the topic name "${topic}" contains illegal characters; use letters, digits, '%', '|', '_' and '-'`;
  }
  return undefined;
}
