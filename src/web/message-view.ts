/**
 * A received message as plain JSON for the dashboard API and `sluice message … --json`: ids,
 * queue position, times, properties, and the body as text, hex and (when it parses) JSON.
 */
import type { ReceivedMessage } from '../client/message.js';

/** Most body bytes shown as hex. */
const HEX_LIMIT_BYTES = 4096;

/** The JSON shape of a message. */
export interface MessageView {
  msgId: string;
  offsetMsgId: string;
  topic: string;
  /** Queue the message was read from (the `%RETRY%`/`%DLQ%` topic for redeliveries). */
  queueTopic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  tags: string | null;
  keys: string[];
  bornTimestampMs: number;
  storeTimestampMs: number;
  bornHost: string;
  storeHost: string;
  reconsumeTimes: number;
  storeSizeBytes: number;
  properties: Record<string, string>;
  bodySizeBytes: number;
  /** UTF-8 decoding of the body (replacement characters where it is not UTF-8). */
  bodyText: string;
  /** Hex of the first 4 KiB of the body. */
  bodyHex: string;
  bodyBase64: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  bodyJson: unknown;
}

/** Builds the JSON view of a message. */
export function messageView(msg: ReceivedMessage): MessageView {
  const text = msg.body.toString('utf8');
  let json: unknown = null;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  return {
    msgId: msg.msgId,
    offsetMsgId: msg.offsetMsgId,
    topic: msg.topic,
    queueTopic: msg.queue.topic,
    brokerName: msg.queue.brokerName,
    queueId: msg.queue.queueId,
    queueOffset: msg.queueOffset,
    commitLogOffset: msg.commitLogOffset,
    tags: msg.tags ?? null,
    keys: [...msg.keys],
    bornTimestampMs: msg.bornTimestampMs,
    storeTimestampMs: msg.storeTimestampMs,
    bornHost: msg.bornHost,
    storeHost: msg.storeHost,
    reconsumeTimes: msg.reconsumeTimes,
    storeSizeBytes: msg.storeSizeBytes,
    properties: { ...msg.properties },
    bodySizeBytes: msg.body.length,
    bodyText: text,
    bodyHex: msg.body.subarray(0, HEX_LIMIT_BYTES).toString('hex'),
    bodyBase64: msg.body.toString('base64'),
    bodyJson: json,
  };
}
