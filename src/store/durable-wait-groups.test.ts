import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurableWaitGroups } from './durable-wait-groups.js';

test('the waits of one synchronous run share one flush wait for their highest end offset', async () => {
  const asked: number[] = [];
  const resolvers: (() => void)[] = [];
  const groups = new DurableWaitGroups((end) => {
    asked.push(end);
    return new Promise<void>((resolve) => resolvers.push(resolve));
  });
  const settled: string[] = [];
  const a = groups.wait(100).then(() => settled.push('a'));
  const b = groups.wait(300).then(() => settled.push('b'));
  const c = groups.wait(200).then(() => settled.push('c'));
  await Promise.resolve();
  assert.deepEqual(asked, [300], 'one wait, for the highest end');
  const d = groups.wait(400).then(() => settled.push('d'));
  await Promise.resolve();
  assert.deepEqual(asked, [300, 400], 'a later run gets its own wait');
  resolvers[1]!();
  await d;
  assert.deepEqual(settled, ['d'], 'the first run still waits');
  resolvers[0]!();
  await Promise.all([a, b, c]);
  assert.deepEqual(settled, ['d', 'a', 'b', 'c']);
});

test('a failed flush wait rejects every wait of its run', async () => {
  const groups = new DurableWaitGroups(() => Promise.reject(new Error('disk gone')));
  const results = await Promise.allSettled([groups.wait(10), groups.wait(20)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
});
