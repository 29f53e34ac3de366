import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FRAME_PREFIX_BYTES, SerializeType } from './frame-codec.js';
import {
  copyPreparedJsonFrameHead,
  encodeJsonFrameHead,
  prepareJsonFrameHead,
  type JsonHeaderFields,
} from './json-header-writer.js';

function expected(cmd: JsonHeaderFields): string {
  return JSON.stringify({
    code: cmd.code,
    language: cmd.language,
    version: cmd.version,
    opaque: cmd.opaque,
    flag: cmd.flag,
    remark: cmd.remark,
    extFields: cmd.extFields,
    serializeTypeCurrentRPC: 'JSON',
  });
}

function written(cmd: JsonHeaderFields, bodyBytes = 0): { text: string; frame: Buffer } {
  const frame = encodeJsonFrameHead(cmd, bodyBytes);
  // The two-step form (plain text or byte writer) writes the same bytes at an offset.
  const length = prepareJsonFrameHead(cmd);
  const target = Buffer.alloc(length + 10, 0xee);
  copyPreparedJsonFrameHead(cmd, bodyBytes, target, 3);
  assert.deepEqual(target.subarray(3, 3 + length), frame);
  assert.equal(target[2], 0xee);
  assert.equal(target[3 + length], 0xee);
  return { text: frame.subarray(FRAME_PREFIX_BYTES).toString('utf8'), frame };
}

test('JSON header bytes equal JSON.stringify of the header object (property)', () => {
  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom('TAGS\u0001A\u0002KEYS\u0001k\u0002', 'a"b\\c\n\r\t\b\f\u007f', '\ud800x', ''),
    fc.string({ minLength: 64, maxLength: 300 }),
    fc.constantFrom(
      'm'.repeat(64),
      `${'0'.repeat(32)},`.repeat(50),
      `${'x'.repeat(70)}"`,
      'é'.repeat(80),
    ),
  );
  fc.assert(
    fc.property(
      fc.record({
        code: fc.integer({ min: -0x8000, max: 0x7fff }),
        version: fc.integer({ min: 0, max: 1000 }),
        opaque: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        flag: fc.integer({ min: 0, max: 3 }),
        remark: fc.option(text, { nil: undefined }),
        extFields: fc.dictionary(text, text, { maxKeys: 8 }),
      }),
      (r) => {
        const cmd: JsonHeaderFields = { ...r, language: 'JAVA', serializeType: SerializeType.JSON };
        const { text: got, frame } = written(cmd, 5);
        assert.equal(got, expected(cmd));
        assert.equal(frame.readInt32BE(0), 4 + (frame.length - FRAME_PREFIX_BYTES) + 5);
        assert.equal(frame.readUInt32BE(4), frame.length - FRAME_PREFIX_BYTES);
      },
    ),
    { numRuns: 300 },
  );
});

test('large safe integers, undefined values and a header bigger than the first scratch', () => {
  const big = 'x'.repeat(40_000);
  const cmd: JsonHeaderFields = {
    code: 0,
    language: 'JAVA',
    version: 433,
    opaque: Number.MAX_SAFE_INTEGER,
    flag: 1,
    remark: big,
    extFields: { a: '1', skip: undefined as unknown as string, b: big },
    serializeType: SerializeType.JSON,
  };
  assert.equal(written(cmd).text, expected(cmd));
  // The scratch is reused: a small header after a big one is still exact.
  const small: JsonHeaderFields = { ...cmd, remark: undefined, extFields: { q: '2' } };
  assert.equal(written(small).text, expected(small));
  // A send response (plain text path) and non-integer numbers (byte writer path).
  const send: JsonHeaderFields = {
    ...small,
    opaque: 7,
    extFields: { msgId: '7F00000100002A9F0000000000A3B2C1', queueId: '3', queueOffset: '12' },
  };
  assert.equal(written(send).text, expected(send));
  const odd: JsonHeaderFields = { ...small, version: 1.5, opaque: Number.NaN };
  assert.equal(written(odd).text, expected(odd));
});
