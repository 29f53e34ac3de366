/**
 * Broker-side queue locks for orderly consumption: LOCK_BATCH_MQ / UNLOCK_BATCH_MQ, one request
 * per broker for the queues it hosts.
 */
import { asError, type ClientInstance } from './client-instance.js';
import type { MessageQueue } from './message-queue.js';

function byBroker(mqs: readonly MessageQueue[]): Map<string, MessageQueue[]> {
  const groups = new Map<string, MessageQueue[]>();
  for (const mq of mqs) {
    const list = groups.get(mq.brokerName);
    if (list) list.push(mq);
    else groups.set(mq.brokerName, [mq]);
  }
  return groups;
}

/**
 * Asks each broker to lock its queues for this client; resolves with the queues actually locked
 * (a queue held by another live client of the group is left out). Errors go to `onError`.
 */
export async function lockQueues(
  client: ClientInstance,
  group: string,
  mqs: readonly MessageQueue[],
  onError: (err: Error) => void,
): Promise<MessageQueue[]> {
  const out: MessageQueue[] = [];
  await Promise.all(
    [...byBroker(mqs)].map(async ([brokerName, list]) => {
      const addr = client.brokerAddr(brokerName);
      if (!addr) return;
      try {
        const locked = await client.api.lockBatch(
          addr,
          { consumerGroup: group, clientId: client.clientId, mqSet: list.map((q) => ({ ...q })) },
          client.requestTimeoutMs,
        );
        out.push(...locked);
      } catch (err) {
        onError(asError(err));
      }
    }),
  );
  return out;
}

/** Releases this client's locks on the queues (best effort: failures are ignored). */
export async function unlockQueues(
  client: ClientInstance,
  group: string,
  mqs: readonly MessageQueue[],
): Promise<void> {
  await Promise.all(
    [...byBroker(mqs)].map(([brokerName, list]) => {
      const addr = client.brokerAddr(brokerName);
      if (!addr) return undefined;
      return client.api
        .unlockBatch(
          addr,
          { consumerGroup: group, clientId: client.clientId, mqSet: list.map((q) => ({ ...q })) },
          client.requestTimeoutMs,
        )
        .catch(() => undefined);
    }),
  );
}
