/**
 * Delay levels end to end: SDK producer → SCHEDULE_TOPIC_XXXX → per-level delivery → consumer,
 * invisibility before the due time, accuracy, and a broker restart in the middle of a delayed
 * flow (no loss, no repeat).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, PushConsumer, type ReceivedMessage } from '../src/index.js';
import { SCHEDULE_TOPIC } from '../src/broker/perm.js';
import { waitFor } from '../src/common/wait-for.fixture.js';
import { FAST_CONSUMER, SemanticsCluster, fastClient } from './semantics-harness.js';

const cluster = new SemanticsCluster();
let producer: Producer;

before(async () => {
  await cluster.start();
  producer = new Producer({ ...fastClient(cluster.nameServer), group: 'PG_DELAY' });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await cluster.stop();
});

async function createTopic(topic: string, queueNums = 2): Promise<void> {
  const { Admin } = await import('../src/index.js');
  const admin = new Admin(fastClient(cluster.nameServer));
  try {
    await admin.createTopic(topic, { queueNums });
  } finally {
    await admin.shutdown();
  }
}

test('delayed messages are invisible until due and arrive within 100 ms of it', async () => {
  await createTopic('DelayT');
  const got: { msg: ReceivedMessage; atMs: number }[] = [];
  const consumer = new PushConsumer({
    ...fastClient(cluster.nameServer),
    ...FAST_CONSUMER,
    group: 'CG_DELAY',
    consumeFrom: 'FIRST_OFFSET',
  });
  consumer.subscribe('DelayT', '*', (msg) => {
    got.push({ msg, atMs: Date.now() });
  });
  await consumer.start();
  try {
    const sentAt = new Map<string, { at: number; level: number }>();
    for (const level of [1, 3, 5, 2, 4]) {
      const at = Date.now();
      const r = await producer.send({
        topic: 'DelayT',
        body: `level-${level}`,
        delayLevel: level,
        tags: 'TagD',
        keys: `k${level}`,
        properties: { color: 'blue' },
      });
      sentAt.set(r.msgId, { at, level });
    }
    // Nothing is visible before it is due (the shortest delay is 100 ms). Counted against the
    // messages due by the time of the check, so that slow sends on a loaded box do not fail it.
    await new Promise((r) => setTimeout(r, 50));
    const delivered = got.length;
    const inTopic = cluster.readTopic('DelayT').length;
    const checkedAt = Date.now();
    const due = [...sentAt.values()].filter((s) => s.at + s.level * 100 <= checkedAt).length;
    assert.ok(due < 5, 'the check ran before the longest delays were due');
    assert.ok(delivered <= due, `${delivered} delivered with ${due} due`);
    assert.ok(inTopic <= due, `${inTopic} in the real topic with ${due} due`);
    assert.equal(cluster.readTopic(SCHEDULE_TOPIC).length, 5, 'all wait in the schedule topic');

    await waitFor('5 delayed messages', () => got.length === 5, 5000);
    const lateness: number[] = [];
    for (const { msg, atMs } of got) {
      const sent = sentAt.get(msg.msgId);
      assert.ok(sent, 'known message');
      const dueMs = sent.at + sent.level * 100;
      // The stored copy reached the real topic within 100 ms of due.
      const stored = msg.storeTimestampMs;
      assert.ok(stored >= dueMs - 15, `stored ${stored - dueMs} ms before due`);
      assert.ok(stored - dueMs < 100, `stored ${stored - dueMs} ms after due`);
      lateness.push(atMs - dueMs);
      assert.equal(msg.topic, 'DelayT');
      assert.equal(msg.tags, 'TagD');
      assert.deepEqual(msg.keys, [`k${sent.level}`]);
      assert.equal(msg.properties.color, 'blue');
      assert.equal(msg.properties.DELAY, undefined, 'DELAY stripped');
      assert.equal(msg.body.toString(), `level-${sent.level}`);
    }
    console.log(`delay lateness at the consumer (ms): ${lateness.join(', ')}`);
  } finally {
    await consumer.shutdown();
  }
});

test('a broker restart in the middle of delayed delivery neither loses nor repeats', async () => {
  await createTopic('DelayR', 1);
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    // levels 1..15: 100 ms .. 1.5 s, so some are due before and some after the restart
    const r = await producer.send({ topic: 'DelayR', body: `m${i}`, delayLevel: (i % 15) + 1 });
    ids.push(r.msgId);
  }
  await waitFor('some delivered', () => cluster.readTopic('DelayR').length >= 3, 5000);
  await cluster.restartBroker();
  const offsetsFile = join(cluster.config().storePathRootDir, 'config', 'delayOffset.json');
  assert.ok(existsSync(offsetsFile), 'delayOffset.json written');
  const table = JSON.parse(readFileSync(offsetsFile, 'utf8')) as {
    offsetTable: Record<string, number>;
  };
  assert.ok(
    Object.values(table.offsetTable).some((v) => v > 0),
    'offsets saved',
  );
  await waitFor('all 30 delivered', () => cluster.readTopic('DelayR').length >= 30, 8000);
  await new Promise((r) => setTimeout(r, 300));
  const delivered = cluster.readTopic('DelayR').map((m) => m.msgId);
  assert.equal(delivered.length, 30, 'no repeats');
  assert.deepEqual([...delivered].sort(), [...ids].sort(), 'no loss');
});
