import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growBuffer } from './grow-buffer.js';

test('growBuffer doubles until the need fits and keeps the used prefix', () => {
  const old = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const grown = growBuffer(old, 5, 40);
  assert.equal(grown.length, 64);
  assert.deepEqual([...grown.subarray(0, 5)], [1, 2, 3, 4, 5]);
  assert.equal(grown.byteOffset, 0, 'unpooled: its ArrayBuffer is its own');
  assert.equal(grown.buffer.byteLength, 64);
  assert.equal(growBuffer(old, 8, 9).length, 16);
});
