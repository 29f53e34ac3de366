import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsumeService, type ConsumeHost, type MessageHandler } from './consume-service.js';
import { ProcessQueue } from './process-queue.js';
import { messageQueue } from './message-queue.js';
import type { ReceivedMessage } from './message.js';

function msgs(pq: ProcessQueue, n: number): ReceivedMessage[] {
  return Array.from(
    { length: n },
    (_, i) =>
      ({
        queueOffset: i,
        storeSizeBytes: 1,
        queue: pq.mq,
        topic: 'T',
        msgId: `m${i}`,
      }) as unknown as ReceivedMessage,
  );
}

function host(
  handler: MessageHandler,
  orderly: boolean,
  commits: number[],
): ConsumeHost & { sentBack: number } {
  return {
    running: true,
    orderly,
    clustering: true,
    sentBack: 0,
    handlerFor: () => handler,
    commit: (_pq, offset) => commits.push(offset),
    async sendBack() {
      this.sentBack++;
      return true;
    },
    lockValid: () => true,
    reportError: () => undefined,
  };
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('concurrent: bounded overall and per queue; failures are sent back and committed', async () => {
  let running = 0;
  let peak = 0;
  const commits: number[] = [];
  const h = host(
    async (m) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
      if (m.msgId === 'm3') throw new Error('boom');
    },
    false,
    commits,
  );
  const svc = new ConsumeService(h, {
    maxConcurrency: 4,
    maxConcurrencyPerQueue: 2,
    suspendAfterFailureMs: 10,
    localRetryDelayMs: 10,
  });
  const a = new ProcessQueue(messageQueue('T', 'b', 0));
  const b = new ProcessQueue(messageQueue('T', 'b', 1));
  a.put(msgs(a, 10));
  b.put(msgs(b, 10));
  svc.notify(a);
  svc.notify(b);
  assert.ok(await svc.drain(5000));
  await tick(20);
  assert.ok(await svc.drain(5000));
  assert.equal(peak, 4);
  assert.equal(h.sentBack, 2);
  assert.equal(a.cachedCount + b.cachedCount, 0);
  assert.equal(Math.max(...commits), 10);
});

test('orderly: one at a time per queue, in order; failure suspends and retries the same message', async () => {
  const order: string[] = [];
  let failedOnce = false;
  const commits: number[] = [];
  let running = 0;
  const h = host(
    async (m) => {
      running++;
      assert.equal(running, 1);
      await tick(1);
      running--;
      if (m.msgId === 'm2' && !failedOnce) {
        failedOnce = true;
        throw new Error('retry');
      }
      order.push(m.msgId);
    },
    true,
    commits,
  );
  const svc = new ConsumeService(h, {
    maxConcurrency: 8,
    maxConcurrencyPerQueue: 8,
    suspendAfterFailureMs: 20,
    localRetryDelayMs: 10,
  });
  const pq = new ProcessQueue(messageQueue('T', 'b', 0));
  pq.put(msgs(pq, 5));
  svc.notify(pq);
  const until = Date.now() + 3000;
  while (order.length < 5 && Date.now() < until) await tick(5);
  assert.deepEqual(order, ['m0', 'm1', 'm2', 'm3', 'm4']);
  assert.equal(h.sentBack, 0);
  assert.equal(commits.at(-1), 5);
});
