import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { decodeRecords } from '../common/codec/decoded-message.js';
import { SluiceError } from '../common/errors.js';
import { MessageStore } from './message-store.js';
import { STORE_BACKENDS, smallConfig, tempDir, testMessage } from './message-store-fixture.js';
import { QueueOffsetTable } from './queue-offset-table.js';
import { RecentSlots, TopicSlots, type TopicSlot } from './topic-slot.js';
import type { GetResult, MessageStoreApi, PutResult } from './types.js';

function topicsOf(r: GetResult): string[] {
  assert.ok(r.slices !== undefined, `no messages: ${r.status}`);
  const out: string[] = [];
  for (const b of r.slices.buffers) for (const m of decodeRecords(b)) out.push(m.topic);
  r.slices.release();
  return out;
}

/** Puts a message to `topic` carrying `slot` (which may be another topic's). */
function putCarrying(
  store: MessageStoreApi,
  topic: string,
  body: string,
  slot: TopicSlot,
): Promise<PutResult> {
  return store.putMessage({ ...testMessage({ topic, body, tags: 'T' }), slot });
}

test('TopicSlots checks names once and hands out one slot per topic', () => {
  const slots = new TopicSlots();
  const a = slots.slotOf('TopicA');
  assert.equal(slots.slotOf('TopicA'), a);
  assert.deepEqual([...a.bytes], [...Buffer.from('TopicA')]);
  assert.throws(
    () => slots.slotOf('bad topic'),
    (e: unknown) => e instanceof SluiceError && e.code === 'TOPIC_ILLEGAL',
  );
  // A carried slot counts only for its own topic and only when this cache made it.
  assert.equal(slots.slotFor('TopicA', a), a);
  assert.equal(slots.slotFor('TopicB', a).topic, 'TopicB');
  const other = new TopicSlots().slotOf('TopicA');
  assert.equal(slots.slotFor('TopicA', other), a);
});

test('RecentSlots answers lookups in log order and forgets what it cannot vouch for', () => {
  const slots = new TopicSlots();
  const a = slots.slotOf('A');
  const b = slots.slotOf('B');
  const recent = new RecentSlots();
  recent.add(100, a);
  recent.add(200, b);
  recent.add(300, a);
  assert.equal(recent.slotAt(50), undefined, 'before the first remembered append');
  assert.equal(recent.slotAt(100), a);
  assert.equal(recent.slotAt(250), undefined, 'no append there');
  assert.equal(recent.slotAt(300), a);
  assert.equal(recent.slotAt(300), undefined, 'each append is answered once');
  recent.add(400, b);
  recent.clear();
  assert.equal(recent.slotAt(400), undefined, 'cleared');
  recent.add(400, a);
  assert.equal(recent.slotAt(400), a, 'a reused offset gets the new append');
  // Far more appends than it keeps: the oldest are gone, the newest are there.
  for (let i = 0; i < 200_000; i++) recent.add(1_000 + i, i % 2 === 0 ? a : b);
  assert.equal(recent.slotAt(1_000), undefined);
  assert.equal(recent.slotAt(1_000 + 199_998), a);
  assert.equal(recent.slotAt(1_000 + 199_999), b);
});

test('QueueOffsetTable: a kept slot follows a deleted topic back to offset 0', () => {
  const table = new QueueOffsetTable();
  const slot = new TopicSlots().slotOf('T');
  assert.equal(table.next(slot, 0, 1), 0);
  assert.equal(table.next(slot, 0, 2), 1);
  assert.equal(table.get('T', 0), 3);
  table.set('T', 1, 7);
  assert.equal(table.next(slot, 1, 1), 7, 'set() is seen through the slot');
  table.deleteTopic('T');
  assert.equal(table.next(slot, 0, 1), 0);
  assert.equal(table.get('T', 0), 1);
});

for (const backend of STORE_BACKENDS) {
  test(`[${backend}] messages carrying slots land in their own topic's queues`, async () => {
    const dir = tempDir();
    try {
      const store = await MessageStore.open(smallConfig(dir, backend));
      const slotA = store.topicSlot('TopicA');
      const slotB = store.topicSlot('TopicB');
      for (let i = 0; i < 10; i++) {
        const slot = i % 2 === 0 ? slotA : slotB;
        const r = await putCarrying(store, slot.topic, `m${i}`, slot);
        assert.equal(r.status, 'PUT_OK');
        assert.equal(r.appended[0]!.queueOffset, Math.floor(i / 2));
      }
      // A slot carried with another topic's message is ignored.
      const odd = await putCarrying(store, 'TopicC', 'c', slotA);
      assert.equal(odd.appended[0]!.queueOffset, 0);
      await store.whenDispatched();
      assert.equal(store.getMaxOffsetInQueue('TopicA', 0), 5);
      assert.equal(store.getMaxOffsetInQueue('TopicB', 0), 5);
      assert.equal(store.getMaxOffsetInQueue('TopicC', 0), 1);
      assert.deepEqual(topicsOf(store.getMessage('TopicA', 0, 0, 32)), Array(5).fill('TopicA'));
      assert.deepEqual(topicsOf(store.getMessage('TopicB', 0, 0, 32)), Array(5).fill('TopicB'));
      assert.deepEqual(topicsOf(store.getMessage('TopicC', 0, 0, 32)), ['TopicC']);

      // The topic is deleted while a sender keeps its slot: it starts again at offset 0.
      store.deleteTopic('TopicA');
      const again = await putCarrying(store, 'TopicA', 'again', slotA);
      assert.equal(again.appended[0]!.queueOffset, 0);
      await store.whenDispatched();
      assert.equal(store.getMaxOffsetInQueue('TopicA', 0), 1);
      await store.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
