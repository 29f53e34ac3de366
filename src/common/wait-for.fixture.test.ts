import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './wait-for.fixture.js';

test('waitFor resolves once the condition holds', async () => {
  let polls = 0;
  await waitFor('three polls', () => ++polls >= 3, 1_000, 1);
  assert.equal(polls, 3);
});

test('waitFor names what it waited for, as it stood at the timeout', async () => {
  let count = 0;
  await assert.rejects(
    waitFor(
      () => `nothing (count ${count})`,
      () => {
        count++;
        return false;
      },
      30,
      5,
    ),
    (err: Error) =>
      /^timed out after 30 ms waiting for nothing \(count [1-9]\d*\)$/.test(err.message),
  );
});
