import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteInfoManager } from './route-info-manager.js';
import type { RegisterBrokerRequestHeader } from '../protocol/headers/broker-registration.js';
import type { RegisterBrokerBody, TopicConfig } from '../protocol/route-data.js';

function header(name: string, addr: string, id = 0, cluster = 'C'): RegisterBrokerRequestHeader {
  return {
    brokerName: name,
    brokerAddr: addr,
    clusterName: cluster,
    brokerId: id,
    haServerAddr: `${addr}-ha`,
    compressed: false,
    bodyCrc32: 0,
    completeTopicTable: true,
  };
}

function body(topics: string[], counter: number, queues = 4): RegisterBrokerBody {
  const table: Record<string, TopicConfig> = {};
  for (const t of topics) {
    table[t] = {
      topicName: t,
      readQueueNums: queues,
      writeQueueNums: queues,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    };
  }
  return {
    topicConfigSerializeWrapper: {
      topicConfigTable: table,
      dataVersion: { timestamp: 1, counter },
    },
    filterServerList: [],
  };
}

test('register → route → slave → version change → expiry', () => {
  const r = new RouteInfoManager(1000);
  r.registerBroker(header('a', '10.0.0.1:10911'), body(['T', 'U'], 1), 0);
  r.registerBroker(header('b', '10.0.0.2:10911'), body(['T'], 1, 8), 0);
  const route = r.pickupTopicRouteData('T')!;
  assert.equal(route.brokerDatas.length, 2);
  assert.deepEqual(route.queueDatas.map((q) => q.writeQueueNums).sort(), [4, 8]);
  assert.equal(r.pickupTopicRouteData('nope'), undefined);

  const slave = r.registerBroker(header('a', '10.0.0.3:10911', 1), body(['T', 'U'], 1), 0);
  assert.equal(slave.masterAddr, '10.0.0.1:10911');
  assert.equal(slave.haServerAddr, '10.0.0.1:10911-ha');
  assert.deepEqual(r.pickupTopicRouteData('U')!.brokerDatas[0]!.brokerAddrs, {
    '0': '10.0.0.1:10911',
    '1': '10.0.0.3:10911',
  });

  // Same version: topic table untouched even if the body differs.
  r.registerBroker(header('a', '10.0.0.1:10911'), body(['T'], 1), 500);
  assert.ok(r.pickupTopicRouteData('U'));
  // New version without U: U disappears from broker a.
  r.registerBroker(header('a', '10.0.0.1:10911'), body(['T'], 2), 500);
  assert.equal(r.pickupTopicRouteData('U'), undefined);
  assert.deepEqual(r.getAllTopicList(), ['T']);
  assert.deepEqual(r.getClusterInfo().clusterAddrTable, { C: ['a', 'b'] });

  // At t=1200: b (last seen 0) and a's slave (0) expire; a's master (500) stays.
  const removed = r
    .scanNotActiveBroker(1200)
    .map((x) => x.brokerAddr)
    .sort();
  assert.deepEqual(removed, ['10.0.0.2:10911', '10.0.0.3:10911']);
  const after = r.pickupTopicRouteData('T')!;
  assert.deepEqual(
    after.brokerDatas.map((b) => b.brokerName),
    ['a'],
  );
  assert.deepEqual(r.getClusterInfo().clusterAddrTable, { C: ['a'] });
  r.scanNotActiveBroker(5000);
  assert.equal(r.pickupTopicRouteData('T'), undefined);
  assert.deepEqual(r.getClusterInfo(), { brokerAddrTable: {}, clusterAddrTable: {} });
});

test('connection close, unregister, delete topic, data version query', () => {
  const r = new RouteInfoManager();
  r.registerBroker(header('a', 'x:1'), body(['T'], 1), 0, 77);
  r.registerBroker(header('b', 'y:1', 0, 'D'), body(['T', 'V'], 1), 0, 78);
  assert.deepEqual(r.queryDataVersion('x:1', { timestamp: 1, counter: 1 }, 10).changed, false);
  assert.deepEqual(r.queryDataVersion('x:1', { timestamp: 1, counter: 2 }, 10).changed, true);
  assert.deepEqual(r.getTopicsByCluster('D').sort(), ['T', 'V']);
  assert.equal(r.deleteTopic('T', 'D'), true);
  assert.deepEqual(
    r.pickupTopicRouteData('T')!.brokerDatas.map((b) => b.brokerName),
    ['a'],
  );
  assert.deepEqual(
    r.onConnectionClosed(77).map((b) => b.brokerName),
    ['a'],
  );
  assert.equal(r.pickupTopicRouteData('T'), undefined);
  r.unregisterBroker(header('b', 'y:1', 0, 'D'));
  assert.equal(r.liveBrokerCount, 0);
  assert.deepEqual(r.getAllTopicList(), []);
});

test('registrations without a complete table merge topics and never remove any', () => {
  const r = new RouteInfoManager();
  r.registerBroker(header('a', 'x:1'), body(['T', 'U'], 1), 0);
  const delta = { ...header('a', 'x:1'), completeTopicTable: false };
  r.registerBroker(delta, body(['V'], 2, 8), 10);
  assert.deepEqual(r.getAllTopicList().sort(), ['T', 'U', 'V']);
  assert.equal(r.pickupTopicRouteData('V')!.queueDatas[0]!.writeQueueNums, 8);
  // The delta's version is now current: a complete table of the same version changes nothing.
  assert.equal(r.queryDataVersion('x:1', { timestamp: 1, counter: 2 }, 20).changed, false);
  r.registerBroker(header('a', 'x:1'), body(['T'], 2), 30);
  assert.deepEqual(r.getAllTopicList().sort(), ['T', 'U', 'V']);
  // A newer complete table replaces (U and V are gone).
  r.registerBroker(header('a', 'x:1'), body(['T'], 3), 40);
  assert.deepEqual(r.getAllTopicList(), ['T']);

  // A delta from a broker not known yet does not make this name server current.
  r.registerBroker({ ...header('b', 'y:1'), completeTopicTable: false }, body(['W'], 5), 50);
  assert.ok(r.pickupTopicRouteData('W'));
  assert.equal(r.queryDataVersion('y:1', { timestamp: 1, counter: 5 }, 60).changed, true);
  r.registerBroker(header('b', 'y:1'), body(['W', 'Z'], 5), 70);
  assert.ok(r.pickupTopicRouteData('Z'));
});

test('a RocketMQ broker (no completeTopicTable) keeps its topics across a one-topic registration', () => {
  const r = new RouteInfoManager();
  const java = { ...header('j', 'z:1') };
  delete java.completeTopicTable;
  r.registerBroker(java, body(['A', 'B', 'C'], 1), 0);
  // RocketMQ's registerIncrementBrokerData after UPDATE_AND_CREATE_TOPIC: one topic, new version.
  r.registerBroker(java, body(['D'], 2), 10);
  // Then its periodic full registration with that same version.
  r.registerBroker(java, body(['A', 'B', 'C', 'D'], 2), 20);
  assert.deepEqual(r.getAllTopicList().sort(), ['A', 'B', 'C', 'D']);
});
