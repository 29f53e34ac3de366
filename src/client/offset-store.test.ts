import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalFileOffsetStore, RemoteOffsetStore } from './offset-store.js';
import { messageQueue, queueKey, type MessageQueue } from './message-queue.js';

const q0 = messageQueue('T', 'b', 0);
const q1 = messageQueue('T', 'b', 1);

test('remote offset store: memory first, broker fallback, only changed offsets sent', async () => {
  const broker = new Map<string, number>([[queueKey(q1), 7]]);
  const sent: string[] = [];
  const store = new RemoteOffsetStore('G', {
    async queryConsumerOffset(_g, mq: MessageQueue) {
      return broker.get(queueKey(mq)) ?? -1;
    },
    async updateConsumerOffset(g, mq, offset) {
      sent.push(`${g}:${mq.queueId}=${offset}`);
      broker.set(queueKey(mq), offset);
    },
  });
  assert.equal(await store.read(q0, 'memoryThenStore'), -1);
  assert.equal(await store.read(q1, 'memory'), -1);
  assert.equal(await store.read(q1, 'memoryThenStore'), 7);
  assert.equal(await store.read(q1, 'memory'), 7);
  store.update(q0, 5, false);
  store.update(q0, 3, true);
  assert.equal(await store.read(q0, 'memory'), 5);
  await store.persistAll([q0, q1]);
  assert.deepEqual(sent, ['G:0=5'], 'q1 unchanged since read from the broker');
  await store.persistAll([q0, q1]);
  assert.equal(sent.length, 1);
  store.update(q0, 2, false);
  await store.persistAll([q0]);
  assert.deepEqual(sent, ['G:0=5', 'G:0=2']);
});

test('local file offset store: persists and reloads', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-offsets-'));
  try {
    const a = new LocalFileOffsetStore(dir, '10.0.0.1@1', 'G');
    await a.load();
    assert.equal(await a.read(q0, 'memoryThenStore'), -1);
    a.update(q0, 42, true);
    a.update(q1, 9, true);
    await a.persistAll([]);
    assert.ok(fs.existsSync(a.file));
    const b = new LocalFileOffsetStore(dir, '10.0.0.1@1', 'G');
    await b.load();
    assert.equal(await b.read(q0, 'store'), 42);
    assert.equal(await b.read(q1, 'store'), 9);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
