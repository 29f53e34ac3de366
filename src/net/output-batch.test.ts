import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { FrameDecoder } from '../protocol/frame-codec.js';
import {
  createRequest,
  decodeCommand,
  encodeCommand,
  type RemotingCommand,
} from '../protocol/remoting-command.js';
import { SerializeType } from '../protocol/frame-codec.js';
import { COPY_BODY_MAX_BYTES, OutputBatch } from './output-batch.js';

/** A socket stand-in that records writes. */
function fakeSocket(): {
  socket: Socket;
  writes: Uint8Array[][];
  corks: number;
} {
  const state = {
    writes: [] as Uint8Array[][],
    corks: 0,
    corked: false,
    current: [] as Uint8Array[],
  };
  const socket = {
    destroyed: false,
    writableLength: 0,
    cork() {
      state.corks++;
      state.corked = true;
    },
    uncork() {
      state.corked = false;
      state.writes.push(state.current);
      state.current = [];
    },
    write(chunk: Uint8Array, cb?: (err?: Error | null) => void) {
      state.current.push(chunk);
      if (!state.corked) {
        state.writes.push(state.current);
        state.current = [];
      }
      if (cb) queueMicrotask(() => cb(null));
      return true;
    },
  } as unknown as Socket;
  return {
    socket,
    get writes() {
      return state.writes;
    },
    get corks() {
      return state.corks;
    },
  };
}

function decodeAll(chunks: readonly Uint8Array[]): RemotingCommand[] {
  const out: RemotingCommand[] = [];
  const decoder = new FrameDecoder((f) => {
    const cmd = decodeCommand(f);
    if (cmd.body) cmd.body = Buffer.from(cmd.body);
    out.push(cmd);
  });
  for (const c of chunks) decoder.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  return out;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('commands of one tick leave in one write; small bodies copied, slices and large kept', async () => {
  const fake = fakeSocket();
  let flushes = 0;
  const batch = new OutputBatch(fake.socket, () => flushes++);
  const small = Buffer.from('small body');
  const large = Buffer.alloc(COPY_BODY_MAX_BYTES + 1, 0x62);
  const bigSlice = Buffer.alloc(3000, 0x73);
  const slices = [Buffer.from('slice-1'), bigSlice, Buffer.from('slice-2')];
  const written: string[] = [];
  batch.add(createRequest(10, { extFields: { k: 'v' }, body: small }), undefined, () =>
    written.push('a'),
  );
  batch.add(createRequest(11));
  batch.add(createRequest(12), slices, () => written.push('c'));
  batch.add(createRequest(13, { body: large }));
  batch.add(createRequest(14, { serializeType: SerializeType.ROCKETMQ, body: small }));
  assert.equal(fake.writes.length, 0, 'nothing is written before the tick ends');
  await tick();
  assert.equal(flushes, 1);
  assert.equal(fake.writes.length, 1, 'one corked write');
  const chunks = fake.writes[0]!;
  assert.ok(chunks.includes(bigSlice), 'large slice not copied');
  assert.ok(chunks.includes(slices[0]!) && chunks.includes(slices[2]!), 'slices not copied');
  assert.ok(chunks.includes(large), 'large body not copied');
  assert.ok(!chunks.includes(small), 'small body copied into the slab');
  const cmds = decodeAll(chunks);
  assert.deepEqual(
    cmds.map((c) => c.code),
    [10, 11, 12, 13, 14],
  );
  assert.equal(cmds[0]!.extFields.k, 'v');
  assert.equal(cmds[0]!.body!.toString(), 'small body');
  assert.equal(cmds[1]!.body, undefined);
  assert.equal(cmds[2]!.body!.toString(), `slice-1${bigSlice.toString()}slice-2`);
  assert.equal(cmds[3]!.body!.length, large.length);
  assert.equal(cmds[4]!.serializeType, SerializeType.ROCKETMQ);
  assert.equal(cmds[4]!.body!.toString(), 'small body');
  assert.deepEqual(written, ['a', 'c']);

  // Heads only: one plain write (no cork), and the next tick starts a new batch.
  batch.add(createRequest(20));
  batch.add(createRequest(21));
  await tick();
  assert.equal(fake.writes.length, 2);
  assert.equal(fake.writes[1]!.length, 1);
  assert.deepEqual(
    decodeAll(fake.writes[1]!).map((c) => c.code),
    [20, 21],
  );
});

test('a full slab moves on to a new one without touching queued bytes', async () => {
  const fake = fakeSocket();
  const batch = new OutputBatch(fake.socket, () => undefined);
  const body = Buffer.alloc(COPY_BODY_MAX_BYTES, 0x61);
  const expected: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    const cmd = createRequest(30, { extFields: { i: String(i) }, body });
    expected.push(encodeCommand(cmd));
    batch.add(cmd);
  }
  await tick();
  const all = Buffer.concat(fake.writes.flat());
  assert.deepEqual(all, Buffer.concat(expected));
  assert.ok(fake.writes[0]!.length > 1, 'more than one slab region');
});

test('many slices across slab boundaries stay in order', async () => {
  const fake = fakeSocket();
  const batch = new OutputBatch(fake.socket, () => undefined);
  const expected: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const slices = Array.from({ length: 4 }, (_, j) =>
      Buffer.alloc(2048 - j, 0x30 + ((i + j) % 40)),
    );
    const cmd = createRequest(31, { extFields: { i: String(i) }, body: Buffer.concat(slices) });
    expected.push(encodeCommand(cmd));
    batch.add(cmd, slices);
  }
  await tick();
  assert.deepEqual(Buffer.concat(fake.writes.flat()), Buffer.concat(expected));
});

test('a destroyed socket fails the callbacks instead of writing', async () => {
  const fake = fakeSocket();
  const batch = new OutputBatch(fake.socket, () => undefined);
  const errors: unknown[] = [];
  batch.add(createRequest(1), [Buffer.from('x')], (err) => errors.push(err));
  (fake.socket as { destroyed: boolean }).destroyed = true;
  await tick();
  assert.equal(fake.writes.length, 0);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof Error);
});
