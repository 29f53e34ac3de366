/**
 * SQL92 subscriptions end to end (matching, bad expressions answered with code 23 at heartbeat
 * and pull) and queries: by offset id, by unique key, by key within a time range, topic stats
 * (GET_TOPIC_STATS_INFO) and an offset reset by time picked up by an online consumer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer, PushConsumer, type ReceivedMessage } from '../src/index.js';
import { RemotingClient } from '../src/net/remoting-client.js';
import { encodeHeartbeatData } from '../src/protocol/client-bodies.js';
import { encodePullMessageRequestHeader } from '../src/protocol/headers/pull-message.js';
import { createRequest } from '../src/protocol/remoting-command.js';
import { RequestCode } from '../src/protocol/request-code.js';
import { ResponseCode } from '../src/protocol/response-code.js';
import { waitFor } from '../src/common/wait-for.fixture.js';
import { FAST_CONSUMER, SemanticsCluster, fastClient } from './semantics-harness.js';

const cluster = new SemanticsCluster();
let producer: Producer;
let admin: Admin;

before(async () => {
  await cluster.start();
  admin = new Admin(fastClient(cluster.nameServer));
  await admin.createTopic('SqlT', { queueNums: 2 });
  await admin.createTopic('QueryT', { queueNums: 2 });
  await admin.createTopic('ResetT', { queueNums: 1 });
  producer = new Producer({ ...fastClient(cluster.nameServer), group: 'PG_Q' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await admin.shutdown();
  await cluster.stop();
});

test('SQL92 subscription: only matching messages are delivered', async () => {
  const got: ReceivedMessage[] = [];
  const consumer = new PushConsumer({
    ...fastClient(cluster.nameServer),
    ...FAST_CONSUMER,
    group: 'CG_SQL',
    consumeFrom: 'FIRST_OFFSET',
  });
  consumer.subscribe(
    'SqlT',
    { type: 'SQL92', expression: "price > 10 AND region IN ('eu','us') AND vip IS NOT NULL" },
    (msg) => {
      got.push(msg);
    },
  );
  await consumer.start();
  try {
    const cases: [Record<string, string>, boolean][] = [
      [{ price: '12', region: 'eu', vip: 'y' }, true],
      [{ price: '9', region: 'eu', vip: 'y' }, false],
      [{ price: '50', region: 'asia', vip: 'y' }, false],
      [{ price: '50', region: 'us' }, false],
      [{ price: 'lots', region: 'us', vip: 'y' }, false],
      [{ price: '11.5', region: 'us', vip: 'n' }, true],
      [{}, false],
    ];
    for (let i = 0; i < cases.length; i++) {
      await producer.send({ topic: 'SqlT', body: `m${i}`, properties: cases[i]![0] });
    }
    const expected = cases.flatMap(([, ok], i) => (ok ? [`m${i}`] : []));
    await waitFor('matching messages', () => got.length >= expected.length, 5000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(got.map((m) => m.body.toString()).sort(), expected);
  } finally {
    await consumer.shutdown();
  }
});

test('a bad SQL92 expression is refused with code 23 naming the position', async () => {
  const client = new RemotingClient();
  try {
    const pull = await client.invoke(
      cluster.broker.address,
      createRequest(RequestCode.PULL_MESSAGE, {
        extFields: encodePullMessageRequestHeader({
          consumerGroup: 'CG_BAD',
          topic: 'SqlT',
          queueId: 0,
          queueOffset: 0,
          maxMsgNums: 32,
          sysFlag: 4,
          commitOffset: 0,
          suspendTimeoutMillis: 0,
          subscription: "price > AND region = 'eu'",
          subVersion: 0,
          expressionType: 'SQL92',
        }),
      }),
      3000,
    );
    assert.equal(pull.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    assert.match(pull.remark ?? '', /position 8/);

    const hb = await client.invoke(
      cluster.broker.address,
      createRequest(RequestCode.HEART_BEAT, {
        body: encodeHeartbeatData({
          clientID: '127.0.0.1@bad-sql',
          producerDataSet: [],
          consumerDataSet: [
            {
              groupName: 'CG_BAD',
              consumeType: 'CONSUME_PASSIVELY',
              messageModel: 'CLUSTERING',
              consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
              unitMode: false,
              subscriptionDataSet: [
                {
                  topic: 'SqlT',
                  subString: "region IN ('eu'",
                  expressionType: 'SQL92',
                  classFilterMode: false,
                  tagsSet: [],
                  codeSet: [],
                  subVersion: 1,
                },
              ],
            },
          ],
        }),
      }),
      3000,
    );
    assert.equal(hb.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    assert.match(hb.remark ?? '', /position 15/);
  } finally {
    client.close();
  }
});

test('queries by offset id, unique key, key in a time range; topic stats', async () => {
  const first = await producer.send({ topic: 'QueryT', body: 'one', keys: ['order-9', 'x'] });
  await new Promise((r) => setTimeout(r, 30));
  const middle = Date.now();
  await new Promise((r) => setTimeout(r, 30));
  const second = await producer.send({ topic: 'QueryT', body: 'two', keys: 'order-9' });
  await new Promise((r) => setTimeout(r, 100)); // let the index catch up

  const byId = await admin.queryMessageById(first.offsetMsgId);
  assert.equal(byId?.body.toString(), 'one');
  const byUniq = await admin.queryMessageByUniqueKey('QueryT', second.msgId);
  assert.equal(byUniq?.body.toString(), 'two');
  const all = await admin.queryMessageByKey('QueryT', 'order-9');
  assert.deepEqual(
    all.map((m) => m.body.toString()),
    ['one', 'two'],
  );
  const late = await admin.queryMessageByKey('QueryT', 'order-9', { beginTimestampMs: middle });
  assert.deepEqual(
    late.map((m) => m.body.toString()),
    ['two'],
  );
  const early = await admin.queryMessageByKey('QueryT', 'order-9', { endTimestampMs: middle });
  assert.deepEqual(
    early.map((m) => m.body.toString()),
    ['one'],
  );

  const stats = await admin.topicStats('QueryT');
  assert.equal(stats.length, 2);
  const total = stats.reduce((s, q) => s + q.maxOffset - q.minOffset, 0);
  assert.equal(total, 2);
  for (const q of stats) {
    if (q.maxOffset > 0) assert.ok(q.lastUpdateTimestamp >= middle - 1000, 'last update time');
  }
});

test('an offset reset by time reaches an online consumer without a restart', async () => {
  const got: string[] = [];
  const consumer = new PushConsumer({
    ...fastClient(cluster.nameServer),
    ...FAST_CONSUMER,
    group: 'CG_RESET',
    consumeFrom: 'FIRST_OFFSET',
  });
  consumer.subscribe('ResetT', '*', (msg) => {
    got.push(msg.body.toString());
  });
  await consumer.start();
  try {
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'ResetT', body: `early${i}` });
    await new Promise((r) => setTimeout(r, 30));
    const t = Date.now();
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'ResetT', body: `late${i}` });
    await waitFor('first pass', () => got.length === 6);
    await new Promise((r) => setTimeout(r, 400)); // offsets committed
    const offsets = await admin.resetOffsetByTimestamp('CG_RESET', 'ResetT', t);
    assert.equal([...offsets.values()][0]!.offset, 3);
    await waitFor('replayed after the reset', () => got.length === 9, 5000);
    assert.deepEqual(got.slice(6), ['late0', 'late1', 'late2']);
  } finally {
    await consumer.shutdown();
  }
});
