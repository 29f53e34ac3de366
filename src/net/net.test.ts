import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { FrameDecoder, SerializeType } from '../protocol/frame-codec.js';
import {
  createRequest,
  createResponse,
  decodeCommand,
  encodeCommand,
  type RemotingCommand,
} from '../protocol/remoting-command.js';
import { reqString } from '../protocol/headers/fields.js';
import { ResponseCode } from '../protocol/response-code.js';
import { RemotingServer } from './remoting-server.js';
import { RemotingClient } from './remoting-client.js';
import type { RemotingConnection } from './connection.js';

async function startServer(
  options: ConstructorParameters<typeof RemotingServer>[0] = {},
): Promise<{ server: RemotingServer; addr: string }> {
  const server = new RemotingServer(options);
  server.registerHandler(1, (req) =>
    createResponse(req, 0, undefined, { echo: req.extFields.v ?? '' }, req.body),
  );
  server.registerHandler(2, async (req) => {
    await new Promise((r) => setTimeout(r, Number(req.extFields.delayMs)));
    return createResponse(req, 0, undefined, { late: 'yes' });
  });
  server.registerHandler(3, () => {
    throw new Error('boom');
  });
  server.registerHandler(4, (req) => createResponse(req, 0, reqString(req.extFields, 'topic')));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, addr: `127.0.0.1:${port}` };
}

test('request/response, errors, unknown codes, one-way', async () => {
  const { server, addr } = await startServer();
  const client = new RemotingClient();
  try {
    const r = await client.invoke(
      addr,
      createRequest(1, { extFields: { v: 'hi' }, body: Buffer.from('b') }),
      1000,
    );
    assert.equal(r.code, 0);
    assert.equal(r.extFields.echo, 'hi');
    assert.equal(r.body!.toString(), 'b');

    const many = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.invoke(addr, createRequest(1, { extFields: { v: String(i) } }), 2000),
      ),
    );
    many.forEach((m, i) => assert.equal(m.extFields.echo, String(i)));

    const unknown = await client.invoke(addr, createRequest(9999), 1000);
    assert.equal(unknown.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.match(unknown.remark!, /9999/);

    const failed = await client.invoke(addr, createRequest(3), 1000);
    assert.equal(failed.code, ResponseCode.SYSTEM_ERROR);
    assert.match(failed.remark!, /boom/);

    const missing = await client.invoke(addr, createRequest(4), 1000);
    assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
    assert.match(missing.remark!, /'topic' is required/);

    // One-way: the server must not answer; a later request still works.
    let hits = 0;
    server.registerHandler(5, (req) => {
      hits++;
      return createResponse(req, 0);
    });
    const conn = await client.getConnection(addr);
    await client.invokeOneway(addr, createRequest(5));
    const after = await client.invoke(addr, createRequest(1), 1000);
    assert.equal(after.code, 0);
    assert.equal(hits, 1);
    assert.equal(conn.pendingCount, 0);
  } finally {
    client.close();
    await server.close();
  }
});

test('a timeout fails one request but keeps the connection', async () => {
  const { server, addr } = await startServer();
  const client = new RemotingClient();
  try {
    const conn = await client.getConnection(addr);
    await assert.rejects(
      client.invoke(addr, createRequest(2, { extFields: { delayMs: '300' } }), 50),
      { code: 'TIMEOUT' },
    );
    const ok = await client.invoke(addr, createRequest(1), 1000);
    assert.equal(ok.code, 0);
    assert.equal(await client.getConnection(addr), conn);
    assert.equal(conn.closed, false);
  } finally {
    client.close();
    await server.close();
  }
});

test('reconnects after the server drops the connection; connect errors are typed', async () => {
  const { server, addr } = await startServer();
  const client = new RemotingClient({ connectTimeoutMs: 500 });
  try {
    const first = await client.getConnection(addr);
    const closed = new Promise<RemotingConnection>((resolve) => server.once('close', resolve));
    for (const c of server.connections()) c.close();
    await closed;
    await once(first, 'close');
    const r = await client.invoke(addr, createRequest(1), 1000);
    assert.equal(r.code, 0);
    assert.notEqual(await client.getConnection(addr), first);
    await assert.rejects(client.invoke('127.0.0.1:1', createRequest(1), 500), {
      code: 'CONNECTION_CLOSED',
    });
  } finally {
    client.close();
    await server.close();
  }
});

test('server -> client request with a client handler; body slices with onWritten', async () => {
  const { server, addr } = await startServer();
  const client = new RemotingClient();
  client.registerHandler(40, (req) => createResponse(req, 0, `ack ${req.extFields.consumerGroup}`));
  try {
    const connected = once(server, 'connection');
    await client.getConnection(addr);
    const [serverConn] = (await connected) as [RemotingConnection];
    const answer = await server.invoke(
      serverConn,
      createRequest(40, { extFields: { consumerGroup: 'G' } }),
      1000,
    );
    assert.equal(answer.remark, 'ack G');

    server.registerHandler(11, (req, conn) => {
      const slices = [Buffer.from('abc'), Buffer.from('def'), Buffer.from('g')];
      server.send(conn, createResponse(req, 0), slices, (err) => {
        written.push(err ?? null);
      });
    });
    const written: (Error | null)[] = [];
    const r = await client.invoke(addr, createRequest(11), 1000);
    assert.equal(r.body!.toString(), 'abcdefg');
    assert.deepEqual(written, [null]);
  } finally {
    client.close();
    await server.close();
  }
});

test('back-pressure: a non-reading peer pauses its connection, resumes on drain', async () => {
  const { server, addr } = await startServer({ highWaterMarkBytes: 64 * 1024 });
  const big = Buffer.alloc(512 * 1024, 7);
  server.registerHandler(6, (req) => createResponse(req, 0, undefined, {}, big));
  const socket = connect({ host: '127.0.0.1', port: Number(addr.split(':')[1]) });
  try {
    await once(socket, 'connect');
    socket.pause();
    const [conn] = [...server.connections()];
    const n = 20;
    for (let i = 0; i < n; i++) socket.write(encodeCommand(createRequest(6)));
    const deadline = Date.now() + 3000;
    while (!conn!.readingPaused && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(conn!.readingPaused, true, 'server stops reading while its write buffer is full');
    const got: RemotingCommand[] = [];
    const decoder = new FrameDecoder((f) => got.push(decodeCommand(f)), { maxFrameBytes: 1 << 21 });
    socket.on('data', (c: Buffer) => decoder.push(c));
    socket.resume();
    while (got.length < n && Date.now() < deadline + 5000)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(got.length, n);
    assert.ok(got.every((g) => g.body!.length === big.length));
    assert.equal(conn!.readingPaused, false);
  } finally {
    socket.destroy();
    await server.close();
  }
});

test('idle connections are closed after the timeout', async () => {
  const { server, addr } = await startServer({ idleTimeoutMs: 100 });
  const client = new RemotingClient();
  try {
    const conn = await client.getConnection(addr);
    const started = Date.now();
    await once(conn, 'close');
    assert.ok(Date.now() - started >= 80);
  } finally {
    client.close();
    await server.close();
  }
});

test('a client set to the binary header sends every request that way and reads the answers', async () => {
  const { server, addr } = await startServer();
  const seen: SerializeType[] = [];
  server.registerHandler(5, (req) => {
    seen.push(req.serializeType);
    return createResponse(req, 0, undefined, { echo: req.extFields.v ?? '' });
  });
  const binary = new RemotingClient({ serializeType: SerializeType.ROCKETMQ });
  const plain = new RemotingClient();
  try {
    const r = await binary.invoke(addr, createRequest(5, { extFields: { v: 'ünï' } }), 1000);
    assert.equal(r.serializeType, SerializeType.ROCKETMQ, 'answered in kind');
    assert.equal(r.extFields.echo, 'ünï');
    await binary.invokeOneway(addr, createRequest(5, { extFields: { v: 'x' } }));
    await plain.invoke(addr, createRequest(5), 1000);
    // A code past the binary header's 16 bits goes as JSON.
    server.registerHandler(90_005, (req) => {
      seen.push(req.serializeType);
      return createResponse(req, 0);
    });
    assert.equal((await binary.invoke(addr, createRequest(90_005), 1000)).code, 0);
    while (seen.length < 4) await new Promise((res) => setTimeout(res, 5));
    assert.deepEqual(
      [...seen].sort(),
      [
        SerializeType.ROCKETMQ,
        SerializeType.ROCKETMQ,
        SerializeType.JSON,
        SerializeType.JSON,
      ].sort(),
    );
  } finally {
    binary.close();
    plain.close();
    await server.close();
  }
});
