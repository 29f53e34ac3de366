import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsumerRuntime } from './consumer-runtime.js';
import { messageQueue } from './message-queue.js';
import { ProcessQueue } from './process-queue.js';
import type { ReceivedMessage } from './message.js';

function runtime(maxCachedMessagesTotal: number): ConsumerRuntime {
  return new ConsumerRuntime(
    { group: 'G', nameServer: '127.0.0.1:1', maxCachedMessagesTotal },
    {
      orderly: false,
      consumeType: 'CONSUME_PASSIVELY',
      maxConcurrency: 1,
      maxConcurrencyPerQueue: 1,
      suspendAfterFailureMs: 1000,
      lockIntervalMs: 20_000,
    },
  );
}

test('a pull loop waiting for room is woken by the completion that makes it', async () => {
  const rt = runtime(1);
  const totals = (rt as unknown as { cacheTotals: { messages: number; bytes: number } })
    .cacheTotals;
  const mq = messageQueue('T', 'b', 0);
  const pq = new ProcessQueue(mq, totals);
  const msgs = [0, 1, 2].map((o) => ({ queueOffset: o, storeSizeBytes: 10 }) as ReceivedMessage);
  pq.put(msgs);
  assert.equal(rt.overTotalLimits(), true);

  let woken = false;
  const started = Date.now();
  const waiting = rt.underTotalLimits(10_000).then(() => {
    woken = true;
  });
  pq.complete(msgs[0]!);
  rt.commit(pq, -1);
  await Promise.resolve();
  assert.equal(woken, false, 'still over the limit of 1 with two messages cached');
  pq.complete(msgs[1]!);
  rt.commit(pq, -1);
  await waiting;
  assert.ok(Date.now() - started < 5000, 'woken by the completion, not by the timeout');

  // Without a completion the wait ends at its bound.
  pq.put([
    { queueOffset: 3, storeSizeBytes: 10 },
    { queueOffset: 4, storeSizeBytes: 10 },
  ] as ReceivedMessage[]);
  assert.equal(rt.overTotalLimits(), true);
  const t0 = Date.now();
  await rt.underTotalLimits(30);
  assert.ok(Date.now() - t0 >= 25);
});

test('a rebalance asks each broker for the consumer list once per round, not once per topic', async () => {
  const rt = runtime(1000);
  const internals = rt as unknown as {
    subscriptions: Map<string, unknown>;
    client: {
      clientId: string;
      cachedRoute: (topic: string) => unknown;
      heartbeatAll: () => Promise<void>;
      api: { getConsumerIdList: (addr: string) => Promise<string[]> };
    };
  };
  for (const topic of ['A', 'B', 'C']) internals.subscriptions.set(topic, {});
  internals.client.cachedRoute = (topic: string) => ({
    topic,
    brokerDatas: [{ cluster: 'c', brokerName: 'b', brokerAddrs: { '0': '127.0.0.1:1' } }],
    queueDatas: [{ brokerName: 'b', readQueueNums: 1, writeQueueNums: 1, perm: 6 }],
  });
  let asked = 0;
  let heartbeats = 0;
  let known = true;
  // '0-first' sorts before this client's id and takes each topic's only queue: no queue is
  // added, so the test needs no offsets.
  internals.client.api.getConsumerIdList = async () => {
    asked++;
    return known ? ['0-first', internals.client.clientId] : ['0-first'];
  };
  internals.client.heartbeatAll = async () => {
    heartbeats++;
  };
  rt.running = true;
  try {
    // A, B, C and %RETRY%G are on one broker: one request for the round.
    await rt.rebalance();
    assert.equal(asked, 1);
    assert.equal(rt.assignedQueues().length, 0);
    // Next round, next request.
    await rt.rebalance();
    assert.equal(asked, 2);
    // A list without this client: it announces itself and the next topic asks again.
    known = false;
    asked = 0;
    await rt.rebalance();
    assert.equal(heartbeats, 4);
    assert.equal(asked, 4);
  } finally {
    rt.running = false;
  }
});
