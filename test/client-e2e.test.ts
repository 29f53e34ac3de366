/**
 * Client SDK end to end: a name server and a broker in this process (port 0, temp store), driven
 * by the Producer, PushConsumer, SimpleConsumer and Admin of `src/client`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerController } from '../src/broker/broker-controller.js';
import { DEFAULT_BROKER_CONFIG, type BrokerConfig } from '../src/broker/broker-config.js';
import { NameServer } from '../src/namesrv/name-server.js';
import { waitFor } from '../src/common/wait-for.fixture.js';
import {
  Admin,
  Producer,
  PushConsumer,
  SimpleConsumer,
  MQClientError,
  type ReceivedMessage,
} from '../src/index.js';

let dir: string;
let namesrv: NameServer;
let broker: BrokerController;
let admin: Admin;
let producer: Producer;
const errors: Error[] = [];
const onError = (err: Error): void => {
  errors.push(err);
};

function nameServer(): string {
  return `127.0.0.1:${namesrv.port}`;
}

function brokerConfig(): BrokerConfig {
  return {
    ...DEFAULT_BROKER_CONFIG,
    namesrvAddr: nameServer(),
    listenHost: '127.0.0.1',
    listenPort: 0,
    brokerIP1: '127.0.0.1',
    storePathRootDir: join(dir, 'broker'),
    mappedFileSizeCommitLog: 4 * 1024 * 1024,
    maxMessageSize: 1024 * 1024,
    mappedFileSizeConsumeQueueEntries: 1000,
    warmMappedFileEnable: false,
    flushConsumerOffsetInterval: 200,
    messageDelayLevel: Array.from({ length: 18 }, () => '1s').join(' '),
    httpPort: 0,
  };
}

const fast = {
  pullSuspendMs: 1000,
  pullTimeoutMs: 5000,
  rebalanceIntervalMs: 1000,
  persistOffsetIntervalMs: 200,
  onError,
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-client-e2e-'));
  namesrv = new NameServer();
  await namesrv.start({ host: '127.0.0.1', port: 0 });
  broker = await BrokerController.start(brokerConfig());
  admin = new Admin({ nameServer: nameServer(), onError });
  producer = new Producer({ nameServer: nameServer(), group: 'PG', onError });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await admin.shutdown();
  await broker.stop();
  await namesrv.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('admin creates topics; cluster and broker info', async () => {
  await admin.createTopic('T1', { queueNums: 4 });
  await admin.createTopic('T2', { queueNums: 2 });
  await admin.createTopic('T3', { queueNums: 4 });
  const topics = await admin.listTopics();
  for (const t of ['T1', 'T2', 'T3']) assert.ok(topics.includes(t), `${t} listed`);
  const route = await admin.topicRoute('T1');
  assert.equal(route?.queueDatas[0]?.writeQueueNums, 4);
  const cluster = await admin.clusterInfo();
  assert.equal(Object.keys(cluster.brokerAddrTable).length, 1);
  const info = await admin.brokerRuntimeInfo(broker.address);
  assert.ok(Object.keys(info).length > 0);
  await admin.createTopic('Doomed', { queueNums: 1 });
  assert.ok((await admin.listTopics()).includes('Doomed'));
  await admin.deleteTopic('Doomed');
  assert.ok(!(await admin.listTopics()).includes('Doomed'));
  assert.equal(await admin.topicRoute('Doomed'), undefined);
});

test('a send to an unknown topic creates it through the default topic (auto-create on)', async () => {
  const r = await producer.send({ topic: 'CreatedOnFirstSend', body: 'x' });
  assert.equal(r.status, 'SEND_OK');
  assert.ok(r.queue.queueId < 4, 'one of the 4 queues the broker creates for a producer');
  assert.ok((await admin.listTopics()).includes('CreatedOnFirstSend'));
  assert.equal((await admin.topicRoute('CreatedOnFirstSend'))?.queueDatas[0]?.writeQueueNums, 4);
});

test('send errors are typed: no route, not started, bad message', async () => {
  // A producer whose name server knows no broker at all has no route, not even the default one.
  const empty = new NameServer();
  await empty.start({ host: '127.0.0.1', port: 0 });
  const lonely = new Producer({ nameServer: `127.0.0.1:${empty.port}`, onError });
  await lonely.start();
  try {
    await assert.rejects(lonely.send({ topic: 'NoSuchTopic', body: 'x' }), (err: unknown) => {
      assert.ok(err instanceof MQClientError);
      assert.equal(err.code, 'NO_ROUTE');
      return true;
    });
  } finally {
    await lonely.shutdown();
    await empty.stop();
  }
  await assert.rejects(producer.send({ topic: 'T1', body: '' }), /empty/);
  await assert.rejects(producer.send({ topic: 'bad topic', body: 'x' }), /invalid/);
  const idle = new Producer({ nameServer: nameServer() });
  await assert.rejects(idle.send({ topic: 'T1', body: 'x' }), /start\(\) first/);
});

const sent = new Map<string, { body: Buffer; offsetMsgId: string }>();

test('producer: send, compressed body, batch, oneway, sharding key', async () => {
  for (let i = 0; i < 20; i++) {
    const r = await producer.send({
      topic: 'T1',
      body: `hello ${i}`,
      tags: i % 2 ? 'A' : 'B',
      keys: [`k${i}`, 'common'],
      properties: { idx: String(i) },
    });
    assert.equal(r.status, 'SEND_OK');
    assert.equal(r.msgId.length, 32);
    assert.equal(r.offsetMsgId.length, 32);
    assert.equal(r.queue.topic, 'T1');
    sent.set(r.msgId, { body: Buffer.from(`hello ${i}`), offsetMsgId: r.offsetMsgId });
  }
  const big = Buffer.alloc(20_000, 'abcdefgh');
  const rb = await producer.send({ topic: 'T1', body: big, tags: 'A' });
  sent.set(rb.msgId, { body: big, offsetMsgId: rb.offsetMsgId });

  const batch = await producer.sendBatch(
    Array.from({ length: 5 }, (_, i) => ({ topic: 'T1', body: `batch ${i}`, tags: 'A' })),
  );
  assert.equal(batch.msgIds.length, 5);
  assert.equal(batch.offsetMsgId.split(',').length, 5);
  batch.msgIds.forEach((id, i) =>
    sent.set(id, {
      body: Buffer.from(`batch ${i}`),
      offsetMsgId: batch.offsetMsgId.split(',')[i]!,
    }),
  );

  await producer.sendOneway({ topic: 'T1', body: 'oneway', tags: 'A' });

  const queues = new Set<number>();
  for (let i = 0; i < 5; i++) {
    const r = await producer.send({ topic: 'T3', body: `order-${i}`, shardingKey: 'order-7' });
    queues.add(r.queue.queueId);
  }
  assert.equal(queues.size, 1, 'same sharding key → same queue');
});

test('push consumer receives everything with tag filter; bodies, ids and keys intact', async () => {
  const got = new Map<string, ReceivedMessage>();
  const consumer = new PushConsumer({
    nameServer: nameServer(),
    group: 'G1',
    consumeFrom: 'FIRST_OFFSET',
    ...fast,
  });
  consumer.subscribe('T1', 'A || B', async (msg) => {
    got.set(msg.msgId, msg);
  });
  await consumer.start();
  await waitFor('27 messages', () => got.size >= 27);
  await consumer.shutdown();
  for (const [id, s] of sent) {
    const m = got.get(id);
    assert.ok(m, `message ${id} received`);
    assert.deepEqual(m.body, s.body);
    assert.equal(m.offsetMsgId, s.offsetMsgId);
  }
  const first = [...got.values()].find((m) => m.properties.idx === '3')!;
  assert.equal(first.tags, 'A');
  assert.deepEqual(first.keys, ['k3', 'common']);
  assert.ok([...got.values()].some((m) => m.body.toString() === 'oneway'));
  const progress = await admin.consumerProgress('G1', 'T1');
  assert.equal(progress.totalLag, 0, 'offsets committed on shutdown');
});

test('tag filter excludes other tags', async () => {
  const got: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: nameServer(),
    group: 'G1B',
    consumeFrom: 'FIRST_OFFSET',
    ...fast,
  });
  consumer.subscribe('T1', 'B', async (msg) => {
    got.push(msg);
  });
  await consumer.start();
  await waitFor('10 B messages', () => got.length >= 10);
  await new Promise((r) => setTimeout(r, 200));
  await consumer.shutdown();
  assert.equal(got.length, 10);
  assert.ok(got.every((m) => m.tags === 'B'));
});

test('failed handler: message is redelivered through the retry topic', async () => {
  const r = await producer.send({ topic: 'T2', body: 'retry me', tags: 'X' });
  const deliveries: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    nameServer: nameServer(),
    group: 'G2',
    consumeFrom: 'FIRST_OFFSET',
    ...fast,
  });
  consumer.subscribe('T2', '*', async (msg) => {
    deliveries.push(msg);
    if (deliveries.length === 1) throw new Error('first attempt fails');
  });
  await consumer.start();
  await waitFor('redelivery', () => deliveries.length >= 2, 20_000);
  await consumer.shutdown();
  assert.equal(deliveries[0]!.msgId, r.msgId);
  assert.equal(deliveries[1]!.topic, 'T2', 'original topic restored');
  assert.equal(deliveries[1]!.body.toString(), 'retry me');
  assert.equal(deliveries[1]!.reconsumeTimes, 1);
  assert.ok(errors.some((e) => /first attempt fails/.test(e.message)));
});

test('two clustering consumers split the queues; broadcasting consumers both get all', async () => {
  const mk = (group: string, extra: object = {}) =>
    new PushConsumer({ nameServer: nameServer(), group, ...fast, ...extra }).subscribe(
      'T1',
      '*',
      async () => undefined,
    );
  const a = mk('G4');
  const b = mk('G4');
  await a.start();
  await b.start();
  await a.rebalance();
  await b.rebalance();
  await waitFor('split', () => {
    const qa = a.assignedQueues().filter((q) => q.topic === 'T1').length;
    const qb = b.assignedQueues().filter((q) => q.topic === 'T1').length;
    return qa === 2 && qb === 2;
  });
  await a.shutdown();
  await b.shutdown();

  const counts = [0, 0];
  const consumers = [0, 1].map((i) => {
    const c = new PushConsumer({
      nameServer: nameServer(),
      group: 'G5',
      messageModel: 'BROADCASTING',
      consumeFrom: 'FIRST_OFFSET',
      offsetStoreDir: join(dir, 'offsets'),
      instanceName: `b${i}`,
      ...fast,
    });
    c.subscribe('T1', '*', async () => {
      counts[i]!++;
    });
    return c;
  });
  for (const c of consumers) await c.start();
  await waitFor('broadcast to both', () => counts[0]! >= 27 && counts[1]! >= 27);
  for (const c of consumers) await c.shutdown();
});

test('orderly consumer: one key, strictly in order, retried in place', async () => {
  const seen: string[] = [];
  let failed = false;
  const consumer = new PushConsumer({
    nameServer: nameServer(),
    group: 'G6',
    orderly: true,
    consumeFrom: 'FIRST_OFFSET',
    suspendAfterFailureMs: 50,
    ...fast,
  });
  consumer.subscribe('T3', '*', async (msg) => {
    if (msg.body.toString() === 'order-2' && !failed) {
      failed = true;
      throw new Error('transient');
    }
    seen.push(msg.body.toString());
  });
  await consumer.start();
  await waitFor('5 ordered', () => seen.length >= 5);
  await consumer.shutdown();
  assert.deepEqual(seen, ['order-0', 'order-1', 'order-2', 'order-3', 'order-4']);
});

test('simple consumer: receive and ack; messages() iterator', async () => {
  const simple = new SimpleConsumer({
    nameServer: nameServer(),
    group: 'G3',
    consumeFrom: 'FIRST_OFFSET',
    ...fast,
  });
  simple.subscribe('T1');
  await simple.start();
  let total = 0;
  const until = Date.now() + 10_000;
  while (total < 27 && Date.now() < until) {
    const batch = await simple.receive(10, 1000);
    for (const m of batch) simple.ack(m);
    total += batch.length;
  }
  assert.equal(total, 27);
  assert.throws(() => simple.ack({} as ReceivedMessage), /not outstanding/);
  await simple.shutdown();
  assert.equal((await admin.consumerProgress('G3', 'T1')).totalLag, 0);

  const iterating = new PushConsumer({
    nameServer: nameServer(),
    group: 'G7',
    consumeFrom: 'FIRST_OFFSET',
    ...fast,
  });
  iterating.subscribe('T3');
  const it = iterating.messages();
  await iterating.start();
  const bodies: string[] = [];
  for await (const m of it) {
    bodies.push(m.body.toString());
    if (bodies.length === 5) break;
  }
  await iterating.shutdown();
  assert.equal(bodies.length, 5);
});

test('admin: stats, lookup by offset id, unique key and business key; reset offsets', async () => {
  const stats = await admin.topicStats('T1');
  assert.equal(stats.length, 4);
  assert.equal(
    stats.reduce((s, q) => s + q.maxOffset, 0),
    27,
  );
  const [msgId, info] = [...sent.entries()][0]!;
  const byOffset = await admin.queryMessageById(info.offsetMsgId);
  assert.equal(byOffset?.msgId, msgId);
  assert.deepEqual(byOffset?.body, info.body);
  const byUnique = await admin.queryMessageByUniqueKey('T1', msgId);
  assert.equal(byUnique?.offsetMsgId, info.offsetMsgId);
  const byKey = await admin.queryMessageByKey('T1', 'k5');
  assert.equal(byKey.length, 1);
  assert.equal(byKey[0]!.body.toString(), 'hello 5');
  assert.equal((await admin.queryMessageByKey('T1', 'common')).length, 20);

  const reset = await admin.resetOffsetByTimestamp('G1', 'T1', 0);
  assert.equal(reset.size, 4);
  assert.equal((await admin.consumerProgress('G1', 'T1')).totalLag, 27);
});
