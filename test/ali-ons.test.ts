/**
 * The unmodified `ali-ons` RocketMQ client from npm against a real `sluice start` process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from './support/sluice-process.js';
import {
  clientOptions,
  createTopicWithAliOns,
  ons,
  type AliConsumer,
  type AliProducer,
} from './support/ali-ons.js';
import { waitFor } from '../src/common/wait-for.fixture.js';

function bodyFor(i: number): Buffer {
  // Every 50th body is above 4 KiB, which ali-ons compresses with zlib (sysFlag bit 0).
  const size = i % 50 === 0 ? 6_000 + (i % 7) : 40 + (i % 300);
  const body = Buffer.alloc(size);
  for (let j = 0; j < size; j++) body[j] = (i * 31 + j * 7) & 0xff;
  body.writeUInt32BE(i, 0);
  return body;
}

describe('ali-ons client against sluice', () => {
  let sluice: SluiceProcess;
  let producer: AliProducer;

  before(async () => {
    sluice = await startSluice();
    producer = new ons.Producer({ ...clientOptions(sluice, 'producer'), producerGroup: 'PID_E2E' });
    producer.on('error', () => {});
    await producer.ready();
  });

  after(async () => {
    await producer?.close();
    // ali-ons keeps a process-wide inner producer (for send-back fallbacks) that nothing closes.
    await ons.Producer.defaultProducer?.close();
    const code = await sluice?.stop();
    assert.equal(code, 0, `broker exit code; output:\n${sluice?.output()}`);
    sluice?.cleanup();
  });

  async function createTopic(topic: string): Promise<void> {
    await createTopicWithAliOns(producer, sluice.brokerAddr, topic, 8);
  }

  async function produce(
    topic: string,
    count: number,
    tagOf: (i: number) => string,
  ): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const message = new ons.Message(topic, tagOf(i), bodyFor(i));
      message.keys = [`key-${i}`, `order-${i % 13}`];
      const result = await producer.send(message);
      assert.equal(result.sendStatus, 'SEND_OK');
      ids.set(result.msgId, i);
    }
    return ids;
  }

  function consumer(group: string, instance: string): AliConsumer {
    const c = new ons.Consumer({
      ...clientOptions(sluice, instance),
      consumerGroup: group,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    });
    c.on('error', () => {});
    return c;
  }

  test('10,000 messages with tags and keys are consumed exactly once, identical', async () => {
    const topic = 'AliOnsBulk';
    await createTopic(topic);
    const total = 10_000;
    const sent = await produce(topic, total, (i) => `Tag${i % 3}`);
    assert.equal(sent.size, total, 'every send returned a distinct msgId');

    const seen = new Map<number, number>();
    const c = consumer('GID_BULK', 'bulk');
    c.subscribe(topic, '*', async (message) => {
      const i = message.body.readUInt32BE(0);
      seen.set(i, (seen.get(i) ?? 0) + 1);
      assert.deepEqual(message.body, bodyFor(i), `body of message ${i}`);
      assert.equal(message.tags, `Tag${i % 3}`);
      assert.equal(message.keys, `key-${i} order-${i % 13}`);
      assert.equal(sent.get(message.msgId), i, 'consumed msgId equals the msgId the send returned');
    });
    await c.ready();
    await waitFor(
      () => `${total} messages (have ${seen.size})`,
      () => seen.size === total,
      60_000,
    );
    await c.close();
    const duplicates = [...seen.values()].filter((n) => n > 1).length;
    assert.equal(duplicates, 0, 'no message delivered twice');
  });

  test('a tag-filtered subscription receives only its tags', async () => {
    const topic = 'AliOnsTags';
    await createTopic(topic);
    await produce(topic, 300, (i) => ['TagA', 'TagB', 'TagC'][i % 3]);
    const tags = new Map<string, number>();
    const c = consumer('GID_TAGS', 'tags');
    c.subscribe(topic, 'TagA || TagC', async (message) => {
      tags.set(message.tags ?? '', (tags.get(message.tags ?? '') ?? 0) + 1);
    });
    await c.ready();
    await waitFor(
      'TagA and TagC',
      () => (tags.get('TagA') ?? 0) + (tags.get('TagC') ?? 0) >= 200,
      30_000,
    );
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    await c.close();
    assert.deepEqual([...tags.entries()].sort(), [
      ['TagA', 100],
      ['TagC', 100],
    ]);
  });

  test('two consumers in one group split the queues and together receive everything once', async () => {
    const topic = 'AliOnsShared';
    await createTopic(topic);
    const byConsumer = [new Set<number>(), new Set<number>()];
    const all = new Map<number, number>();
    const consumers = [consumer('GID_SHARED', 'shared-1'), consumer('GID_SHARED', 'shared-2')];
    consumers.forEach((c, k) =>
      c.subscribe(topic, '*', async (message) => {
        const i = message.body.readUInt32BE(0);
        byConsumer[k].add(message.queueId);
        all.set(i, (all.get(i) ?? 0) + 1);
      }),
    );
    await Promise.all(consumers.map((c) => c.ready()));
    // Let both see each other before producing, so the split is stable.
    await new Promise((resolveWait) => setTimeout(resolveWait, 2_500));
    await produce(topic, 800, () => 'T');
    await waitFor(
      () => `800 messages (have ${all.size})`,
      () => all.size === 800,
      30_000,
    );
    await Promise.all(consumers.map((c) => c.close()));
    assert.ok(byConsumer[0].size > 0 && byConsumer[1].size > 0, 'both consumers got queues');
    const overlap = [...byConsumer[0]].filter((q) => byConsumer[1].has(q));
    assert.deepEqual(overlap, [], 'no queue consumed by both');
    assert.equal([...all.values()].filter((n) => n > 1).length, 0, 'nothing consumed twice');
  });

  test('a consumer restarted mid-stream resumes from its committed offset', async () => {
    const topic = 'AliOnsResume';
    await createTopic(topic);
    await produce(topic, 400, () => 'T');
    const first = new Set<number>();
    const c1 = consumer('GID_RESUME', 'resume-1');
    c1.subscribe(topic, '*', async (message) => {
      first.add(message.body.readUInt32BE(0));
    });
    await c1.ready();
    await waitFor('first 400', () => first.size === 400, 30_000);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_000)); // offsets committed
    await c1.close();

    await produce(topic, 400, () => 'T').then(() => undefined);
    const second = new Map<number, number>();
    const c2 = consumer('GID_RESUME', 'resume-2');
    c2.subscribe(topic, '*', async (message) => {
      const i = message.body.readUInt32BE(0);
      second.set(i, (second.get(i) ?? 0) + 1);
    });
    await c2.ready();
    await waitFor(
      () => `second batch (have ${second.size})`,
      () => second.size >= 400,
      30_000,
    );
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    await c2.close();
    // The second run sees the 400 new messages (bodies repeat i = 0..399 per batch) exactly once.
    assert.equal(second.size, 400);
    assert.equal(
      [...second.values()].filter((n) => n > 1).length,
      0,
      'no replay of the first batch',
    );
  });

  test('a message whose handler throws is redelivered', async () => {
    const topic = 'AliOnsRetry';
    await createTopic(topic);
    const attempts = new Map<number, number>();
    const c = consumer('GID_RETRY', 'retry');
    c.subscribe(topic, '*', async (message) => {
      const i = message.body.readUInt32BE(0);
      const n = (attempts.get(i) ?? 0) + 1;
      attempts.set(i, n);
      if (n === 1) throw new Error('first attempt fails on purpose');
    });
    await c.ready();
    await produce(topic, 5, () => 'T');
    await waitFor(
      'redeliveries',
      () => [...attempts.values()].filter((n) => n >= 2).length === 5,
      60_000,
    );
    await c.close();
  });
});
