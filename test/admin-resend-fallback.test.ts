/**
 * `Admin.resendDlqMessage` against a broker without Sluice's re-send request code (as any
 * Apache RocketMQ broker): a proxy in front of a real Sluice broker answers
 * REQUEST_CODE_NOT_SUPPORTED for that code, and the SDK falls back to looking the message up and
 * sending a copy with a producer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer, SimpleConsumer } from '../src/index.js';
import { RemotingClient } from '../src/net/remoting-client.js';
import { RemotingServer } from '../src/net/remoting-server.js';
import { decodeOffsetMessageId, encodeOffsetMessageId } from '../src/protocol/message-id.js';
import { createRequest, createResponse } from '../src/protocol/remoting-command.js';
import { ResponseCode } from '../src/protocol/response-code.js';
import { startSluice } from './support/sluice-process.js';

const SLUICE_RESEND_CODE = 90_001;

test('resendDlqMessage falls back to a client-side re-send on brokers without code 90001', async () => {
  const sluice = await startSluice();
  const upstream = new RemotingClient();
  const proxy = new RemotingServer();
  let refused = 0;
  proxy.setDefaultHandler(async (request) => {
    if (request.code === SLUICE_RESEND_CODE) {
      refused++;
      return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, 'not supported');
    }
    const forwarded = createRequest(request.code, {
      extFields: request.extFields,
      body: request.body,
    });
    const r = await upstream.invoke(sluice.brokerAddr, forwarded, 5_000);
    return createResponse(request, r.code, r.remark, r.extFields, r.body);
  });
  const bound = await proxy.listen({ host: '127.0.0.1', port: 0 });
  const admin = new Admin({ nameServer: sluice.namesrvAddr });
  const producer = new Producer({ nameServer: sluice.namesrvAddr, group: 'fallback-producer' });
  const consumer = new SimpleConsumer({
    nameServer: sluice.namesrvAddr,
    group: 'fallback-reader',
    consumeFrom: 'FIRST_OFFSET',
  });
  try {
    await admin.createTopic('FallbackOrigin', { queueNums: 1 });
    await admin.createTopic('%DLQ%fallback-group', { queueNums: 1 });
    await producer.start();
    const dead = await producer.send({
      topic: '%DLQ%fallback-group',
      body: 'poison',
      tags: 'T',
      keys: ['order-9'],
      properties: { RETRY_TOPIC: 'FallbackOrigin', app: 'x' },
    });
    // The same message, addressed through the proxy (the offset id names the broker to ask).
    const id = decodeOffsetMessageId(dead.offsetMsgId);
    const viaProxy = encodeOffsetMessageId('127.0.0.1', bound.port, id.commitLogOffset);
    const copyId = await admin.resendDlqMessage(viaProxy);
    assert.equal(refused, 1, 'the Sluice-only code was tried once and refused');
    assert.match(copyId, /^[0-9A-F]{32}$/);

    consumer.subscribe('FallbackOrigin', '*');
    await consumer.start();
    const got = await consumer.receive(10, 5_000);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.body.toString(), 'poison');
    assert.equal(got[0]!.tags, 'T');
    assert.deepEqual([...got[0]!.keys], ['order-9']);
    assert.equal(got[0]!.properties.app, 'x');
    assert.equal(got[0]!.offsetMsgId, copyId);

    await assert.rejects(
      admin.resendDlqMessage(
        encodeOffsetMessageId(
          '127.0.0.1',
          bound.port,
          decodeOffsetMessageId(copyId).commitLogOffset,
        ),
      ),
      /not a dead-letter topic/,
    );
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
    await admin.shutdown();
    await proxy.close();
    upstream.close();
    await sluice.stop();
    sluice.cleanup();
  }
});
