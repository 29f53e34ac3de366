/**
 * Message semantics with the unmodified `ali-ons` client against a `sluice start` process with
 * short delay levels: `msg.delayTimeLevel`, `setStartDeliverTime` (timer), retry redelivery
 * through delay levels, and a tag filter on delayed messages.
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
import { TEST_DELAY_LEVELS } from './semantics-harness.js';

type OnsMessage = { keys: string[]; delayTimeLevel: number; setStartDeliverTime(ms: number): void };

describe('ali-ons semantics against sluice', () => {
  let sluice: SluiceProcess;
  let producer: AliProducer;

  before(async () => {
    sluice = await startSluice({ brokerConf: { messageDelayLevel: TEST_DELAY_LEVELS } });
    producer = new ons.Producer({ ...clientOptions(sluice, 'producer'), producerGroup: 'PID_SEM' });
    producer.on('error', () => {});
    await producer.ready();
  });

  after(async () => {
    await producer?.close();
    await ons.Producer.defaultProducer?.close();
    const code = await sluice?.stop();
    assert.equal(code, 0, `broker exit code; output:\n${sluice?.output()}`);
    sluice?.cleanup();
  });

  async function createTopic(topic: string): Promise<void> {
    await createTopicWithAliOns(producer, sluice.brokerAddr, topic, 2);
  }

  function consumer(group: string): AliConsumer {
    const c = new ons.Consumer({
      ...clientOptions(sluice, group),
      consumerGroup: group,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    });
    c.on('error', () => {});
    return c;
  }

  test('delayTimeLevel and setStartDeliverTime delay delivery; tags filter delayed messages', async () => {
    const topic = 'AliOnsDelay';
    await createTopic(topic);
    const got = new Map<string, number>();
    const c = consumer('GID_DELAY');
    c.subscribe(topic, 'TagA', async (message) => {
      got.set(message.body.toString(), Date.now());
    });
    await c.ready();
    const sentAt = Date.now();
    const level3 = new ons.Message(topic, 'TagA', 'level-3') as unknown as OnsMessage;
    level3.delayTimeLevel = 3; // 300 ms with the test levels
    await producer.send(level3);
    const filtered = new ons.Message(topic, 'TagB', 'level-1-tagB') as unknown as OnsMessage;
    filtered.delayTimeLevel = 1;
    await producer.send(filtered);
    const timed = new ons.Message(topic, 'TagA', 'timer-500') as unknown as OnsMessage;
    timed.setStartDeliverTime(sentAt + 500);
    await producer.send(timed);
    await waitFor('delayed messages', () => got.size >= 2, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    await c.close();
    assert.deepEqual([...got.keys()].sort(), ['level-3', 'timer-500'], 'TagB filtered out');
    assert.ok(
      got.get('level-3')! - sentAt >= 290,
      `level 3 after ${got.get('level-3')! - sentAt} ms`,
    );
    assert.ok(
      got.get('timer-500')! - sentAt >= 490,
      `timer after ${got.get('timer-500')! - sentAt} ms`,
    );
  });

  test('a failed message comes back through the retry delay levels', async () => {
    const topic = 'AliOnsRetryDelay';
    await createTopic(topic);
    const attempts: { at: number; reconsumeTimes: number }[] = [];
    const c = consumer('GID_RETRY_DELAY');
    c.subscribe(topic, '*', async (message) => {
      attempts.push({ at: Date.now(), reconsumeTimes: message.reconsumeTimes });
      if (attempts.length < 3) throw new Error('fails twice on purpose');
    });
    await c.ready();
    await producer.send(new ons.Message(topic, 'T', 'retry-me'));
    await waitFor('two redeliveries', () => attempts.length >= 3, 20_000);
    await c.close();
    assert.deepEqual(
      attempts.map((a) => a.reconsumeTimes),
      [0, 1, 2],
    );
    // Delay levels 3 and 4 of the test table: 300 ms and 400 ms.
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 280, 'first retry waited level 3');
    assert.ok(attempts[2]!.at - attempts[1]!.at >= 380, 'second retry waited level 4');
  });
});
