import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  copyPreparedBinaryFrameHead,
  decodeBinaryHeader,
  prepareBinaryFrameHead,
  type BinaryHeaderFields,
} from './binary-header.js';
import { FRAME_PREFIX_BYTES } from './frame-codec.js';

function roundTrip(cmd: BinaryHeaderFields): BinaryHeaderFields {
  const length = prepareBinaryFrameHead(cmd);
  const bytes = Buffer.alloc(length + 4);
  copyPreparedBinaryFrameHead(0, bytes, 2);
  assert.equal(bytes.readInt32BE(2), length - 4);
  const out: BinaryHeaderFields = {
    code: 0,
    language: '',
    version: 0,
    opaque: 0,
    flag: 0,
    remark: undefined,
    extFields: {},
  };
  decodeBinaryHeader(bytes, 2 + FRAME_PREFIX_BYTES, 2 + length, out);
  return out;
}

const base: BinaryHeaderFields = {
  code: 310,
  language: 'JAVA',
  version: 433,
  opaque: -5,
  flag: 2,
  remark: undefined,
  extFields: {},
};

test('binary header: cached keys are reused only when their bytes match', () => {
  const headers: Array<Record<string, string>> = [
    { a: '1', b: 'two' },
    { a: '1', b: 'two' },
    { c: '1', b: 'x' },
    { cc: '', é: 'ü✓', [`k${'y'.repeat(40)}`]: 'v'.repeat(100) },
    { a: 'short ascii', long: 'é'.repeat(5) + 'a'.repeat(40) },
  ];
  for (const extFields of headers) {
    const got = roundTrip({ ...base, extFields });
    assert.deepEqual(got.extFields, extFields);
    assert.equal(got.code, 310);
    assert.equal(got.opaque, -5);
    assert.equal(got.flag, 2);
  }
  const withRemark = roundTrip({ ...base, language: 'GO', remark: 'é remark', extFields: {} });
  assert.equal(withRemark.remark, 'é remark');
  assert.equal(withRemark.language, 'GO');
  assert.equal(roundTrip({ ...base, language: 'NODE' }).language, 'OTHER');
});

test('binary header: cached values are reused only when their bytes match', () => {
  const headers: Array<Record<string, string>> = [
    { g: '1700000000001', e: '3', b: 'TopicA' },
    { g: '1700000000002', e: '3', b: 'TopicA' },
    { g: '1700000000002', e: '4', b: 'TopicB' },
    { g: '', e: '4', b: 'TopicB' },
    { g: 'ü✓', e: '4', b: 'x'.repeat(33) },
    { g: 'ü✓', e: '44', b: 'x'.repeat(32) },
    { b: 'TopicA', g: '3', e: '1700000000001' },
  ];
  for (const extFields of headers) {
    assert.deepEqual(roundTrip({ ...base, extFields }).extFields, extFields);
  }
});

test('binary header: a code past 16 bits is refused with a typed error', () => {
  assert.throws(() => prepareBinaryFrameHead({ ...base, code: 90_001 }), {
    code: 'INVALID_ARGUMENT',
  });
});

test('binary header: lengths past the end are protocol errors', () => {
  const length = prepareBinaryFrameHead({ ...base, extFields: { key: 'value' } });
  const bytes = Buffer.alloc(length);
  copyPreparedBinaryFrameHead(0, bytes, 0);
  const target = { ...base };
  for (const cut of [5, 20, length - 3]) {
    assert.throws(() => decodeBinaryHeader(bytes, FRAME_PREFIX_BYTES, cut, target), {
      code: 'PROTOCOL_ERROR',
    });
  }
});

test('binary header: any header round-trips, whatever came before it', () => {
  const text = fc.string({ unit: 'binary', maxLength: 40 });
  const header = fc.record({
    code: fc.integer({ min: -0x8000, max: 0x7fff }),
    version: fc.integer({ min: -0x8000, max: 0x7fff }),
    opaque: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    flag: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    remark: fc.option(
      text.filter((r) => r.length > 0),
      { nil: undefined },
    ),
    extFields: fc.dictionary(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__'),
      text,
      { maxKeys: 8 },
    ),
  });
  // A sequence, so that each header is written and read after others (the position caches).
  fc.assert(
    fc.property(fc.array(header, { minLength: 1, maxLength: 6 }), (headers) => {
      for (const h of headers) {
        const cmd: BinaryHeaderFields = { ...h, language: 'JAVA' };
        const got = roundTrip(cmd);
        assert.equal(got.code, h.code);
        assert.equal(got.version, h.version);
        assert.equal(got.opaque, h.opaque);
        assert.equal(got.flag, h.flag);
        assert.equal(got.remark, h.remark);
        assert.deepEqual({ ...got.extFields }, { ...h.extFields });
      }
    }),
    { numRuns: 300 },
  );
});
