import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeProperties,
  encodeProperties,
  findProperty,
  findPropertyRange,
  hasAnyProperty,
  type ByteRange,
} from './properties.js';

test('encode skips null values and accepts maps, entries and records', () => {
  assert.equal(encodeProperties({ A: '1', B: null, C: '' }), 'A\u00011\u0002C\u0001\u0002');
  assert.equal(encodeProperties(new Map([['K', 'v']])), 'K\u0001v\u0002');
  assert.equal(encodeProperties([['X', 'y']]), 'X\u0001y\u0002');
  assert.throws(() => encodeProperties({ 'a\u0001': 'x' }), /INVALID_ARGUMENT|contains/);
  assert.throws(() => encodeProperties({ a: 'x\u0002' }), /pair separator/);
  assert.deepEqual(
    decodeProperties(encodeProperties({ a: 'x\u0001y' })),
    new Map([['a', 'x\u0001y']]),
  );
});

test('decode splits at the first 0x01 and ignores nameless pairs', () => {
  const m = decodeProperties('A\u00011\u0001x\u0002\u0001skip\u0002noSep\u0002B\u0001\u0002');
  assert.deepEqual(
    [...m],
    [
      ['A', '1\u0001x'],
      ['B', ''],
    ],
  );
  assert.equal(decodeProperties('').size, 0);
  assert.equal(decodeProperties('K\u0001V').get('K'), 'V');
});

test('findProperty finds whole names only', () => {
  const bytes = Buffer.from(
    'xTAGS\u0001no\u0002TAGS\u0001yes\u0002KEYS\u0001k1 k2\u0002ü\u0001ö\u0002',
  );
  const start = 1;
  const len = bytes.length - 1;
  assert.equal(findProperty(bytes, start, len, 'TAGS'), 'no');
  assert.equal(findProperty(bytes, 0, bytes.length, 'TAGS'), 'yes');
  assert.equal(findProperty(bytes, start, len, 'KEYS'), 'k1 k2');
  assert.equal(findProperty(bytes, start, len, 'ü'), 'ö');
  assert.equal(findProperty(bytes, start, len, 'TAG'), undefined);
  assert.equal(findProperty(bytes, start, 4, 'TAGS'), undefined);
  const r: ByteRange = { start: 0, end: 0 };
  assert.ok(findPropertyRange(bytes, start, len, 'KEYS', r));
  assert.equal(bytes.subarray(r.start, r.end).toString(), 'k1 k2');
});

test('property: encode/decode/find round trip', () => {
  const name = fc.stringMatching(/^[A-Za-z_#]{1,12}$/);
  const value = fc
    .string({ maxLength: 30 })
    .filter((s) => !s.includes('\u0001') && !s.includes('\u0002'));
  fc.assert(
    fc.property(fc.dictionary(name, value), (obj) => {
      const s = encodeProperties(obj);
      assert.deepEqual(decodeProperties(s), new Map(Object.entries(obj)));
      const bytes = Buffer.from(s);
      for (const [k, v] of Object.entries(obj))
        assert.equal(findProperty(bytes, 0, bytes.length, k), v);
    }),
    { numRuns: 300 },
  );
});

test('hasAnyProperty finds a listed name only as a whole pair name', () => {
  const props = encodeProperties({ TAGS: 'a', 'X-DELAY': '1', KEYS: 'DELAY' });
  assert.equal(hasAnyProperty(props, ['DELAY']), false, 'not as a value or a name suffix');
  assert.equal(hasAnyProperty(props, ['DELAY', 'KEYS']), true);
  assert.equal(hasAnyProperty('', ['TAGS']), false);
  assert.equal(hasAnyProperty('TAGS\u0002\u0001x\u0002', ['TAGS']), false, 'nameless or valueless');
  assert.equal(
    hasAnyProperty('A\u0001b\u0002DELAY\u00013', ['DELAY']),
    true,
    'last pair unterminated',
  );
});
