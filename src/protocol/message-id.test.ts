import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  OffsetMessageIdEncoder,
  UniqueIdGenerator,
  bytesToIp,
  decodeOffsetMessageId,
  decodeUniqueId,
  encodeOffsetMessageId,
  ipToBytes,
} from './message-id.js';

test('offset message id matches the documented example', () => {
  const id = encodeOffsetMessageId('127.0.0.1', 21007, 0x12a40);
  assert.equal(id, '7F0000010000520F0000000000012A40');
  const d = decodeOffsetMessageId(id);
  assert.deepEqual(d, {
    ip: '127.0.0.1',
    port: 21007,
    address: '127.0.0.1:21007',
    commitLogOffset: 0x12a40,
  });
});

test('offset ids round-trip for any safe offset (property)', () => {
  const enc = new OffsetMessageIdEncoder('10.1.2.3', 10911);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (offset) => {
      const id = enc.encode(offset);
      assert.equal(id.length, 32);
      assert.equal(decodeOffsetMessageId(id).commitLogOffset, offset);
    }),
  );
});

test('IPv6 offset ids are 56 hex digits', () => {
  const id = encodeOffsetMessageId('::1', 10911, 42);
  assert.equal(id.length, 56);
  const d = decodeOffsetMessageId(id);
  assert.equal(d.ip, '0:0:0:0:0:0:0:1');
  assert.equal(d.commitLogOffset, 42);
  assert.equal(bytesToIp(ipToBytes('fe80::1:2')), 'fe80:0:0:0:0:0:1:2');
  assert.equal(bytesToIp(ipToBytes('::ffff:10.0.0.1')), '0:0:0:0:0:ffff:a00:1');
});

test('offsets beyond 2^53 and bad ids are refused', () => {
  assert.throws(() => decodeOffsetMessageId('7F0000010000520F7FFFFFFFFFFFFFFF'), {
    code: 'INVALID_ARGUMENT',
  });
  assert.throws(() => decodeOffsetMessageId('xyz'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => encodeOffsetMessageId('127.0.0.1', 1, 2 ** 60), { code: 'INVALID_ARGUMENT' });
});

test('unique ids: 32 hex digits, distinct, decodable', () => {
  const gen = new UniqueIdGenerator('192.0.2.2', 0x1234);
  const now = Date.now();
  const ids = new Set<string>();
  for (let i = 0; i < 1000; i++) ids.add(gen.next(now));
  assert.equal(ids.size, 1000);
  const id = gen.next(now);
  assert.match(id, /^[0-9A-F]{32}$/);
  const parts = decodeUniqueId(id, now);
  assert.equal(parts.ip, '192.0.2.2');
  assert.equal(parts.pid, 0x1234);
  assert.equal(parts.approxTimestampMs, now);
  // Tail layout: int32 ms since the month began, then the uint16 counter (1000th id: 0x03E8).
  const tail = Buffer.alloc(6);
  const d = new Date(now);
  tail.writeInt32BE((now - new Date(d.getFullYear(), d.getMonth(), 1).getTime()) | 0, 0);
  tail.writeUInt16BE(1000, 4);
  assert.equal(id.slice(20), tail.toString('hex').toUpperCase());
});
