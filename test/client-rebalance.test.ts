/**
 * Rebalance under traffic: a second consumer joins a group mid-stream, then the first leaves.
 * Every message is consumed; duplicates can only come from offsets not yet committed when a queue
 * changed hands, so they stay below one pull batch per moved queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer, PushConsumer } from '../src/index.js';
import { startSluice } from './support/sluice-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Queues of the test topic (the group's %RETRY% queue is assigned too). */
const topicQueues = (c: PushConsumer): number =>
  c.assignedQueues().filter((q) => q.topic === 'Rebalance').length;

test('a consumer joining and leaving a group loses nothing', async () => {
  const sluice = await startSluice();
  const nameServer = sluice.namesrvAddr;
  const admin = new Admin({ nameServer });
  const producer = new Producer({ nameServer, group: 'rb-producer' });
  const seen = new Map<number, number>();
  const byConsumer = [new Set<number>(), new Set<number>()];
  const makeConsumer = (k: number): PushConsumer => {
    const c = new PushConsumer({
      nameServer,
      group: 'rb-group',
      consumeFrom: 'FIRST_OFFSET',
      rebalanceIntervalMs: 300,
      persistOffsetIntervalMs: 200,
      pullBatchSize: 16,
    });
    c.subscribe('Rebalance', '*', async (msg) => {
      const i = msg.body.readUInt32BE(0);
      seen.set(i, (seen.get(i) ?? 0) + 1);
      byConsumer[k].add(msg.queue.queueId);
    });
    return c;
  };
  const first = makeConsumer(0);
  const second = makeConsumer(1);
  try {
    await admin.createTopic('Rebalance', { queueNums: 4 });
    await producer.start();
    await first.start();
    let sent = 0;
    const sendSome = async (n: number): Promise<void> => {
      for (let j = 0; j < n; j++) {
        const body = Buffer.alloc(8);
        body.writeUInt32BE(sent++, 0);
        await producer.send({ topic: 'Rebalance', body });
      }
    };
    await sendSome(300);
    await second.start(); // joins: the broker notifies, both rebalance to 2 + 2 queues
    await sendSome(300);
    await sleep(1_000);
    assert.equal(topicQueues(first), 2, 'the first consumer kept two queues');
    assert.equal(topicQueues(second), 2, 'the second consumer took two queues');
    await first.shutdown(); // leaves: its queues move to the second consumer
    await sendSome(300);
    const deadline = Date.now() + 30_000;
    while (seen.size < sent && Date.now() < deadline) await sleep(50);
    assert.equal(seen.size, sent, `every message consumed (${seen.size} of ${sent})`);
    assert.equal(topicQueues(second), 4, 'the remaining consumer owns every queue');
    assert.ok(byConsumer[1].size === 4, 'the second consumer ended up reading all four queues');
    const duplicates = [...seen.values()].reduce((n, c) => n + (c - 1), 0);
    // At most one uncommitted pull batch per queue that changed hands (2 at join, 2 at leave).
    assert.ok(
      duplicates <= 4 * 16,
      `${duplicates} duplicates, more than the rebalance windows allow`,
    );
  } finally {
    await first.shutdown();
    await second.shutdown();
    await producer.shutdown();
    await admin.shutdown();
    await sluice.stop();
    sluice.cleanup();
  }
});
