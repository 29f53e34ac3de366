/**
 * Dead-letter resend: a message in `%DLQ%<group>` is sent again to its original topic (the
 * `RETRY_TOPIC` property the broker set when it was first sent back), with the same body, tag,
 * keys and user properties. Used by `sluice dlq resend` and the dashboard.
 */
import type { Admin } from '../client/admin.js';
import { MQClientError } from '../client/errors.js';
import type { ReceivedMessage } from '../client/message.js';
import type { Producer, SendResult } from '../client/producer.js';
import { DLQ_TOPIC_PREFIX } from '../client/received-message.js';
import { resendMessageOf } from '../client/resend.js';
import { ResponseCode } from '../protocol/response-code.js';
import { readTopic } from './topic-reader.js';

/** One resend outcome. */
export interface ResendOutcome {
  from: { topic: string; offsetMsgId: string; msgId: string };
  to: { topic: string; msgId: string; offsetMsgId: string; queueId: number; queueOffset: number };
}

function outcome(msg: ReceivedMessage, sent: SendResult, topic: string): ResendOutcome {
  return {
    from: { topic: msg.queue.topic, offsetMsgId: msg.offsetMsgId, msgId: msg.msgId },
    to: {
      topic,
      msgId: sent.msgId,
      offsetMsgId: sent.offsetMsgId,
      queueId: sent.queue.queueId,
      queueOffset: sent.queueOffset,
    },
  };
}

/** Resends one message (found by id) to its original topic. */
export async function resendMessage(
  admin: Admin,
  producer: Producer,
  id: string,
  options: { dlqTopic?: string; toTopic?: string } = {},
): Promise<ResendOutcome> {
  const msg = await admin.queryMessageById(id, options.dlqTopic);
  if (!msg) throw new MQClientError('NOT_FOUND', `no message with id ${id} was found`);
  const out = resendMessageOf(msg, options.toTopic);
  const sent = await producer.send(out);
  return outcome(msg, sent, out.topic);
}

/**
 * Resends the dead-lettered messages of `group` (all, or those whose id is in `ids`), oldest
 * first, up to `limit`.
 */
export async function resendDlq(
  admin: Admin,
  producer: Producer,
  group: string,
  options: { ids?: readonly string[]; limit?: number; toTopic?: string } = {},
): Promise<ResendOutcome[]> {
  const dlqTopic = DLQ_TOPIC_PREFIX + group;
  const matches: ReceivedMessage[] = [];
  if (options.ids) {
    // Looked up by id (VIEW_MESSAGE_BY_ID / QUERY_MESSAGE): works on a write-only DLQ topic too.
    for (const id of options.ids.slice(0, options.limit ?? Infinity)) {
      const msg = await admin.queryMessageById(id, dlqTopic);
      if (!msg) throw new MQClientError('NOT_FOUND', `no message with id ${id} in ${dlqTopic}`);
      if (msg.queue.topic !== dlqTopic) {
        throw new MQClientError(
          'INVALID_ARGUMENT',
          `message ${id} is in ${msg.queue.topic}, not ${dlqTopic}`,
        );
      }
      matches.push(msg);
    }
  } else {
    try {
      await readTopic(admin, dlqTopic, { start: 'beginning', limit: options.limit }, (msg) => {
        matches.push(msg);
      });
    } catch (error) {
      if (error instanceof MQClientError && error.responseCode === ResponseCode.NO_PERMISSION) {
        throw new MQClientError(
          'BROKER_ERROR',
          `${dlqTopic} is write-only (as RocketMQ creates it): pass the message ids (--id), or make it readable first with: sluice topic update '${dlqTopic}' --queues 1 --perm 6`,
        );
      }
      throw error;
    }
  }
  const results: ResendOutcome[] = [];
  for (const msg of matches) {
    const out = resendMessageOf(msg, options.toTopic);
    results.push(outcome(msg, await producer.send(out), out.topic));
  }
  return results;
}
