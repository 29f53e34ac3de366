import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INLINE_FLUSH_LIMITS, InlineFlushPolicy } from './inline-flush-policy.js';

const KIB = 1024;

test('inline flush policy: small groups only', () => {
  const policy = new InlineFlushPolicy();
  assert.equal(policy.allows(INLINE_FLUSH_LIMITS.maxBytes, 0), true);
  assert.equal(policy.allows(INLINE_FLUSH_LIMITS.maxBytes + 1, 0), false);
  assert.equal(new InlineFlushPolicy({ ...INLINE_FLUSH_LIMITS, maxBytes: 0 }).allows(1, 0), false);
});

test('inline flush policy: at most budgetMs of blocking per window', () => {
  const policy = new InlineFlushPolicy({
    maxBytes: 64 * KIB,
    budgetMs: 10,
    windowMs: 100,
    maxAverageMs: 5,
  });
  let inline = 0;
  for (let nowMs = 0; nowMs < 100 && policy.allows(KIB, nowMs); nowMs += 4) {
    policy.record(KIB, 3, true);
    inline++;
  }
  assert.equal(inline, 4, '3 + 3 + 3 ms are under 10, the fourth makes 12');
  assert.equal(policy.allows(KIB, 99), false, 'the rest of the window goes to the pool');
  assert.equal(policy.allows(KIB, 100), true, 'a new window');
  assert.equal(policy.inlineCount, 4);
});

test('inline flush policy: slow flushes of small groups turn it off until they are fast', () => {
  const policy = new InlineFlushPolicy({
    maxBytes: 64 * KIB,
    budgetMs: 1_000,
    windowMs: 100,
    maxAverageMs: 2,
  });
  assert.equal(policy.allows(KIB, 0), true, 'nothing measured yet');
  policy.record(KIB, 8, true);
  assert.equal(policy.allows(KIB, 200), false, 'the disk took 8 ms');
  // Flushes on the pool keep the average moving; large groups do not count.
  policy.record(1024 * KIB, 0.1, false);
  assert.equal(policy.allows(KIB, 400), false);
  let pooled = 0;
  for (let nowMs = 600; !policy.allows(KIB, nowMs); nowMs += 200) {
    policy.record(KIB, 0.4, false);
    pooled++;
    assert.ok(pooled < 20, 'the average comes down');
  }
  assert.ok(pooled >= 3, `inline again after ${pooled} fast flushes on the pool`);
});
