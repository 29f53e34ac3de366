import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexKeyHash, javaHashContinue, javaHashUtf8, javaStringHashCode } from './java-hash.js';

test('javaStringHashCode matches known Java values', () => {
  assert.equal(javaStringHashCode(''), 0);
  assert.equal(javaStringHashCode('a'), 97);
  assert.equal(javaStringHashCode('TagA'), 2598919);
  assert.equal(javaStringHashCode('hello'), 99162322);
  // Wraps around int32: "polygenelubricants" hashes to Integer.MIN_VALUE in Java.
  assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  assert.equal(javaStringHashCode('Aa'), javaStringHashCode('BB'));
});

test('indexKeyHash is abs with MIN_VALUE mapped to 0', () => {
  assert.equal(indexKeyHash(-5), 5);
  assert.equal(indexKeyHash(7), 7);
  assert.equal(indexKeyHash(-2147483648), 0);
  assert.equal(indexKeyHash(javaStringHashCode('polygenelubricants')), 0);
});

test('javaHashContinue hashes a concatenation', () => {
  assert.equal(
    javaHashContinue(javaStringHashCode('topic#'), 'key'),
    javaStringHashCode('topic#key'),
  );
});

test('javaHashUtf8 equals hashing the decoded string, also for malformed bytes', () => {
  const samples = ['', 'plain', 'tägs', '标签', 'emoji 😀 end', '\u07ff\u0800\uffff'];
  const enc = new TextEncoder();
  for (const s of samples) {
    const b = enc.encode(s);
    assert.equal(javaHashUtf8(b, 0, b.length), javaStringHashCode(s), s);
  }
  const dec = new TextDecoder();
  const bad = [
    [0xff, 0x41],
    [0xc3],
    [0xe2, 0x82],
    [0xe0, 0x80, 0x80],
    [0xed, 0xa0, 0x80],
    [0xf0, 0x9f, 0x98],
    [0x41, 0xc3, 0x28, 0x42],
    [0xf4, 0x90, 0x80, 0x80],
  ];
  for (const arr of bad) {
    const b = new Uint8Array(arr);
    assert.equal(javaHashUtf8(b, 0, b.length), javaStringHashCode(dec.decode(b)), String(arr));
  }
  // Random byte soup.
  for (let n = 0; n < 2000; n++) {
    const b = new Uint8Array(1 + (n % 13));
    for (let i = 0; i < b.length; i++) b[i] = (Math.random() * 256) | 0;
    assert.equal(javaHashUtf8(b, 0, b.length), javaStringHashCode(dec.decode(b)), String(b));
  }
});
