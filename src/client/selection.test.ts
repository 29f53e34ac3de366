import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyFaultTolerance } from './latency-fault.js';
import { messageQueue } from './message-queue.js';
import { TopicPublishInfo, shardingKeyHash } from './queue-selector.js';
import { publishQueues, subscribeQueues } from './topic-route.js';
import { decodeTopicRouteData } from '../protocol/route-data.js';

const route = decodeTopicRouteData(
  '{"brokerDatas":[{"brokerName":"b","cluster":"C","brokerAddrs":{0:"127.0.0.1:2"}},' +
    '{"brokerName":"a","cluster":"C","brokerAddrs":{"0":"127.0.0.1:1"}},' +
    '{"brokerName":"s","cluster":"C","brokerAddrs":{"1":"127.0.0.1:3"}}],' +
    '"queueDatas":[{"brokerName":"a","readQueueNums":2,"writeQueueNums":2,"perm":6,"topicSysFlag":0},' +
    '{"brokerName":"b","readQueueNums":3,"writeQueueNums":1,"perm":6,"topicSysFlag":0},' +
    '{"brokerName":"s","readQueueNums":1,"writeQueueNums":1,"perm":6,"topicSysFlag":0},' +
    '{"brokerName":"r","readQueueNums":1,"writeQueueNums":1,"perm":4,"topicSysFlag":0}]}',
);

test('route: fastjson integer keys; publish needs write bit and a master; subscribe needs read', () => {
  assert.equal(route.brokerDatas[0]!.brokerAddrs['0'], '127.0.0.1:2');
  const pub = publishQueues('T', route).map((q) => `${q.brokerName}${q.queueId}`);
  assert.deepEqual(pub, ['a0', 'a1', 'b0']);
  const sub = subscribeQueues('T', route).map((q) => `${q.brokerName}${q.queueId}`);
  assert.deepEqual(sub, ['a0', 'a1', 'b0', 'b1', 'b2', 'r0', 's0']);
  const ordered = publishQueues('T', { ...route, orderTopicConf: 'x:2;y:1' });
  assert.deepEqual(
    ordered.map((q) => `${q.brokerName}${q.queueId}`),
    ['x0', 'x1', 'y0'],
  );
});

test('selection: round-robin, avoids the broker that just failed and isolated brokers', () => {
  const info = new TopicPublishInfo(publishQueues('T', route), 0);
  const seq = [0, 1, 2, 3]
    .map(() => info.select(undefined))
    .map((q) => `${q.brokerName}${q.queueId}`);
  assert.deepEqual(seq, ['a0', 'a1', 'b0', 'a0']);
  for (let i = 0; i < 5; i++) assert.equal(info.select('a').brokerName, 'b');

  let now = 1000;
  const fault = new LatencyFaultTolerance({ failureIsolationMs: 500, nowMs: () => now });
  fault.recordFailure('b');
  for (let i = 0; i < 5; i++) assert.equal(info.select(undefined, fault).brokerName, 'a');
  // Both down: the one recovering first is chosen, never the one that just failed.
  fault.recordFailure('a');
  assert.equal(info.select('a', fault).brokerName, 'b');
  now += 600;
  assert.equal(fault.isAvailable('a'), true);
  fault.recordSuccess('a', 2000);
  assert.equal(fault.isAvailable('a'), false);
  fault.recordSuccess('a', 10);
  assert.equal(fault.isAvailable('a'), true);
});

test('sharding key: same key same queue; md5 prefix', () => {
  const info = new TopicPublishInfo(
    [0, 1, 2, 3, 4].map((i) => messageQueue('T', 'a', i)),
    0,
  );
  // md5("abc") = 900150983cd24fb0…
  assert.equal(shardingKeyHash('abc'), 0x90015098);
  const first = info.selectByKey('order-42');
  for (let i = 0; i < 10; i++) assert.equal(info.selectByKey('order-42'), first);
  const spread = new Set(Array.from({ length: 100 }, (_, i) => info.selectByKey(`k${i}`).queueId));
  assert.equal(spread.size, 5);
});
