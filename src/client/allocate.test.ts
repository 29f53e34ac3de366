import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateAveragely, allocateByCircle } from './allocate.js';
import { messageQueue, type MessageQueue } from './message-queue.js';

function queues(n: number): MessageQueue[] {
  // Deliberately unsorted input: two brokers, interleaved.
  const out: MessageQueue[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(messageQueue('T', i % 2 ? 'b' : 'a', i));
  return out;
}
const ids = (mqs: MessageQueue[]): string[] => mqs.map((q) => `${q.brokerName}${q.queueId}`);

test('averagely: 8 queues over 3 clients gives 3/3/2 contiguous blocks', () => {
  const all = queues(8);
  const cids = ['c3', 'c1', 'c2'];
  const a = allocateAveragely('c1', all, cids);
  const b = allocateAveragely('c2', all, cids);
  const c = allocateAveragely('c3', all, cids);
  assert.deepEqual(ids(a), ['a0', 'a2', 'a4']);
  assert.deepEqual(ids(b), ['a6', 'b1', 'b3']);
  assert.deepEqual(ids(c), ['b5', 'b7']);
});

test('averagely: every queue exactly once for many shapes; more clients than queues', () => {
  for (let n = 0; n <= 9; n++) {
    for (let m = 1; m <= 7; m++) {
      const all = queues(n);
      const cids = Array.from({ length: m }, (_, i) => `client-${i}`);
      const seen: string[] = [];
      for (const cid of cids) seen.push(...ids(allocateAveragely(cid, all, cids)));
      assert.equal(seen.length, n, `n=${n} m=${m}`);
      assert.equal(new Set(seen).size, n);
    }
  }
  assert.deepEqual(allocateAveragely('z', queues(2), ['x', 'y', 'z']), []);
  assert.deepEqual(allocateAveragely('unknown', queues(4), ['x']), []);
});

test('by circle: round-robin over sorted queues', () => {
  const got = allocateByCircle('b', queues(5), ['a', 'b']);
  assert.deepEqual(ids(got), ['a2', 'b1']); // sorted: a0 a2 a4 b1 b3
});
