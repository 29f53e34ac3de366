import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdaptiveWarmLead,
  WARM_LEAD_HORIZON_MS,
  WARM_LEAD_MAX_BYTES,
  WARM_LEAD_MIN_BYTES,
} from './allocate.js';

const MIB = 1024 * 1024;

test('the adaptive warm lead starts at its minimum and follows the append rate', () => {
  const lead = new AdaptiveWarmLead();
  assert.equal(lead.next(100, 0), WARM_LEAD_MIN_BYTES, 'no rate known yet');
  // 10 MiB appended in 100 ms: 100 MiB/s, i.e. 100 MiB within the horizon of 1 s: capped.
  assert.equal(lead.next(100 + 10 * MIB, 100), WARM_LEAD_MAX_BYTES);
  // 4 MiB in 125 ms: 32 MiB/s.
  const at = 100 + 14 * MIB;
  assert.equal(lead.next(at, 225), (32 * MIB * WARM_LEAD_HORIZON_MS) / 1000);
  // A trickle (1 MiB in 10 s) falls back to the minimum.
  assert.equal(lead.next(at + MIB, 10_225), WARM_LEAD_MIN_BYTES);
  assert.equal(lead.current, WARM_LEAD_MIN_BYTES);
});

test('the adaptive warm lead keeps its value when the log has not moved', () => {
  const lead = new AdaptiveWarmLead();
  lead.next(0, 0);
  const fast = lead.next(20 * MIB, 200);
  assert.equal(fast, WARM_LEAD_MAX_BYTES);
  // Called again for the same end (another segment's warm-up, a retry): no zero-rate sample.
  assert.equal(lead.next(20 * MIB, 5_000), fast);
  assert.equal(lead.next(20 * MIB - 1, 6_000), fast, 'an offset behind the last is ignored');
});
