import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ARENA_BYTES, FrameReader, LARGE_FRAME_BYTES } from './frame-reader.js';
import { createRequest, decodeCommand, encodeCommand } from './remoting-command.js';

/** A request whose body is `bodyBytes` bytes of a pattern derived from `seed`. */
function frameBytes(seed: number, bodyBytes: number): Buffer {
  const body = Buffer.alloc(bodyBytes);
  for (let i = 0; i < bodyBytes; i++) body[i] = (seed * 31 + i) & 0xff;
  return encodeCommand(
    createRequest(10, { extFields: { seed: String(seed) }, body: bodyBytes ? body : undefined }),
  );
}

/**
 * Plays the socket: copies `stream` into the reader's buffers, each read at most the size the
 * next entry of `readSizes` says (cycled). Returns the bodies delivered (views, kept) by seed.
 */
function play(reader: FrameReader, stream: Buffer, readSizes: number[]): Map<number, Buffer> {
  const bodies = new Map<number, Buffer>();
  reader.attach(
    (frame) => {
      const cmd = decodeCommand(frame);
      bodies.set(Number(cmd.extFields.seed), cmd.body ?? Buffer.alloc(0));
    },
    (err) => {
      throw err;
    },
  );
  let pos = 0;
  let k = 0;
  while (pos < stream.length) {
    const target = reader.nextBuffer();
    assert.ok(target.length > 0, 'the reader always offers room');
    const n = Math.min(target.length, readSizes[k++ % readSizes.length]!, stream.length - pos);
    stream.copy(target, 0, pos, pos + n);
    pos += n;
    reader.wrote(n);
  }
  return bodies;
}

test('frames of every size arrive intact whatever the read sizes, and stay intact', () => {
  const sizes = [0, 1, 100, 5000, LARGE_FRAME_BYTES, LARGE_FRAME_BYTES + 1, 300_000, ARENA_BYTES];
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...sizes), { minLength: 1, maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 200_000 }), { minLength: 1, maxLength: 8 }),
      (bodySizes, readSizes) => {
        const frames = bodySizes.map((size, seed) => frameBytes(seed, size));
        const reader = new FrameReader();
        const bodies = play(reader, Buffer.concat(frames), readSizes);
        assert.equal(bodies.size, frames.length);
        // Checked after every read is done: no later read overwrote an earlier frame's bytes.
        bodySizes.forEach((size, seed) => {
          const body = bodies.get(seed)!;
          assert.equal(body.length, size);
          for (let i = 0; i < size; i += 97) assert.equal(body[i], (seed * 31 + i) & 0xff);
        });
        assert.equal(reader.bufferedBytes, 0);
      },
    ),
    { numRuns: 150 },
  );
});

test('a large frame is read into a buffer of its own, the rest of it straight from the socket', () => {
  const reader = new FrameReader();
  const frame = frameBytes(1, 1_000_000);
  let delivered = 0;
  reader.attach(
    () => delivered++,
    (err) => assert.fail(err),
  );
  const first = reader.nextBuffer();
  frame.copy(first, 0, 0, 4096);
  reader.wrote(4096);
  const rest = reader.nextBuffer();
  assert.equal(rest.length, frame.length - 4096, 'the next read may take the whole remainder');
  frame.copy(rest, 0, 4096);
  reader.wrote(rest.length);
  assert.equal(delivered, 1);
});

test('a bad length word fails the reader once, and later reads are ignored', () => {
  const reader = new FrameReader({ maxFrameBytes: 1024 });
  const errors: Error[] = [];
  reader.attach(
    () => assert.fail('no frame expected'),
    (err) => errors.push(err),
  );
  const buf = reader.nextBuffer();
  buf.writeInt32BE(1_000_000, 0);
  reader.wrote(8);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /exceeds the limit of 1024/);
  const again = reader.nextBuffer();
  again.writeInt32BE(2, 0);
  reader.wrote(4);
  assert.equal(errors.length, 1);
});
