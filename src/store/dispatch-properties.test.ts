import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PropertyRanges } from './dispatch-properties.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array, start: number, end: number): string | null =>
  start < 0 ? null : new TextDecoder().decode(b.subarray(start, end));

test('scan finds TAGS, KEYS, UNIQ_KEY and DELAY; the first pair of a name wins', () => {
  const props = enc(
    'WAIT\u0001true\u0002TAGS\u0001TagA\u0002KEYS\u0001k1 k2\u0002UNIQ_KEY\u0001ABC\u0002' +
      'DELAY\u00013\u0002TAGS\u0001second\u0002',
  );
  // Inside a larger buffer, as in the log.
  const buf = new Uint8Array(props.length + 10);
  buf.set(props, 5);
  const r = new PropertyRanges();
  r.scan(buf, 5, props.length);
  assert.equal(text(buf, r.tagsStart, r.tagsEnd), 'TagA');
  assert.equal(text(buf, r.keysStart, r.keysEnd), 'k1 k2');
  assert.equal(text(buf, r.uniqStart, r.uniqEnd), 'ABC');
  assert.equal(text(buf, r.delayStart, r.delayEnd), '3');
});

test('scan resets between records and skips pairs without a value', () => {
  const r = new PropertyRanges();
  const a = enc('TAGS\u0001x\u0002');
  r.scan(a, 0, a.length);
  assert.equal(text(a, r.tagsStart, r.tagsEnd), 'x');
  const b = enc('NOVALUE\u0002KEYS\u0001k\u0002TAG\u0001y\u0002UNIQ_KEYX\u0001z');
  r.scan(b, 0, b.length);
  assert.equal(r.tagsStart, -1, 'the last record had TAGS, this one has not');
  assert.equal(text(b, r.keysStart, r.keysEnd), 'k');
  assert.equal(r.uniqStart, -1, 'UNIQ_KEYX is not UNIQ_KEY');
  assert.equal(r.delayStart, -1);
});
