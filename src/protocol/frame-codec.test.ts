import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SluiceError } from '../common/errors.js';
import { FrameDecoder, SerializeType, type RawFrame } from './frame-codec.js';
import {
  createRequest,
  createResponse,
  decodeCommand,
  encodeCommand,
  isOneway,
  isResponse,
  type RemotingCommand,
} from './remoting-command.js';

function collect(maxFrameBytes?: number): { decoder: FrameDecoder; out: RemotingCommand[] } {
  const out: RemotingCommand[] = [];
  const decoder = new FrameDecoder(
    (f: RawFrame) => {
      const cmd = decodeCommand(f);
      if (cmd.body) cmd.body = Buffer.from(cmd.body);
      out.push(cmd);
    },
    { maxFrameBytes },
  );
  return { decoder, out };
}

/** fast-check builds null-prototype objects; compare plain copies. */
function plain(cmd: RemotingCommand): RemotingCommand {
  return { ...cmd, extFields: { ...cmd.extFields } };
}

const extArb = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__'),
  fc.string({ maxLength: 40 }),
  { maxKeys: 6 },
);

const commandArb = fc.record({
  code: fc.integer({ min: -32768, max: 32767 }),
  language: fc.constantFrom('JAVA', 'CPP', 'GO', 'OTHER'),
  version: fc.integer({ min: 0, max: 32767 }),
  opaque: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  flag: fc.integer({ min: 0, max: 3 }),
  remark: fc.option(fc.string({ minLength: 1, maxLength: 50 }), { nil: undefined }),
  extFields: extArb,
  body: fc.option(
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
    {
      nil: undefined,
    },
  ),
  serializeType: fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ),
});

test('commands round-trip in both serialization types (property)', () => {
  fc.assert(
    fc.property(commandArb, (cmd: RemotingCommand) => {
      const { decoder, out } = collect();
      decoder.push(encodeCommand(cmd));
      assert.equal(out.length, 1);
      assert.deepEqual(out[0], plain(cmd));
    }),
    { numRuns: 300 },
  );
});

test('decoder handles byte-by-byte and random chunking of many frames', () => {
  fc.assert(
    fc.property(
      fc.array(commandArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
      (cmds, cuts) => {
        const stream = Buffer.concat(cmds.map((c) => encodeCommand(c)));
        const { decoder, out } = collect();
        let pos = 0;
        let i = 0;
        while (pos < stream.length) {
          const n = cuts[i++ % cuts.length]!;
          decoder.push(stream.subarray(pos, pos + n));
          pos += n;
        }
        assert.deepEqual(out, cmds.map(plain));
        assert.equal(decoder.bufferedBytes, 0);
      },
    ),
    { numRuns: 100 },
  );
  const cmd = createRequest(10, { extFields: { a: 'b' }, body: Buffer.from('hello') });
  const bytes = encodeCommand(cmd);
  const { decoder, out } = collect();
  for (const b of bytes) decoder.push(Buffer.from([b]));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.body!.toString(), 'hello');
});

test('a frame inside one chunk is delivered without copying the body', () => {
  const cmd = createRequest(11, { body: Buffer.from('zero-copy body') });
  const bytes = encodeCommand(cmd);
  let body: Buffer | undefined;
  const decoder = new FrameDecoder((f) => (body = f.body));
  decoder.push(bytes);
  assert.equal(body!.buffer, bytes.buffer);
});

function frame(total: number, word2: number, rest: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(total, 0);
  b.writeUInt32BE(word2 >>> 0, 4);
  return Buffer.concat([b, rest]);
}

test('bad lengths are refused with typed errors and the decoder stays failed', () => {
  const tooSmall = collect();
  assert.throws(() => tooSmall.decoder.push(frame(2, 0)), { code: 'PROTOCOL_ERROR' });
  assert.throws(() => tooSmall.decoder.push(Buffer.from([0])), { code: 'PROTOCOL_ERROR' });
  const negative = collect();
  assert.throws(() => negative.decoder.push(frame(-5, 0)), { code: 'PROTOCOL_ERROR' });
  const oversized = collect(1024);
  assert.throws(() => oversized.decoder.push(frame(4096, 10)), { code: 'FRAME_TOO_LARGE' });
  const headerTooLong = collect();
  assert.throws(() => headerTooLong.decoder.push(frame(8, 100, Buffer.alloc(4))), {
    code: 'PROTOCOL_ERROR',
  });
  const badType = collect();
  assert.throws(() => badType.decoder.push(frame(6, (7 << 24) | 2, Buffer.from('{}'))), {
    code: 'PROTOCOL_ERROR',
  });
});

test('garbage headers throw PROTOCOL_ERROR', () => {
  const { decoder } = collect();
  const text = Buffer.from('{not json');
  assert.throws(() => decoder.push(frame(4 + text.length, text.length, text)), SluiceError);
  const bin = collect();
  const h = Buffer.alloc(21);
  h.writeInt32BE(1000, 13);
  assert.throws(() => bin.decoder.push(frame(4 + 21, (1 << 24) | 21, h)), {
    code: 'PROTOCOL_ERROR',
  });
});

test('JSON header from ali-ons: language JAVA, version 121, numeric and boolean extFields', () => {
  const header = JSON.stringify({
    code: 310,
    language: 'JAVA',
    opaque: 7,
    flag: 0,
    version: 121,
    extFields: { a: 'PG', b: 'T', e: 3, g: 1732489000000, k: false, n: null },
  });
  const h = Buffer.from(header);
  const body = Buffer.from('payload');
  const { decoder, out } = collect();
  decoder.push(frame(4 + h.length + body.length, h.length, Buffer.concat([h, body])));
  const cmd = out[0]!;
  assert.equal(cmd.code, 310);
  assert.equal(cmd.version, 121);
  assert.equal(cmd.language, 'JAVA');
  assert.deepEqual(cmd.extFields, { a: 'PG', b: 'T', e: '3', g: '1732489000000', k: 'false' });
  assert.equal(cmd.body!.toString(), 'payload');
  assert.equal(isResponse(cmd), false);
  assert.equal(isOneway(cmd), false);
  const resp = createResponse(cmd, 0, undefined, { msgId: 'X' });
  assert.equal(resp.opaque, 7);
  assert.equal(isResponse(resp), true);
  const encoded = encodeCommand(resp);
  // ali-ons reads the raw second word as the header length: type byte must be 0.
  assert.equal(encoded[4], 0);
  const parsed = JSON.parse(encoded.subarray(8).toString()) as { flag: number; opaque: number };
  assert.equal(parsed.flag & 1, 1);
  assert.equal(parsed.opaque, 7);
});

test('responses use the serialization type of the request', () => {
  const req = createRequest(34, { serializeType: SerializeType.ROCKETMQ });
  const resp = createResponse(req, 0);
  assert.equal(encodeCommand(resp)[4], 1);
});
