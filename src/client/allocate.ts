/**
 * Queue allocation among the consumers of one group (clustering mode). Every consumer runs the
 * same deterministic function over the same sorted inputs, so together they split the queues
 * without talking to each other.
 */
import type { MessageQueue } from './message-queue.js';
import { compareQueues } from './message-queue.js';

/** A strategy: which of `allQueues` belong to `clientId` among `allClientIds`. */
export type AllocateStrategy = (
  clientId: string,
  allQueues: readonly MessageQueue[],
  allClientIds: readonly string[],
) => MessageQueue[];

/**
 * RocketMQ's "averagely" strategy: queues and client ids are sorted; each client gets a
 * contiguous block; the first `queues % clients` clients get one extra queue; when there are
 * more clients than queues, the surplus clients get nothing. A client id that is not in the
 * list gets nothing.
 */
export const allocateAveragely: AllocateStrategy = (clientId, allQueues, allClientIds) => {
  const queues = [...allQueues].sort(compareQueues);
  const clients = [...allClientIds].sort();
  const index = clients.indexOf(clientId);
  const n = queues.length;
  const m = clients.length;
  if (index < 0 || n === 0) return [];
  const mod = n % m;
  const size = n <= m ? 1 : mod > 0 && index < mod ? Math.floor(n / m) + 1 : Math.floor(n / m);
  const start = mod > 0 && index < mod ? index * size : index * size + mod;
  const range = Math.min(size, n - start);
  const result: MessageQueue[] = [];
  for (let i = 0; i < range; i++) result.push(queues[(start + i) % n]!);
  return result;
};

/**
 * Round-robin ("by circle") strategy: client `i` takes queues `i`, `i + m`, `i + 2m`, … of the
 * sorted queue list.
 */
export const allocateByCircle: AllocateStrategy = (clientId, allQueues, allClientIds) => {
  const queues = [...allQueues].sort(compareQueues);
  const clients = [...allClientIds].sort();
  const index = clients.indexOf(clientId);
  if (index < 0) return [];
  const result: MessageQueue[] = [];
  for (let i = index; i < queues.length; i += clients.length) result.push(queues[i]!);
  return result;
};
