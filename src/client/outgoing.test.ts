import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { decodeProperties, encodeProperties } from '../common/codec/properties.js';
import { encodeMessage } from './outgoing.js';

const limits = { maxBodyBytes: 64 * 1024, compressOverBytes: 4096 };

test('encode: properties carry tags, keys, delay, sharding key, UNIQ_KEY and user props', () => {
  const e = encodeMessage(
    {
      topic: 'T',
      body: 'hi',
      tags: 'A',
      keys: ['k1', 'k2'],
      delayLevel: 3,
      shardingKey: 's',
      deliverTimeMs: 1700000000000,
      properties: { color: 'red' },
    },
    'ID1',
    limits,
  );
  const p = decodeProperties(e.properties);
  assert.equal(p.get('TAGS'), 'A');
  assert.equal(p.get('KEYS'), 'k1 k2');
  assert.equal(p.get('DELAY'), '3');
  assert.equal(p.get('__SHARDINGKEY'), 's');
  assert.equal(p.get('TIMER_DELIVER_MS'), '1700000000000');
  assert.equal(p.get('UNIQ_KEY'), 'ID1');
  assert.equal(p.get('color'), 'red');
  assert.equal(e.sysFlag, 0);
  assert.equal(e.body.toString(), 'hi');
});

test('encode: bodies over the threshold are zlib-compressed with sysFlag bit 0', () => {
  const body = Buffer.alloc(5000, 'x');
  const e = encodeMessage({ topic: 'T', body }, 'ID', limits);
  assert.equal(e.sysFlag & 1, 1);
  assert.deepEqual(inflateSync(e.body), body);
  const exact = encodeMessage({ topic: 'T', body: Buffer.alloc(4096, 'x') }, 'ID', limits);
  assert.equal(exact.sysFlag & 1, 0, 'exactly 4 KiB stays raw');
  const batchItem = encodeMessage({ topic: 'T', body }, 'ID', limits, false);
  assert.equal(batchItem.sysFlag, 0);
  const u8 = encodeMessage({ topic: 'T', body: new Uint8Array([1, 2, 3]) }, 'ID', limits);
  assert.deepEqual([...u8.body], [1, 2, 3]);
});

test('encode: validation errors are typed and say what to do', () => {
  const bad = (msg: object, re: RegExp, code: string): void => {
    assert.throws(
      () => encodeMessage(msg as never, 'ID', limits),
      (err: { code: string; message: string }) => err.code === code && re.test(err.message),
    );
  };
  bad({ topic: '', body: 'x' }, /missing/, 'TOPIC_ILLEGAL');
  bad({ topic: 'a b', body: 'x' }, /invalid/, 'TOPIC_ILLEGAL');
  bad({ topic: 'x'.repeat(128), body: 'x' }, /127/, 'TOPIC_ILLEGAL');
  bad({ topic: 'T', body: '' }, /empty/, 'MESSAGE_ILLEGAL');
  bad({ topic: 'T', body: Buffer.alloc(70 * 1024) }, /limit/, 'MESSAGE_TOO_LARGE');
  bad(
    { topic: 'T', body: 'x', properties: { TAGS: 'a' } },
    /use the message field/,
    'INVALID_ARGUMENT',
  );
  bad({ topic: 'T', body: 'x', delayLevel: -1 }, /delayLevel/, 'INVALID_ARGUMENT');
  bad(
    { topic: 'T', body: 'x', properties: { big: 'v'.repeat(40000) } },
    /32767/,
    'PROPERTIES_TOO_LARGE',
  );
});

test('encode: the direct property string equals the general encoding', () => {
  const msg = {
    topic: 'T',
    body: 'hi',
    tags: 'A',
    keys: ['k1', '', 'k2'],
    delayLevel: 2,
    shardingKey: 's',
    deliverTimeMs: 1700000000000,
  };
  const direct = encodeMessage(msg, 'ID1', limits).properties;
  assert.equal(
    direct,
    encodeProperties([
      ['TAGS', 'A'],
      ['KEYS', 'k1 k2'],
      ['DELAY', '2'],
      ['TIMER_DELIVER_MS', '1700000000000'],
      ['__SHARDINGKEY', 's'],
      ['UNIQ_KEY', 'ID1'],
      ['WAIT', 'true'],
    ]),
  );
  assert.equal(
    encodeMessage({ topic: 'T', body: 'x', properties: {} }, 'ID2', limits).properties,
    'UNIQ_KEY\u0001ID2\u0002WAIT\u0001true\u0002',
  );
  assert.throws(
    () => encodeMessage({ topic: 'T', body: 'x', tags: 'a\u0002b' }, 'ID', limits),
    (err: { code: string; message: string }) =>
      err.code === 'INVALID_ARGUMENT' && /TAGS has a value containing/.test(err.message),
  );
});
