/**
 * Ordered queues: two orderly PushConsumers of one group share the queues through
 * LOCK_BATCH_MQ / UNLOCK_BATCH_MQ; per sharding key the order is kept, and a failure suspends
 * the queue and retries the same message in place (no send-back to the retry topic).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer, PushConsumer, type ReceivedMessage } from '../src/index.js';
import { waitFor } from '../src/common/wait-for.fixture.js';
import { FAST_CONSUMER, SemanticsCluster, fastClient } from './semantics-harness.js';

const cluster = new SemanticsCluster();
let producer: Producer;

before(async () => {
  await cluster.start();
  const admin = new Admin(fastClient(cluster.nameServer));
  await admin.createTopic('OrderT', { queueNums: 4, order: true });
  await admin.shutdown();
  producer = new Producer({ ...fastClient(cluster.nameServer), group: 'PG_ORDER' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await cluster.stop();
});

test('per-key order under two orderly consumers; failures retry in place', async () => {
  const seen = new Map<string, number[]>();
  const byConsumer = [0, 0];
  const failedOnce = new Set<string>();
  const retriesInPlace: ReceivedMessage[] = [];
  const make = (index: number): PushConsumer => {
    const consumer = new PushConsumer({
      ...fastClient(cluster.nameServer),
      ...FAST_CONSUMER,
      group: 'CG_ORDER',
      consumeFrom: 'FIRST_OFFSET',
      orderly: true,
      suspendAfterFailureMs: 50,
      lockIntervalMs: 300,
      instanceName: `orderly-${index}`,
    });
    consumer.subscribe('OrderT', '*', async (msg) => {
      const [key, seqText] = msg.body.toString().split(':');
      const seq = Number(seqText);
      // Every 7th message fails once: it must come back before anything after it.
      if (seq % 7 === 3 && !failedOnce.has(`${key}:${seq}`)) {
        failedOnce.add(`${key}:${seq}`);
        throw new Error('transient failure');
      }
      if (failedOnce.has(`${key}:${seq}`)) retriesInPlace.push(msg);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      const list = seen.get(key!) ?? [];
      list.push(seq);
      seen.set(key!, list);
      byConsumer[index]!++;
    });
    return consumer;
  };
  const a = make(0);
  const b = make(1);
  await a.start();
  await b.start();
  try {
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
    const perKey = 20;
    const sends: Promise<unknown>[] = [];
    for (let seq = 0; seq < perKey; seq++) {
      for (const key of keys) {
        sends.push(producer.send({ topic: 'OrderT', body: `${key}:${seq}`, shardingKey: key }));
      }
      await Promise.all(sends.splice(0));
    }
    const total = keys.length * perKey;
    await waitFor(
      'all consumed',
      () => [...seen.values()].reduce((s, l) => s + l.length, 0) >= total,
      15_000,
    );
    for (const key of keys) {
      assert.deepEqual(
        seen.get(key),
        Array.from({ length: perKey }, (_, i) => i),
        `order of ${key}`,
      );
    }
    assert.ok(byConsumer[0]! > 0 && byConsumer[1]! > 0, `both consumers worked: ${byConsumer}`);
    assert.ok(retriesInPlace.length > 0, 'failed messages were retried');
    for (const msg of retriesInPlace) {
      assert.equal(msg.topic, 'OrderT');
      assert.equal(msg.queue.topic, 'OrderT', 'retried from its own queue, not %RETRY%');
    }
    assert.equal(cluster.readTopic('%RETRY%CG_ORDER').length, 0, 'nothing sent back');
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
});
