import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicConfigManager } from './topic-config-manager.js';
import { SubscriptionGroupManager } from './subscription-group-manager.js';
import { ConsumerOffsetManager } from './consumer-offset-manager.js';
import { ConsumerManager } from './consumer-manager.js';
import { ProducerManager } from './producer-manager.js';
import { RebalanceLockManager } from './rebalance-lock-manager.js';
import { parseDelayLevels } from './delay-levels.js';
import { PERM_INHERIT, PERM_READ_WRITE, checkTopicName, isSystemTopic } from './perm.js';
import { buildSubscriptionData } from './subscription-data.js';
import type { ClientChannelInfo } from './client-channel.js';

test('topic manager: system topics, auto-create through TBW102, round trip', () => {
  const m = new TopicConfigManager({ defaultTopicQueueNums: 8, autoCreateTopicEnable: true });
  for (const t of ['TBW102', 'SCHEDULE_TOPIC_XXXX', 'RMQ_SYS_TRANS_HALF_TOPIC']) {
    assert.ok(m.selectTopicConfig(t), t);
    assert.ok(isSystemTopic(t));
  }
  assert.equal(m.selectTopicConfig('TBW102')!.perm & PERM_INHERIT, PERM_INHERIT);
  const changes: string[] = [];
  m.onChange((c, deleted) => changes.push(`${c.topicName}:${deleted}`));
  const created = m.createTopicInSendMessageMethod('T1', 'TBW102', 4, 0)!;
  assert.equal(created.writeQueueNums, 4);
  assert.equal(created.perm, PERM_READ_WRITE);
  assert.equal(m.createTopicInSendMessageMethod('T2', 'TBW102', 0, 0)!.writeQueueNums, 8);
  assert.equal(m.createTopicInSendMessageMethod('T3', 'TBW102', 100, 0)!.writeQueueNums, 8);
  assert.equal(m.createTopicInSendMessageMethod('T4', 'NOPE', 4, 0), undefined);
  assert.ok(m.deleteTopicConfig('T1'));
  assert.deepEqual(changes, ['T1:false', 'T2:false', 'T3:false', 'T1:true']);

  const copy = new TopicConfigManager({ defaultTopicQueueNums: 8, autoCreateTopicEnable: false });
  copy.decode(JSON.parse(JSON.stringify(m.encode())));
  assert.equal(copy.selectTopicConfig('T2')!.writeQueueNums, 8);
  assert.equal(copy.selectTopicConfig('T1'), undefined);
  assert.equal(copy.selectTopicConfig('TBW102')!.perm & PERM_INHERIT, 0);
  assert.equal(copy.createTopicInSendMessageMethod('T9', 'TBW102', 4, 0), undefined);
  assert.equal(copy.dataVersion.counter, m.dataVersion.counter);
});

test('topic names are checked', () => {
  assert.equal(checkTopicName('Good_topic-1%x|y'), undefined);
  assert.match(checkTopicName('bad topic')!, /illegal characters/);
  assert.match(checkTopicName('')!, /empty/);
  assert.match(checkTopicName('x'.repeat(128))!, /at most 127/);
});

test('subscription groups auto-create with RocketMQ defaults', () => {
  const m = new SubscriptionGroupManager(true);
  const g = m.findSubscriptionGroupConfig('CG')!;
  assert.equal(g.retryMaxTimes, 16);
  assert.equal(g.retryQueueNums, 1);
  assert.equal(new SubscriptionGroupManager(false).findSubscriptionGroupConfig('CG'), undefined);
  const copy = new SubscriptionGroupManager(false);
  copy.decode(JSON.parse(JSON.stringify(m.encode())));
  assert.equal(copy.findSubscriptionGroupConfig('CG')!.retryMaxTimes, 16);
});

test('consumer offsets: commit, ignore negatives, round trip', () => {
  const m = new ConsumerOffsetManager();
  assert.equal(m.queryOffset('G', 'T', 0), -1);
  m.commitOffset('G', 'T', 0, 5);
  m.commitOffset('G', 'T', 0, -1);
  m.commitOffset('G', 'T', 3, 7);
  m.commitOffset('G2', '%RETRY%G', 0, 1);
  assert.equal(m.queryOffset('G', 'T', 0), 5);
  const version = m.version;
  m.commitOffset('G', 'T', 0, 5);
  assert.equal(m.version, version, 'the same offset again is no change');
  m.commitOffset('G', 'T', 0, 6);
  assert.ok(m.version > version);
  m.commitOffset('G', 'T', 0, 5);
  const json = JSON.parse(JSON.stringify(m.encode()));
  assert.deepEqual(json.offsetTable['T@G'], { '0': 5, '3': 7 });
  const copy = new ConsumerOffsetManager();
  copy.decode(json);
  assert.equal(copy.queryOffset('G', 'T', 3), 7);
  assert.equal(copy.queryOffset('G2', '%RETRY%G', 0), 1);
  const loaded = copy.version;
  copy.removeTopic('T');
  assert.ok(copy.version > loaded, 'forgetting a topic is a change');
  assert.equal(copy.queryOffset('G', 'T', 3), -1);
});

function client(channel: string, clientId: string, at = Date.now()): ClientChannelInfo<string> {
  return {
    channel,
    clientId,
    clientAddr: channel,
    language: 'JAVA',
    version: 121,
    lastUpdateTimestamp: at,
  };
}

test('consumer manager: membership changes notify the remaining members', () => {
  const m = new ConsumerManager<string>();
  const events: string[] = [];
  m.onConsumerIdsChanged((group, channels) => events.push(`${group}:${channels.join(',')}`));
  const sub = buildSubscriptionData('T', 'TagA || TagB');
  assert.ok(m.registerConsumer('G', client('c1', 'id1'), {}, [sub], true));
  assert.ok(!m.registerConsumer('G', client('c1', 'id1'), {}, [sub], true));
  assert.ok(m.registerConsumer('G', client('c2', 'id0'), {}, [sub], true));
  assert.deepEqual(m.getConsumerGroupInfo('G')!.clientIds(), ['id0', 'id1']);
  assert.deepEqual(m.findSubscriptionData('G', 'T')!.tagsSet, ['TagA', 'TagB']);
  assert.deepEqual(m.doChannelCloseEvent('c2'), ['G']);
  assert.ok(m.unregisterConsumer('G', 'id1', true));
  assert.equal(m.getConsumerGroupInfo('G'), undefined);
  assert.deepEqual(events, ['G:c1', 'G:c1,c2', 'G:c1']);

  m.registerConsumer('G', client('c3', 'id3', Date.now() - 10_000), {}, [sub], true);
  m.registerConsumer('G', client('c4', 'id4'), {}, [sub], true);
  const dropped = m.scanNotActiveChannel(Date.now(), 5_000);
  assert.deepEqual(
    dropped.map((c) => c.clientId),
    ['id3'],
  );
  assert.deepEqual(m.getConsumerGroupInfo('G')!.clientIds(), ['id4']);
});

test('producer manager: register, expire, close', () => {
  const m = new ProducerManager<string>();
  m.registerProducer('PG', client('c1', 'p1'));
  m.registerProducer('PG', client('c2', 'p2', 0));
  assert.equal(m.connections('PG').length, 2);
  assert.equal(m.scanNotActiveChannel(Date.now(), 1000).length, 1);
  assert.equal(m.getAvailableChannel('PG'), 'c1');
  m.doChannelCloseEvent('c1');
  assert.deepEqual(m.groupNames(), []);
});

test('queue locks expire and belong to one client', () => {
  const m = new RebalanceLockManager(1000);
  const mq = { topic: 'T', brokerName: 'b', queueId: 0 };
  assert.equal(m.tryLockBatch('G', [mq], 'a', 0).length, 1);
  assert.equal(m.tryLockBatch('G', [mq], 'b', 500).length, 0);
  assert.equal(m.tryLockBatch('G', [mq], 'b', 1600).length, 1);
  m.unlockBatch('G', [mq], 'a');
  assert.ok(m.isLockedBy('G', mq, 'b', 1700));
  m.unlockBatch('G', [mq], 'b');
  assert.ok(!m.isLockedBy('G', mq, 'b', 1700));
});

test('delay levels parse', () => {
  const levels = parseDelayLevels('1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h');
  assert.equal(levels.length, 18);
  assert.equal(levels[2], 10_000);
  assert.equal(levels[17], 7_200_000);
  assert.throws(() => parseDelayLevels('1x'), /CONFIG|not a number/);
  assert.throws(() => parseDelayLevels(''), /not a number/);
});
