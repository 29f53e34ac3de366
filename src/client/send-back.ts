/**
 * Send-back of messages whose handler failed (concurrent consumption): CONSUMER_SEND_MSG_BACK to
 * the message's broker, which re-queues it in `%RETRY%<group>` with a growing delay; if the
 * broker cannot be reached, an inner producer sends a copy to the retry topic itself.
 */
import { asError, type ClientInstance } from './client-instance.js';
import type { ConsumerOptions } from './consumer-options.js';
import {
  MessageProperty,
  RESERVED_PROPERTIES,
  type Message,
  type ReceivedMessage,
} from './message.js';
import { Producer } from './producer.js';
import { retryTopicOf } from './received-message.js';

/** Properties the copy does not inherit (the SDK or the broker sets them again). */
const NOT_COPIED: ReadonlySet<string> = new Set([
  ...RESERVED_PROPERTIES,
  MessageProperty.WAIT,
  MessageProperty.MIN_OFFSET,
  MessageProperty.MAX_OFFSET,
  MessageProperty.CONSUME_START_TIME,
  MessageProperty.RETRY_TOPIC,
  MessageProperty.ORIGIN_MESSAGE_ID,
  MessageProperty.RECONSUME_TIME,
  MessageProperty.MAX_RECONSUME_TIMES,
]);

/** The copy of a failed message for `%RETRY%<group>`, as RocketMQ clients build it. */
export function retryCopy(msg: ReceivedMessage, group: string, maxReconsumeTimes: number): Message {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg.properties)) if (!NOT_COPIED.has(k)) properties[k] = v;
  properties[MessageProperty.RETRY_TOPIC] = msg.topic;
  properties[MessageProperty.ORIGIN_MESSAGE_ID] =
    msg.properties[MessageProperty.ORIGIN_MESSAGE_ID] ?? msg.msgId;
  properties[MessageProperty.RECONSUME_TIME] = String(msg.reconsumeTimes + 1);
  properties[MessageProperty.MAX_RECONSUME_TIMES] = String(maxReconsumeTimes);
  return {
    topic: retryTopicOf(group),
    body: msg.body,
    tags: msg.tags,
    keys: msg.keys,
    properties,
    delayLevel: Math.min(18, 3 + msg.reconsumeTimes),
  };
}

/** Sends failed messages back for a later retry; one per consumer. */
export class SendBackService {
  private readonly client: ClientInstance;
  private readonly options: ConsumerOptions;
  private readonly reportError: (err: Error) => void;
  private innerProducer: Producer | undefined;

  constructor(client: ClientInstance, options: ConsumerOptions, reportError: (err: Error) => void) {
    this.client = client;
    this.options = options;
    this.reportError = reportError;
  }

  /** Resolves true once the broker (or the fallback producer) took the message back. */
  async sendBack(msg: ReceivedMessage): Promise<boolean> {
    const group = this.options.group;
    const maxReconsumeTimes = this.options.maxReconsumeTimes ?? 16;
    try {
      const addr = this.client.brokerAddr(msg.queue.brokerName) ?? msg.storeHost;
      await this.client.api.sendMessageBack(
        addr,
        {
          offset: msg.commitLogOffset,
          group,
          delayLevel: 0,
          originMsgId: msg.msgId,
          originTopic: msg.topic,
          unitMode: false,
          maxReconsumeTimes,
        },
        this.client.requestTimeoutMs,
      );
      return true;
    } catch (err) {
      this.reportError(
        new Error(
          `send-back of ${msg.msgId} failed (${asError(err).message}); re-sending to the retry topic`,
        ),
      );
    }
    try {
      if (!this.innerProducer) {
        this.innerProducer = new Producer({
          ...this.options,
          group: 'CLIENT_INNER_PRODUCER',
          transport: this.client.api.transport,
        });
        await this.innerProducer.start();
      }
      await this.innerProducer.sendRaw(retryCopy(msg, group, maxReconsumeTimes), msg.msgId, {
        reconsumeTimes: msg.reconsumeTimes + 1,
        maxReconsumeTimes,
      });
      return true;
    } catch (err) {
      this.reportError(asError(err));
      return false;
    }
  }

  /** Stops the fallback producer, if one was started. */
  async shutdown(): Promise<void> {
    if (this.innerProducer) await this.innerProducer.shutdown().catch(() => undefined);
  }
}
