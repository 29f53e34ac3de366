/**
 * Retry through delay levels, the dead-letter queue (write-only, re-send to the original topic)
 * and timer messages (arbitrary delivery time, max delay, restart in the middle).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Admin,
  MQClientError,
  Producer,
  PushConsumer,
  type ReceivedMessage,
} from '../src/index.js';
import { RemotingClient } from '../src/net/remoting-client.js';
import { encodePullMessageRequestHeader } from '../src/protocol/headers/pull-message.js';
import { createRequest } from '../src/protocol/remoting-command.js';
import { RequestCode } from '../src/protocol/request-code.js';
import { ResponseCode } from '../src/protocol/response-code.js';
import { TIMER_TOPIC } from '../src/broker/perm.js';
import { waitFor } from '../src/common/wait-for.fixture.js';
import { FAST_CONSUMER, SemanticsCluster, fastClient } from './semantics-harness.js';

const cluster = new SemanticsCluster({ timerMaxDelaySec: 60 });
let producer: Producer;
let admin: Admin;

before(async () => {
  await cluster.start();
  admin = new Admin(fastClient(cluster.nameServer));
  await admin.createTopic('RetryT', { queueNums: 1 });
  await admin.createTopic('TimerT', { queueNums: 2 });
  producer = new Producer({ ...fastClient(cluster.nameServer), group: 'PG_RT' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await admin.shutdown();
  await cluster.stop();
});

test('failed messages come back through delay levels 3, 4, … and end in a write-only DLQ', async () => {
  const deliveries: { msg: ReceivedMessage; atMs: number }[] = [];
  const consumer = new PushConsumer({
    ...fastClient(cluster.nameServer),
    ...FAST_CONSUMER,
    group: 'CG_RETRY',
    consumeFrom: 'FIRST_OFFSET',
    maxReconsumeTimes: 2,
  });
  consumer.subscribe('RetryT', '*', (msg) => {
    deliveries.push({ msg, atMs: Date.now() });
    throw new Error('always fails');
  });
  await consumer.start();
  let sent;
  try {
    sent = await producer.send({ topic: 'RetryT', body: 'poison', keys: 'poison-key' });
    await waitFor('3 deliveries', () => deliveries.length >= 3, 8000);
    await waitFor('dead letter', () => cluster.readTopic('%DLQ%CG_RETRY').length === 1, 5000);
  } finally {
    await consumer.shutdown();
  }
  assert.deepEqual(
    deliveries.map((d) => d.msg.reconsumeTimes),
    [0, 1, 2],
  );
  // Retry n waits delay level 3 + n: 300 ms, then 400 ms (test levels are n × 100 ms).
  const gap1 = deliveries[1]!.atMs - deliveries[0]!.atMs;
  const gap2 = deliveries[2]!.atMs - deliveries[1]!.atMs;
  assert.ok(gap1 >= 280 && gap1 < 1500, `first retry after ${gap1} ms`);
  assert.ok(gap2 >= 380 && gap2 < 1600, `second retry after ${gap2} ms`);
  for (const d of deliveries) {
    assert.equal(d.msg.topic, 'RetryT', 'retries show the original topic');
    assert.equal(d.msg.body.toString(), 'poison');
  }
  const retried = deliveries[1]!.msg.properties;
  assert.equal(retried.RETRY_TOPIC, 'RetryT');
  assert.ok(retried.ORIGIN_MESSAGE_ID);
  assert.equal(retried.RECONSUME_TIME, '1');

  const [dead] = cluster.readTopic('%DLQ%CG_RETRY');
  assert.equal(dead!.properties.get('RETRY_TOPIC'), 'RetryT');
  assert.equal(dead!.properties.get('UNIQ_KEY'), sent.msgId);

  // Not readable by a subscription: the DLQ topic is write-only.
  const client = new RemotingClient();
  try {
    const pull = await client.invoke(
      cluster.broker.address,
      createRequest(RequestCode.PULL_MESSAGE, {
        extFields: encodePullMessageRequestHeader({
          consumerGroup: 'CG_RETRY',
          topic: '%DLQ%CG_RETRY',
          queueId: 0,
          queueOffset: 0,
          maxMsgNums: 32,
          sysFlag: 4,
          commitOffset: 0,
          suspendTimeoutMillis: 0,
          subscription: '*',
          subVersion: 0,
          expressionType: 'TAG',
        }),
      }),
      3000,
    );
    assert.equal(pull.code, ResponseCode.NO_PERMISSION, pull.remark);
  } finally {
    client.close();
  }

  // Found by key in the DLQ, and re-sent to the original topic.
  const found = await admin.queryMessageByUniqueKey('%DLQ%CG_RETRY', sent.msgId);
  assert.ok(found, 'DLQ message found by unique key');
  const before = cluster.readTopic('RetryT').length;
  const copyId = await admin.resendDlqMessage(found.offsetMsgId);
  assert.match(copyId, /^[0-9A-F]{32}$/);
  await waitFor('re-sent copy', () => cluster.readTopic('RetryT').length === before + 1);
  const copy = cluster.readTopic('RetryT').at(-1)!;
  assert.equal(Buffer.from(copy.body).toString(), 'poison');
  assert.equal(copy.reconsumeTimes, 0);
  assert.equal(copy.properties.get('UNIQ_KEY'), sent.msgId);
  await assert.rejects(admin.resendDlqMessage(sent.offsetMsgId), /not a dead-letter topic/);
});

test('timer messages arrive within 100 ms of their delivery time', async () => {
  const got: { msg: ReceivedMessage; atMs: number }[] = [];
  const consumer = new PushConsumer({
    ...fastClient(cluster.nameServer),
    ...FAST_CONSUMER,
    group: 'CG_TIMER',
    consumeFrom: 'FIRST_OFFSET',
  });
  consumer.subscribe('TimerT', '*', (msg) => {
    got.push({ msg, atMs: Date.now() });
  });
  await consumer.start();
  try {
    const now = Date.now();
    const due = new Map<string, number>();
    for (const offsetMs of [450, 150, 300, 600]) {
      const at = now + offsetMs;
      const r = await producer.send({
        topic: 'TimerT',
        body: `t${offsetMs}`,
        deliverTimeMs: at,
        tags: 'TT',
      });
      due.set(r.msgId, at);
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 0, 'nothing before due');
    await waitFor('4 timer messages', () => got.length === 4, 5000);
    for (const { msg } of got) {
      const at = due.get(msg.msgId)!;
      const late = msg.storeTimestampMs - at;
      assert.ok(late >= -15 && late < 100, `stored ${late} ms from due`);
      assert.equal(msg.tags, 'TT');
      assert.equal(msg.properties.TIMER_DELIVER_MS, undefined, 'trigger property stripped');
    }
    assert.deepEqual(
      got.map((g) => g.msg.body.toString()),
      ['t150', 't300', 't450', 't600'],
      'in delivery-time order',
    );
  } finally {
    await consumer.shutdown();
  }
});

test('timer beyond timerMaxDelaySec is refused with MESSAGE_ILLEGAL', async () => {
  await assert.rejects(
    producer.send({ topic: 'TimerT', body: 'far', deliverTimeMs: Date.now() + 3_600_000 }),
    (err: unknown) => {
      assert.ok(err instanceof MQClientError);
      assert.equal(err.responseCode, ResponseCode.MESSAGE_ILLEGAL);
      assert.match(err.message, /timerMaxDelaySec/);
      return true;
    },
  );
});

test('a broker restart in the middle of timer delivery neither loses nor repeats', async () => {
  await admin.createTopic('TimerR', { queueNums: 1 });
  const ids: string[] = [];
  const now = Date.now();
  for (let i = 0; i < 20; i++) {
    const r = await producer.send({
      topic: 'TimerR',
      body: `r${i}`,
      deliverTimeMs: now + 100 + i * 60,
    });
    ids.push(r.msgId);
  }
  await waitFor('some delivered', () => cluster.readTopic('TimerR').length >= 3, 5000);
  await cluster.restartBroker();
  assert.ok(
    existsSync(join(cluster.config().storePathRootDir, 'config', 'timerCheckpoint.json')),
    'checkpoint saved',
  );
  await waitFor('all delivered', () => cluster.readTopic('TimerR').length >= 20, 8000);
  await new Promise((r) => setTimeout(r, 300));
  const delivered = cluster.readTopic('TimerR').map((m) => m.msgId);
  assert.equal(delivered.length, 20, 'no repeats');
  assert.deepEqual([...delivered].sort(), [...ids].sort(), 'no loss');
  assert.ok(cluster.readQueue(TIMER_TOPIC).length >= 24, 'timer topic holds the waiting copies');
  await waitFor('buckets cleaned', () => cluster.broker.semantics.timer.pendingBuckets === 0);
});
