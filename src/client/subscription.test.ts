import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSubscription, tagMatches } from './subscription.js';

test('subscription: *, empty and undefined match everything', () => {
  for (const expr of ['*', '', ' * ', undefined]) {
    const sub = parseSubscription('T', expr, 7);
    assert.equal(sub.subString, '*');
    assert.deepEqual(sub.tagsSet, []);
    assert.equal(sub.expressionType, 'TAG');
    assert.equal(sub.subVersion, 7);
    assert.equal(tagMatches(sub, 'x'), true);
    assert.equal(tagMatches(sub, undefined), true);
  }
});

test('subscription: tag list with Java hash codes, trimmed, empty parts dropped', () => {
  const sub = parseSubscription('T', ' TagA ||TagB|| || TagA ');
  assert.deepEqual(sub.tagsSet, ['TagA', 'TagB']);
  assert.deepEqual(sub.codeSet, [2598919, 2598920]);
  assert.equal(sub.subString, 'TagA ||TagB|| || TagA');
  assert.equal(tagMatches(sub, 'TagB'), true);
  assert.equal(tagMatches(sub, 'TagC'), false);
  assert.equal(tagMatches(sub, undefined), false);
  assert.throws(() => parseSubscription('T', '||'), /names no tag/);
});

test('subscription: SQL92 object form', () => {
  const sub = parseSubscription('T', { type: 'SQL92', expression: ' a > 3 ' });
  assert.equal(sub.expressionType, 'SQL92');
  assert.equal(sub.subString, 'a > 3');
  assert.equal(tagMatches(sub, 'whatever'), true);
  assert.throws(() => parseSubscription('T', { type: 'SQL92', expression: ' ' }), /empty/);
});
