import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessQueue } from './process-queue.js';
import { messageQueue } from './message-queue.js';
import type { ReceivedMessage } from './message.js';

const mq = messageQueue('T', 'b', 0);
function msg(offset: number, size = 100): ReceivedMessage {
  return { queueOffset: offset, storeSizeBytes: size, queue: mq } as unknown as ReceivedMessage;
}

test('process queue: commit offset is the lowest unconsumed, or one past the highest', () => {
  const pq = new ProcessQueue(mq);
  assert.equal(pq.commitOffset(), -1);
  const batch = [10, 11, 12, 13].map((o) => msg(o));
  assert.equal(pq.put(batch), 4);
  assert.equal(pq.put([msg(12), msg(14)]), 1, 'duplicates below the highest offset are ignored');
  assert.equal(pq.cachedCount, 5);
  assert.equal(pq.cachedSizeBytes, 500);
  assert.equal(pq.offsetSpan, 4);
  const taken = [pq.takeNext(), pq.takeNext(), pq.takeNext()];
  assert.deepEqual(
    taken.map((m) => m!.queueOffset),
    [10, 11, 12],
  );
  assert.equal(pq.complete(taken[2]!), 10, 'out-of-order completion keeps the commit point');
  assert.equal(pq.complete(taken[0]!), 11);
  assert.equal(pq.complete(taken[1]!), 13);
  assert.equal(pq.complete(pq.takeNext()!), 14);
  assert.equal(pq.complete(pq.takeNext()!), 15);
  assert.equal(pq.takeNext(), undefined);
  pq.advanceEmpty(20);
  assert.equal(pq.commitOffset(), 20);
});

test('process queue: put back front, limits, clear', () => {
  const pq = new ProcessQueue(mq);
  pq.put([msg(0, 10), msg(1, 10), msg(2, 10)]);
  const first = pq.takeNext()!;
  pq.putBackFront(first);
  assert.equal(pq.takeNext(), first);
  const limits = { maxCachedMessages: 2, maxCachedBytes: 1000, maxOffsetSpan: 100 };
  assert.equal(pq.overLimits(limits, false), true);
  assert.equal(pq.overLimits({ ...limits, maxCachedMessages: 3 }, false), false);
  assert.equal(pq.overLimits({ ...limits, maxCachedMessages: 3, maxCachedBytes: 20 }, false), true);
  assert.equal(pq.overLimits({ ...limits, maxCachedMessages: 3, maxOffsetSpan: 1 }, false), true);
  assert.equal(pq.overLimits({ ...limits, maxCachedMessages: 3, maxOffsetSpan: 1 }, true), false);
  pq.clear();
  assert.equal(pq.cachedCount, 0);
  assert.equal(pq.put([msg(0)]), 1);
});

test('process queue: long pending list compacts', () => {
  const pq = new ProcessQueue(mq);
  const n = 5000;
  pq.put(Array.from({ length: n }, (_, i) => msg(i, 1)));
  for (let i = 0; i < n; i++) assert.equal(pq.takeNext()!.queueOffset, i);
  assert.equal(pq.pendingCount, 0);
});

test('process queue: the consumer totals follow every queue put, completion, clear and detach', () => {
  const totals = { messages: 0, bytes: 0 };
  const a = new ProcessQueue(mq, totals);
  const b = new ProcessQueue(messageQueue('T', 'b', 1), totals);
  const sum = (): { messages: number; bytes: number } => ({
    messages: a.cachedCount + b.cachedCount,
    bytes: a.cachedSizeBytes + b.cachedSizeBytes,
  });
  a.put([msg(0, 10), msg(1, 20), msg(2, 30)]);
  b.put([msg(5, 7), msg(5, 7), msg(6, 8)]);
  assert.deepEqual(totals, { messages: 5, bytes: 75 });
  const taken = a.takeNext()!;
  a.complete(taken);
  a.complete(taken);
  assert.deepEqual(totals, sum(), 'completing the same message twice counts once');
  assert.deepEqual(totals, { messages: 4, bytes: 65 });
  b.clear();
  assert.deepEqual(totals, { messages: 2, bytes: 50 });
  a.detachTotals();
  assert.deepEqual(totals, { messages: 0, bytes: 0 });
  a.complete(a.takeNext()!);
  a.put([msg(9, 1)]);
  a.clear();
  assert.deepEqual(totals, { messages: 0, bytes: 0 }, 'a detached queue no longer counts');
  b.put([msg(10, 4)]);
  assert.deepEqual(totals, { messages: 1, bytes: 4 });
});
