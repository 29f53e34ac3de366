import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageQueue, queueKey } from './message-queue.js';
import { ProcessQueue } from './process-queue.js';
import { ProcessQueueTable } from './process-queue-table.js';

function pqOf(topic: string, queueId: number): ProcessQueue {
  return new ProcessQueue(messageQueue(topic, 'broker-a', queueId));
}

function keysOf(table: ProcessQueueTable, topic: string): string[] {
  return table
    .entriesOf(topic)
    .map(([key]) => key)
    .sort();
}

test('a topic lists only its own queues, by key, through adds, replaces and deletes', () => {
  const table = new ProcessQueueTable();
  const a0 = pqOf('A', 0);
  const a1 = pqOf('A', 1);
  const b0 = pqOf('B', 0);
  for (const pq of [a0, a1, b0]) table.add(pq);
  assert.equal(table.size, 3);
  assert.deepEqual(keysOf(table, 'A'), [queueKey(a0.mq), queueKey(a1.mq)]);
  assert.deepEqual(keysOf(table, 'B'), [queueKey(b0.mq)]);
  assert.deepEqual(table.entriesOf('C'), []);

  const a1again = pqOf('A', 1);
  table.add(a1again);
  assert.equal(table.size, 3);
  assert.equal(table.get(queueKey(a1.mq)), a1again);
  assert.equal(table.entriesOf('A').find(([key]) => key === queueKey(a1.mq))?.[1], a1again);

  assert.equal(table.delete(queueKey(a0.mq)), true);
  assert.equal(table.delete(queueKey(a0.mq)), false);
  assert.equal(table.has(queueKey(a0.mq)), false);
  assert.deepEqual(keysOf(table, 'A'), [queueKey(a1.mq)]);
  assert.deepEqual([...table.values()].map((pq) => queueKey(pq.mq)).sort(), [
    queueKey(a1.mq),
    queueKey(b0.mq),
  ]);

  table.clear();
  assert.equal(table.size, 0);
  assert.deepEqual(table.entriesOf('A'), []);
});

test("deleting while walking a topic's queues visits each of them once", () => {
  const table = new ProcessQueueTable();
  for (let q = 0; q < 8; q++) table.add(pqOf('T', q));
  table.add(pqOf('U', 0));
  const seen: string[] = [];
  for (const [key] of table.entriesOf('T')) {
    seen.push(key);
    table.delete(key);
  }
  assert.equal(seen.length, 8);
  assert.equal(new Set(seen).size, 8);
  assert.equal(table.size, 1);
  assert.deepEqual(table.entriesOf('T'), []);
});
