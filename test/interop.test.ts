/**
 * Sluice's SDK and the unmodified `ali-ons` client on the same topics of a real broker process:
 * messages produced by one are consumed by the other, byte for byte; and the SDK keeps working
 * across a broker restart (route refresh).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer, PushConsumer } from '../src/index.js';
import { startSluice, type SluiceProcess } from './support/sluice-process.js';
import { waitFor } from '../src/common/wait-for.fixture.js';
import { clientOptions, ons, type AliProducer } from './support/ali-ons.js';

function body(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (i * 13 + j) & 0xff;
  b.writeUInt32BE(i, 0);
  return b;
}

describe('interop: Sluice SDK and ali-ons', () => {
  let sluice: SluiceProcess;
  let admin: Admin;
  let aliProducer: AliProducer;

  before(async () => {
    sluice = await startSluice();
    admin = new Admin({ nameServer: sluice.namesrvAddr });
    aliProducer = new ons.Producer({
      ...clientOptions(sluice, 'interop-producer'),
      producerGroup: 'PID_INTEROP',
    });
    aliProducer.on('error', () => {});
    await aliProducer.ready();
  });

  after(async () => {
    await aliProducer?.close();
    await ons.Producer.defaultProducer?.close();
    await admin?.shutdown();
    await sluice?.stop();
    sluice?.cleanup();
  });

  test('SDK producer → ali-ons consumer: bodies (compressed ones too), tags, keys, msgIds', async () => {
    const topic = 'InteropSdkToAli';
    await admin.createTopic(topic, { queueNums: 4 });
    const producer = new Producer({ nameServer: sluice.namesrvAddr, group: 'interop-sdk' });
    await producer.start();
    const sent = new Map<number, string>();
    for (let i = 0; i < 200; i++) {
      const size = i % 20 === 0 ? 9_000 : 100 + i;
      const r = await producer.send({
        topic,
        body: body(i, size),
        tags: `T${i % 2}`,
        keys: [`k${i}`],
      });
      assert.equal(r.status, 'SEND_OK');
      sent.set(i, r.offsetMsgId);
    }
    await producer.shutdown();

    const got = new Map<number, number>();
    const consumer = new ons.Consumer({
      ...clientOptions(sluice, 'interop-ali-consumer'),
      consumerGroup: 'GID_INTEROP_ALI',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    });
    consumer.on('error', () => {});
    consumer.subscribe(topic, '*', async (message) => {
      const i = message.body.readUInt32BE(0);
      got.set(i, (got.get(i) ?? 0) + 1);
      assert.deepEqual(message.body, body(i, i % 20 === 0 ? 9_000 : 100 + i));
      assert.equal(message.tags, `T${i % 2}`);
      assert.equal(message.keys, `k${i}`);
      assert.equal(message.msgId, sent.get(i), 'ali-ons msgId is the offset id the SDK returned');
    });
    await consumer.ready();
    await waitFor(
      () => `200 messages (have ${got.size})`,
      () => got.size === 200,
      30_000,
    );
    await consumer.close();
    assert.equal([...got.values()].filter((n) => n > 1).length, 0);
  });

  test('ali-ons producer → SDK consumer: bodies (compressed ones too), tags, keys', async () => {
    const topic = 'InteropAliToSdk';
    await admin.createTopic(topic, { queueNums: 4 });
    for (let i = 0; i < 200; i++) {
      const message = new ons.Message(topic, `T${i % 3}`, body(i, i % 25 === 0 ? 5_000 : 64 + i));
      message.keys = [`a${i}`, `b${i}`];
      const r = await aliProducer.send(message);
      assert.equal(r.sendStatus, 'SEND_OK');
    }
    const got = new Map<number, number>();
    const consumer = new PushConsumer({
      nameServer: sluice.namesrvAddr,
      group: 'interop-sdk-consumer',
      consumeFrom: 'FIRST_OFFSET',
    });
    consumer.subscribe(topic, '*', async (msg) => {
      const i = msg.body.readUInt32BE(0);
      got.set(i, (got.get(i) ?? 0) + 1);
      assert.deepEqual(msg.body, body(i, i % 25 === 0 ? 5_000 : 64 + i));
      assert.equal(msg.tags, `T${i % 3}`);
      assert.deepEqual([...msg.keys], [`a${i}`, `b${i}`]);
    });
    await consumer.start();
    await waitFor(
      () => `200 messages (have ${got.size})`,
      () => got.size === 200,
      30_000,
    );
    await consumer.shutdown();
    assert.equal([...got.values()].filter((n) => n > 1).length, 0);
  });

  test('the SDK producer and consumer keep working across a broker restart', async () => {
    const topic = 'InteropRestart';
    await admin.createTopic(topic, { queueNums: 2 });
    const producer = new Producer({
      nameServer: sluice.namesrvAddr,
      group: 'interop-restart',
      pollNameServerIntervalMs: 500,
    });
    await producer.start();
    const got = new Set<number>();
    const consumer = new PushConsumer({
      nameServer: sluice.namesrvAddr,
      group: 'interop-restart-consumer',
      consumeFrom: 'FIRST_OFFSET',
      pollNameServerIntervalMs: 500,
      rebalanceIntervalMs: 500,
      pullErrorDelayMs: 200,
    });
    consumer.subscribe(topic, '*', async (msg) => {
      got.add(msg.body.readUInt32BE(0));
    });
    await consumer.start();
    for (let i = 0; i < 20; i++) await producer.send({ topic, body: body(i, 32) });
    await waitFor('first 20', () => got.size === 20, 20_000);

    await sluice.stop();
    sluice = await startSluice({
      dataDir: sluice.dataDir,
      namesrvPort: sluice.namesrvPort,
      brokerPort: sluice.brokerPort,
    });
    // The name server restarted empty: sends succeed once the broker re-registered and the
    // producer refreshed its route; a few attempts may fail in between.
    let sentAfter = 0;
    const deadline = Date.now() + 20_000;
    for (let i = 20; sentAfter < 20 && Date.now() < deadline; i++) {
      try {
        await producer.send({ topic, body: body(20 + sentAfter, 32) });
        sentAfter++;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.equal(sentAfter, 20, 'the producer recovered after the restart');
    await waitFor(
      () => `all 40 after the restart (have ${got.size})`,
      () => got.size === 40,
      30_000,
    );
    await consumer.shutdown();
    await producer.shutdown();
  });
});
