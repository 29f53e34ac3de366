import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInt64, writeInt64 } from './int64.js';

test('int64 round trip over the safe range, and a refusal beyond 2^53 that says what to do', () => {
  const v = new DataView(new ArrayBuffer(12));
  for (const n of [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1)]) {
    writeInt64(v, 4, n);
    assert.equal(v.getBigInt64(4), BigInt(n));
    assert.equal(readInt64(v, 4, 'offset', 'fix it'), n);
  }
  v.setBigInt64(4, 2n ** 60n);
  assert.throws(() => readInt64(v, 4, 'queue offset', 'rebuild the file'), {
    code: 'STORE_CORRUPT',
    message: /queue offset at byte 4 does not fit 2\^53; rebuild the file/,
  });
});
