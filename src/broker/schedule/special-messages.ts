/**
 * Messages that are not delivered where the producer sent them, at least not yet:
 *
 * | trigger (property / sysFlag)                                   | stored in                         | queue     |
 * |----------------------------------------------------------------|-----------------------------------|-----------|
 * | sysFlag transaction bits = PREPARED (0x4)                      | `RMQ_SYS_TRANS_HALF_TOPIC`        | 0         |
 * | `DELAY` = level > 0                                            | `SCHEDULE_TOPIC_XXXX`             | level - 1 |
 * | `TIMER_DELIVER_MS`, `TIMER_DELAY_MS`, `TIMER_DELAY_SEC`, `__STARTDELIVERTIME` | `rmq_sys_wheel_timer` | 0 |
 *
 * Each keeps the original topic and queue in `REAL_TOPIC` / `REAL_QID`. {@link routeSpecialMessage}
 * rewrites a message on the send path; {@link restoreRealMessage} builds the message that finally
 * goes to the real topic (delay and timer delivery, transaction commit).
 */
import type { DecodedMessage } from '../../common/codec/decoded-message.js';
import {
  SYSFLAG_TRANSACTION_MASK,
  SYSFLAG_TRANSACTION_PREPARED,
} from '../../common/codec/message-record.js';
import { encodeProperties, hasAnyProperty } from '../../common/codec/properties.js';
import { ipToBytes } from '../../protocol/message-id.js';
import type { HostAddress, MessageToStore } from '../../store/types.js';
import type { BrokerConfig } from '../broker-config.js';
import { parseDelayLevels } from '../delay-levels.js';
import { getProperty, withProperties } from '../message-properties.js';
import { DLQ_GROUP_TOPIC_PREFIX, SCHEDULE_TOPIC, TIMER_TOPIC, TRANS_HALF_TOPIC } from '../perm.js';

/** Property names used by delayed, timed and transactional messages. */
export const SpecialProperty = {
  DELAY: 'DELAY',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QID: 'REAL_QID',
  TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
  TIMER_DELAY_MS: 'TIMER_DELAY_MS',
  TIMER_DELAY_SEC: 'TIMER_DELAY_SEC',
  /** Absolute delivery time set by Aliyun ONS clients (ali-ons `setStartDeliverTime`). */
  START_DELIVER_TIME: '__STARTDELIVERTIME',
  /** The delivery time the broker computed for a timer message. */
  TIMER_OUT_MS: 'TIMER_OUT_MS',
  TRAN_MSG: 'TRAN_MSG',
  PRODUCER_GROUP: 'PGROUP',
  TRANSACTION_ID: '__transactionId__',
  UNIQ_KEY: 'UNIQ_KEY',
  TAGS: 'TAGS',
  RETRY_TOPIC: 'RETRY_TOPIC',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  RECONSUME_TIME: 'RECONSUME_TIME',
  DLQ_ORIGIN_TOPIC: 'DLQ_ORIGIN_TOPIC',
  DLQ_ORIGIN_MESSAGE_ID: 'DLQ_ORIGIN_MESSAGE_ID',
} as const;

/** Properties removed when a delayed or timed message reaches its real topic. */
export const DELAY_TRIGGER_PROPERTIES: readonly string[] = [
  SpecialProperty.DELAY,
  SpecialProperty.TIMER_DELIVER_MS,
  SpecialProperty.TIMER_DELAY_MS,
  SpecialProperty.TIMER_DELAY_SEC,
  SpecialProperty.START_DELIVER_TIME,
];

const utf8 = new TextDecoder();
const levelCache = new WeakMap<BrokerConfig, readonly number[]>();

/** The delay table of a broker config in ms (index 0 = level 1), parsed once per config. */
export function delayLevelsOf(config: BrokerConfig): readonly number[] {
  let levels = levelCache.get(config);
  if (!levels) {
    levels = parseDelayLevels(config.messageDelayLevel);
    levelCache.set(config, levels);
  }
  return levels;
}

function propertiesText(message: MessageToStore): string {
  return typeof message.properties === 'string'
    ? message.properties
    : utf8.decode(message.properties);
}

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : NaN;
}

/**
 * The absolute delivery time asked for by timer properties, `undefined` when none is set, or a
 * problem description when a value is not an integer.
 */
export function timerDeliverTimeMs(properties: string, nowMs: number): number | string | undefined {
  // First of these set wins, in this order.
  const at = positiveInt(getProperty(properties, SpecialProperty.TIMER_DELIVER_MS));
  if (at !== undefined) return timerValue(SpecialProperty.TIMER_DELIVER_MS, at, at);
  const ons = positiveInt(getProperty(properties, SpecialProperty.START_DELIVER_TIME));
  if (ons !== undefined) return timerValue(SpecialProperty.START_DELIVER_TIME, ons, ons);
  const ms = positiveInt(getProperty(properties, SpecialProperty.TIMER_DELAY_MS));
  if (ms !== undefined) return timerValue(SpecialProperty.TIMER_DELAY_MS, ms, nowMs + ms);
  const sec = positiveInt(getProperty(properties, SpecialProperty.TIMER_DELAY_SEC));
  if (sec !== undefined)
    return timerValue(SpecialProperty.TIMER_DELAY_SEC, sec, nowMs + sec * 1000);
  return undefined;
}

function timerValue(name: string, raw: number, deliverMs: number): number | string {
  return Number.isNaN(raw) ? `property ${name} must be an integer` : deliverMs;
}

/** Names whose presence may send a message to a system topic (delay level, timer). */
const ROUTING_NAMES: readonly string[] = [
  SpecialProperty.DELAY,
  SpecialProperty.TIMER_DELIVER_MS,
  SpecialProperty.START_DELIVER_TIME,
  SpecialProperty.TIMER_DELAY_MS,
  SpecialProperty.TIMER_DELAY_SEC,
];

/** REAL_TOPIC / REAL_QID of a message moved to a system topic. */
function realOf(message: MessageToStore): Record<string, string> {
  return {
    [SpecialProperty.REAL_TOPIC]: message.topic,
    [SpecialProperty.REAL_QID]: String(message.queueId),
  };
}

/**
 * Rewrites a message about to be stored when it is a half (prepared) transactional message, has
 * a delay level, or a delivery time in the future. Returns a problem (for a MESSAGE_ILLEGAL
 * answer) or undefined. Messages without any of these triggers are left untouched.
 */
export function routeSpecialMessage(
  message: MessageToStore,
  config: BrokerConfig,
  nowMs: number,
): string | undefined {
  const props = propertiesText(message);
  if ((message.sysFlag & SYSFLAG_TRANSACTION_MASK) === SYSFLAG_TRANSACTION_PREPARED) {
    message.properties = withProperties(props, {
      ...realOf(message),
      [SpecialProperty.TRAN_MSG]: 'true',
    });
    message.topic = TRANS_HALF_TOPIC;
    message.queueId = 0;
    // Stored as a normal message of the half topic so that it gets a ConsumeQueue entry.
    message.sysFlag &= ~SYSFLAG_TRANSACTION_MASK;
    return undefined;
  }
  if (props.length === 0 || message.topic.startsWith(DLQ_GROUP_TOPIC_PREFIX)) return undefined;
  // Most messages carry none of the triggers: one scan, nothing allocated.
  if (!hasAnyProperty(props, ROUTING_NAMES)) return undefined;
  const delayText = getProperty(props, SpecialProperty.DELAY);
  const level = delayText === undefined ? 0 : Number(delayText);
  if (delayText !== undefined && !Number.isInteger(level)) {
    return `property DELAY must be a delay level (an integer 1..${delayLevelsOf(config).length}), got "${delayText}"`;
  }
  if (level > 0) {
    const levels = delayLevelsOf(config);
    const clamped = Math.min(level, levels.length);
    message.properties = withProperties(props, {
      ...realOf(message),
      [SpecialProperty.DELAY]: String(clamped),
    });
    message.topic = SCHEDULE_TOPIC;
    message.queueId = clamped - 1;
    return undefined;
  }
  const deliverMs = timerDeliverTimeMs(props, nowMs);
  if (deliverMs === undefined) return undefined;
  if (typeof deliverMs === 'string') return deliverMs;
  if (deliverMs <= nowMs) return undefined;
  const maxMs = config.timerMaxDelaySec * 1000;
  if (deliverMs - nowMs > maxMs) {
    return `the delivery time ${new Date(deliverMs).toISOString()} is ${Math.round((deliverMs - nowMs) / 1000)} s away; this broker accepts at most timerMaxDelaySec=${config.timerMaxDelaySec} s: deliver sooner or raise timerMaxDelaySec`;
  }
  message.properties = withProperties(props, {
    ...realOf(message),
    [SpecialProperty.TIMER_OUT_MS]: String(deliverMs),
  });
  message.topic = TIMER_TOPIC;
  message.queueId = 0;
  return undefined;
}

/** `"a.b.c.d:port"` / `"[v6]:port"` back into record host bytes. */
export function parseHostAddress(text: string): HostAddress {
  const colon = text.lastIndexOf(':');
  let ip = text.slice(0, colon);
  if (ip.startsWith('[')) ip = ip.slice(1, -1);
  return { address: ipToBytes(ip), port: Number(text.slice(colon + 1)) };
}

/**
 * The message to store in the real topic for a decoded delayed / timed / half message. Removes
 * `strip` properties; `queueCount` maps REAL_QID into the topic's current write queues.
 * Returns undefined when the record carries no REAL_TOPIC (nothing to deliver).
 */
export function restoreRealMessage(
  original: DecodedMessage,
  strip: readonly string[],
  queueCount: (topic: string) => number,
  sysFlag = original.sysFlag,
  preparedTransactionOffset = original.preparedTransactionOffset,
): MessageToStore | undefined {
  const props = new Map(original.properties);
  const topic = props.get(SpecialProperty.REAL_TOPIC);
  if (topic === undefined || topic === '') return undefined;
  let queueId = Number(props.get(SpecialProperty.REAL_QID) ?? 0);
  if (!Number.isInteger(queueId) || queueId < 0) queueId = 0;
  const n = queueCount(topic);
  if (n > 0 && queueId >= n) queueId %= n;
  for (const name of strip) props.delete(name);
  return {
    topic,
    queueId,
    flag: original.flag,
    body: original.body,
    properties: encodeProperties(props),
    sysFlag,
    bornTimestamp: original.bornTimestamp,
    bornHost: parseHostAddress(original.bornHost),
    reconsumeTimes: original.reconsumeTimes,
    preparedTransactionOffset,
  };
}
