/**
 * End-to-end robustness of the remoting server: malformed and random frames never crash it and
 * never disturb a second, healthy connection; one-way requests are never answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { RemotingServer } from '../src/net/remoting-server.js';
import { RemotingClient } from '../src/net/remoting-client.js';
import { FrameDecoder } from '../src/protocol/frame-codec.js';
import {
  FLAG_ONEWAY,
  createRequest,
  createResponse,
  decodeCommand,
  encodeCommand,
  type RemotingCommand,
} from '../src/protocol/remoting-command.js';

async function start(): Promise<{ server: RemotingServer; port: number }> {
  const server = new RemotingServer({ maxFrameBytes: 64 * 1024 });
  server.registerHandler(1, (req) =>
    createResponse(req, 0, undefined, { n: req.extFields.n ?? '' }),
  );
  const { port } = await server.listen({ port: 0 });
  return { server, port };
}

async function rawSocket(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

function frame(total: number, word2: number, rest: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(total, 0);
  b.writeUInt32BE(word2 >>> 0, 4);
  return Buffer.concat([b, rest]);
}

const MALFORMED: Buffer[] = [
  frame(0, 0),
  frame(-1, 0),
  frame(3, 0),
  frame(0x7fffffff, 10),
  frame(100 * 1024, 10),
  frame(8, 1000, Buffer.alloc(4)),
  frame(12, 8, Buffer.from('not json')),
  frame(6, 2, Buffer.from('[]')),
  frame(6, 2, Buffer.from('42')),
  frame(4 + 21, (1 << 24) | 21, Buffer.alloc(21, 0xff)),
  frame(6, (9 << 24) | 2, Buffer.from('{}')),
  Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
];

async function waitClosed(s: Socket, ms: number): Promise<boolean> {
  if (s.destroyed) return true;
  const closed = once(s, 'close').then(() => true);
  const timer = new Promise<boolean>((r) => setTimeout(() => r(false), ms));
  return Promise.race([closed, timer]);
}

test('malformed frames close only their own connection', async () => {
  const { server, port } = await start();
  const client = new RemotingClient();
  const healthy = `127.0.0.1:${port}`;
  try {
    await client.invoke(healthy, createRequest(1), 1000);
    for (const bad of MALFORMED) {
      const s = await rawSocket(port);
      s.write(bad);
      assert.equal(
        await waitClosed(s, 2000),
        true,
        `closed after ${bad.subarray(0, 12).toString('hex')}`,
      );
      const r = await client.invoke(healthy, createRequest(1, { extFields: { n: 'ok' } }), 1000);
      assert.equal(r.extFields.n, 'ok');
    }
    // A truncated frame followed by the peer going away must not disturb anything either.
    const s = await rawSocket(port);
    s.end(encodeCommand(createRequest(1)).subarray(0, 10));
    await waitClosed(s, 2000);
    assert.equal((await client.invoke(healthy, createRequest(1), 1000)).code, 0);
  } finally {
    client.close();
    await server.close();
  }
});

test('1,000 random byte strings never crash the server', async () => {
  const { server, port } = await start();
  const client = new RemotingClient();
  const healthy = `127.0.0.1:${port}`;
  try {
    const samples = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 200 }), {
      numRuns: 1000,
      seed: 42,
    });
    const batch = 50;
    for (let i = 0; i < samples.length; i += batch) {
      await Promise.all(
        samples.slice(i, i + batch).map(async (bytes) => {
          const s = await rawSocket(port);
          s.write(Buffer.from(bytes));
          await new Promise((r) => setTimeout(r, 5));
          s.destroy();
        }),
      );
      const r = await client.invoke(
        healthy,
        createRequest(1, { extFields: { n: String(i) } }),
        2000,
      );
      assert.equal(r.extFields.n, String(i));
    }
  } finally {
    client.close();
    await server.close();
  }
});

test('one-way requests are never answered', async () => {
  const { server, port } = await start();
  let handled = 0;
  server.registerHandler(7, (req) => {
    handled++;
    return createResponse(req, 0);
  });
  const s = await rawSocket(port);
  try {
    const got: RemotingCommand[] = [];
    const decoder = new FrameDecoder((f) => got.push(decodeCommand(f)));
    s.on('data', (c: Buffer) => decoder.push(c));
    const oneway = createRequest(7);
    oneway.flag |= FLAG_ONEWAY;
    const unknownOneway = createRequest(4242);
    unknownOneway.flag |= FLAG_ONEWAY;
    const normal = createRequest(1);
    s.write(
      Buffer.concat([encodeCommand(oneway), encodeCommand(unknownOneway), encodeCommand(normal)]),
    );
    const deadline = Date.now() + 2000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(handled, 1);
    assert.deepEqual(
      got.map((g) => g.opaque),
      [normal.opaque],
    );
  } finally {
    s.destroy();
    await server.close();
  }
});
