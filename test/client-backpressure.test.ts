/**
 * A slow handler must not make the PushConsumer pull the whole backlog into memory: pulling
 * pauses while the local cache is over its limits, and everything is still consumed once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer, PushConsumer } from '../src/index.js';
import { startSluice } from './support/sluice-process.js';

test('a slow handler keeps the consumer cache bounded (back-pressure)', async () => {
  const sluice = await startSluice();
  const admin = new Admin({ nameServer: sluice.namesrvAddr });
  const producer = new Producer({ nameServer: sluice.namesrvAddr, group: 'bp-producer' });
  const consumer = new PushConsumer({
    nameServer: sluice.namesrvAddr,
    group: 'bp-consumer',
    consumeFrom: 'FIRST_OFFSET',
    consumeConcurrency: 4,
    pullBatchSize: 32,
    maxCachedMessagesPerQueue: 64,
    maxCachedMessagesTotal: 100,
  });
  try {
    const topic = 'BackPressure';
    await admin.createTopic(topic, { queueNums: 2 });
    await producer.start();
    const total = 3_000;
    const batch = [];
    for (let i = 0; i < total; i++) {
      batch.push({ topic, body: Buffer.alloc(512, i & 0xff), keys: [`k${i}`] });
      if (batch.length === 100) {
        await producer.sendBatch(batch.splice(0));
      }
    }
    let handled = 0;
    let maxCached = 0;
    consumer.subscribe(topic, '*', async () => {
      handled++;
      if (handled < 400) await new Promise((r) => setTimeout(r, 2));
    });
    const sampler = setInterval(() => {
      maxCached = Math.max(maxCached, consumer.stats().cachedMessages);
    }, 5);
    await consumer.start();
    const deadline = Date.now() + 60_000;
    while (handled < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    clearInterval(sampler);
    assert.equal(handled, total, 'every message handled');
    // One pull batch per queue may land on top of the limit before pulling pauses.
    assert.ok(
      maxCached <= 100 + 2 * 32,
      `cache grew to ${maxCached} messages (limit 100 + one pull per queue)`,
    );
    assert.ok(maxCached > 0, 'the sampler saw the cache in use');
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
    await admin.shutdown();
    await sluice.stop();
    sluice.cleanup();
  }
});
