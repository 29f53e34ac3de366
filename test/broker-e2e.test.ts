/**
 * Broker end to end over real sockets: a name server and a BrokerController on port 0 in this
 * process, driven by the protocol's RemotingClient.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerController } from '../src/broker/broker-controller.js';
import { DEFAULT_BROKER_CONFIG, type BrokerConfig } from '../src/broker/broker-config.js';
import { decodeRecords } from '../src/common/codec/decoded-message.js';
import { encodeProperties } from '../src/common/codec/properties.js';
import { javaStringHashCode } from '../src/common/java-hash.js';
import { NameServer } from '../src/namesrv/name-server.js';
import { RemotingClient } from '../src/net/remoting-client.js';
import { encodeBatchBody } from '../src/protocol/batch-codec.js';
import { encodeHeartbeatData } from '../src/protocol/client-bodies.js';
import {
  encodeSendMessageRequestHeaderV1,
  encodeSendMessageRequestHeaderV2,
  type SendMessageRequestHeader,
} from '../src/protocol/headers/send-message.js';
import {
  PullSysFlag,
  encodePullMessageRequestHeader,
} from '../src/protocol/headers/pull-message.js';
import { createRequest, type RemotingCommand } from '../src/protocol/remoting-command.js';
import { RequestCode } from '../src/protocol/request-code.js';
import { ResponseCode } from '../src/protocol/response-code.js';
import { decodeTopicRouteData } from '../src/protocol/route-data.js';

const TIMEOUT_MS = 5_000;
let dir: string;
let namesrv: NameServer;
let broker: BrokerController;
let client: RemotingClient;

function brokerConfig(): BrokerConfig {
  return {
    ...DEFAULT_BROKER_CONFIG,
    namesrvAddr: `127.0.0.1:${namesrv.port}`,
    listenHost: '127.0.0.1',
    listenPort: 0,
    brokerIP1: '127.0.0.1',
    storePathRootDir: dir,
    mappedFileSizeCommitLog: 1024 * 1024,
    maxMessageSize: 256 * 1024,
    mappedFileSizeConsumeQueueEntries: 1000,
    warmMappedFileEnable: false,
    flushConsumerOffsetInterval: 200,
    httpPort: 0,
    // Retries go through delay levels (level 3 + reconsume times): keep them short here.
    messageDelayLevel: Array.from({ length: 18 }, () => '50ms').join(' '),
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-broker-e2e-'));
  namesrv = new NameServer();
  await namesrv.start({ host: '127.0.0.1', port: 0 });
  broker = await BrokerController.start(brokerConfig());
  client = new RemotingClient();
});

after(async () => {
  client.close();
  await broker.stop();
  await namesrv.stop();
  rmSync(dir, { recursive: true, force: true });
});

function invoke(code: number, extFields: Record<string, string>, body?: Buffer) {
  return client.invoke(broker.address, createRequest(code, { extFields, body }), TIMEOUT_MS);
}

function sendHeader(topic: string, queueId: number, properties: string): SendMessageRequestHeader {
  return {
    producerGroup: 'PG',
    topic,
    defaultTopic: 'TBW102',
    defaultTopicQueueNums: 4,
    queueId,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    flag: 0,
    properties,
  };
}

async function send(
  topic: string,
  queueId: number,
  body: string,
  tags = 'TagA',
  v2 = true,
): Promise<RemotingCommand> {
  const header = sendHeader(topic, queueId, encodeProperties({ TAGS: tags, KEYS: `k-${body}` }));
  const ext = v2
    ? encodeSendMessageRequestHeaderV2(header)
    : encodeSendMessageRequestHeaderV1(header);
  const response = await invoke(
    v2 ? RequestCode.SEND_MESSAGE_V2 : RequestCode.SEND_MESSAGE,
    ext,
    Buffer.from(body),
  );
  assert.equal(response.code, ResponseCode.SUCCESS, response.remark);
  return response;
}

interface PullOptions {
  subscription?: string;
  suspendMs?: number;
  commitOffset?: number;
  group?: string;
  max?: number;
}

function pull(topic: string, queueId: number, queueOffset: number, o: PullOptions = {}) {
  let sysFlag = PullSysFlag.SUBSCRIPTION;
  if (o.suspendMs !== undefined) sysFlag |= PullSysFlag.SUSPEND;
  if (o.commitOffset !== undefined) sysFlag |= PullSysFlag.COMMIT_OFFSET;
  return invoke(
    RequestCode.PULL_MESSAGE,
    encodePullMessageRequestHeader({
      consumerGroup: o.group ?? 'CG',
      topic,
      queueId,
      queueOffset,
      maxMsgNums: o.max ?? 32,
      sysFlag,
      commitOffset: o.commitOffset ?? 0,
      suspendTimeoutMillis: o.suspendMs ?? 0,
      subscription: o.subscription ?? '*',
      subVersion: 0,
    }),
  );
}

test('send V1, V2 and batch, then pull everything back byte-identical', async () => {
  const topic = 'E2E_SEND';
  const r1 = await send(topic, 0, 'one', 'TagA', false);
  const r2 = await send(topic, 0, 'two', 'TagB', true);
  assert.equal(r1.extFields.queueOffset, '0');
  assert.equal(r2.extFields.queueOffset, '1');
  assert.match(r1.extFields.msgId!, /^7F000001[0-9A-F]{24}$/);
  const items = ['b0', 'b1', 'b2'].map((b) => ({
    flag: 7,
    body: Buffer.from(b),
    properties: Buffer.from(encodeProperties({ TAGS: 'TagC', KEYS: b })),
  }));
  const batch = await invoke(
    RequestCode.SEND_BATCH_MESSAGE,
    encodeSendMessageRequestHeaderV2(sendHeader(topic, 0, '')),
    encodeBatchBody(items),
  );
  assert.equal(batch.code, ResponseCode.SUCCESS, batch.remark);
  assert.equal(batch.extFields.msgId!.split(',').length, 3);
  assert.equal(batch.extFields.queueOffset, '2');

  const response = await pull(topic, 0, 0);
  assert.equal(response.code, ResponseCode.SUCCESS, response.remark);
  assert.equal(response.extFields.nextBeginOffset, '5');
  assert.equal(response.extFields.minOffset, '0');
  assert.equal(response.extFields.maxOffset, '5');
  const records = decodeRecords(response.body!);
  assert.deepEqual(
    records.map((r) => Buffer.from(r.body).toString()),
    ['one', 'two', 'b0', 'b1', 'b2'],
  );
  assert.equal(records[0]!.offsetMsgId, r1.extFields.msgId);
  assert.equal(records[1]!.offsetMsgId, r2.extFields.msgId);
  assert.deepEqual(
    records.map((r) => r.offsetMsgId),
    [r1.extFields.msgId, r2.extFields.msgId, ...batch.extFields.msgId!.split(',')],
  );
  assert.equal(records[1]!.properties.get('TAGS'), 'TagB');
  assert.equal(records[3]!.flag, 7);
  assert.equal(records[4]!.queueOffset, 4);
});

test('auto-created topic is registered with the name server', async () => {
  await send('E2E_AUTO', 1, 'x');
  await broker.registerBrokerAll();
  const route = await client.invoke(
    `127.0.0.1:${namesrv.port}`,
    createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'E2E_AUTO' } }),
    TIMEOUT_MS,
  );
  assert.equal(route.code, ResponseCode.SUCCESS, route.remark);
  const data = decodeTopicRouteData(route.body!);
  assert.equal(data.queueDatas[0]!.writeQueueNums, 4);
  assert.equal(data.brokerDatas[0]!.brokerAddrs['0'], broker.address);
});

test('long polling answers as soon as a message arrives, and times out with 19', async () => {
  const topic = 'E2E_POLL';
  await send(topic, 0, 'first');
  const start = Date.now();
  const empty = await pull(topic, 0, 1, { suspendMs: 300 });
  const waited = Date.now() - start;
  assert.equal(empty.code, ResponseCode.PULL_NOT_FOUND);
  assert.equal(empty.extFields.nextBeginOffset, '1');
  assert.ok(waited >= 280 && waited < 2000, `held ${waited} ms`);

  const held = pull(topic, 0, 1, { suspendMs: 10_000 });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(broker.heldPullCount, 1);
  const sentAt = Date.now();
  await send(topic, 0, 'second');
  const response = await held;
  const latency = Date.now() - sentAt;
  assert.equal(response.code, ResponseCode.SUCCESS);
  assert.deepEqual(
    decodeRecords(response.body!).map((r) => Buffer.from(r.body).toString()),
    ['second'],
  );
  // Answered by the arrival notification, not by the hold's 10 s expiry (the bound leaves room
  // for a slow CI machine; the figure printed below is the real wake-up latency).
  assert.ok(latency < 1_000, `long poll answered ${latency} ms after the send`);
  console.log(`# long-poll wake-up latency (send → pull answer): ${latency} ms`);
});

test('tag filter returns only matching messages', async () => {
  const topic = 'E2E_TAGS';
  for (const [i, tag] of ['TagA', 'TagB', 'TagA', 'TagC'].entries()) {
    await send(topic, 0, `m${i}`, tag);
  }
  const response = await pull(topic, 0, 0, { subscription: 'TagA || TagC' });
  assert.equal(response.code, ResponseCode.SUCCESS);
  const records = decodeRecords(response.body!);
  assert.deepEqual(
    records.map((r) => Buffer.from(r.body).toString()),
    ['m0', 'm2', 'm3'],
  );
  assert.equal(response.extFields.nextBeginOffset, '4');
  const none = await pull(topic, 0, 0, { subscription: 'TagZ' });
  assert.equal(none.code, ResponseCode.PULL_RETRY_IMMEDIATELY);
  assert.equal(none.extFields.nextBeginOffset, '4');
  assert.ok(javaStringHashCode('TagA') === 2598919);
});

test('consumer offsets: commit, piggy-back on pull, query', async () => {
  const topic = 'E2E_OFFSETS';
  await send(topic, 2, 'a');
  const q = (group: string) =>
    invoke(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId: '2' });
  const fresh = await q('G1');
  assert.equal(fresh.code, ResponseCode.SUCCESS);
  assert.equal(fresh.extFields.offset, '0');
  const upd = await invoke(RequestCode.UPDATE_CONSUMER_OFFSET, {
    consumerGroup: 'G1',
    topic,
    queueId: '2',
    commitOffset: '1',
  });
  assert.equal(upd.code, ResponseCode.SUCCESS);
  await invoke(RequestCode.UPDATE_CONSUMER_OFFSET, {
    consumerGroup: 'G1',
    topic,
    queueId: '2',
    commitOffset: '-1',
  });
  assert.equal((await q('G1')).extFields.offset, '1');
  await pull(topic, 2, 1, { group: 'G2', commitOffset: 1 });
  assert.equal((await q('G2')).extFields.offset, '1');
  const max = await invoke(RequestCode.GET_MAX_OFFSET, { topic, queueId: '2' });
  assert.equal(max.extFields.offset, '1');
  const min = await invoke(RequestCode.GET_MIN_OFFSET, { topic, queueId: '2' });
  assert.equal(min.extFields.offset, '0');
});

test('topic create and delete', async () => {
  const created = await invoke(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic: 'E2E_ADMIN',
    defaultTopic: 'TBW102',
    readQueueNums: '3',
    writeQueueNums: '3',
    perm: '6',
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: '0',
    order: 'false',
  });
  assert.equal(created.code, ResponseCode.SUCCESS, created.remark);
  const all = await invoke(RequestCode.GET_ALL_TOPIC_CONFIG, {});
  const table = JSON.parse(all.body!.toString()).topicConfigTable;
  assert.equal(table.E2E_ADMIN.writeQueueNums, 3);
  const first = await send('E2E_ADMIN', 2, 'before-delete');
  assert.equal(first.extFields.queueOffset, '0');
  assert.equal((await send('E2E_ADMIN', 2, 'before-delete-2')).extFields.queueOffset, '1');
  const sys = await invoke(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'TBW102' });
  assert.equal(sys.code, ResponseCode.SYSTEM_ERROR);
  const deleted = await invoke(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'E2E_ADMIN' });
  assert.equal(deleted.code, ResponseCode.SUCCESS);
  const after = JSON.parse((await invoke(RequestCode.GET_ALL_TOPIC_CONFIG, {})).body!.toString());
  assert.equal(after.topicConfigTable.E2E_ADMIN, undefined);
  const gone = await pull('E2E_ADMIN', 0, 0);
  assert.equal(gone.code, ResponseCode.TOPIC_NOT_EXIST);

  // Created again, read-only, with one write queue: sends see the new config at once.
  const update = (perm: string) =>
    invoke(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: 'E2E_ADMIN',
      defaultTopic: 'TBW102',
      readQueueNums: '3',
      writeQueueNums: '3',
      perm,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: '0',
      order: 'false',
    });
  assert.equal((await update('4')).code, ResponseCode.SUCCESS);
  const readOnly = await invoke(
    RequestCode.SEND_MESSAGE_V2,
    encodeSendMessageRequestHeaderV2(sendHeader('E2E_ADMIN', 2, '')),
    Buffer.from('refused'),
  );
  assert.equal(readOnly.code, ResponseCode.NO_PERMISSION, readOnly.remark);
  assert.equal((await update('6')).code, ResponseCode.SUCCESS);
  const reborn = await send('E2E_ADMIN', 2, 'after-delete');
  assert.equal(reborn.extFields.queueOffset, '0', 'a deleted topic starts again at offset 0');
});

test('heartbeat registers the consumer and creates its retry topic; send-back copies to it', async () => {
  const body = encodeHeartbeatData({
    clientID: '127.0.0.1@e2e',
    producerDataSet: [],
    consumerDataSet: [
      {
        groupName: 'CGB',
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: 'CLUSTERING',
        consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
        unitMode: false,
        subscriptionDataSet: [
          {
            topic: 'E2E_BACK',
            subString: '*',
            classFilterMode: false,
            tagsSet: [],
            codeSet: [],
            subVersion: 1,
          },
        ],
      },
    ],
  });
  const hb = await invoke(RequestCode.HEART_BEAT, {}, body);
  assert.equal(hb.code, ResponseCode.SUCCESS, hb.remark);
  const ids = await invoke(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'CGB' });
  assert.deepEqual(JSON.parse(ids.body!.toString()).consumerIdList, ['127.0.0.1@e2e']);

  await send('E2E_BACK', 0, 'fail-me', 'TagX');
  const pulled = decodeRecords((await pull('E2E_BACK', 0, 0)).body!)[0]!;
  const back = await invoke(RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: String(pulled.physicalOffset),
    group: 'CGB',
    delayLevel: '0',
    originMsgId: pulled.offsetMsgId,
    originTopic: 'E2E_BACK',
    maxReconsumeTimes: '16',
  });
  assert.equal(back.code, ResponseCode.SUCCESS, back.remark);
  // The retry copy waits for its delay level (50 ms here) in the schedule topic.
  let retried = await pull('%RETRY%CGB', 0, 0, { group: 'CGB' });
  for (let i = 0; i < 60 && retried.code !== ResponseCode.SUCCESS; i++) {
    await new Promise((r) => setTimeout(r, 50));
    retried = await pull('%RETRY%CGB', 0, 0, { group: 'CGB' });
  }
  assert.equal(retried.code, ResponseCode.SUCCESS, retried.remark);
  const copy = decodeRecords(retried.body!)[0]!;
  assert.equal(Buffer.from(copy.body).toString(), 'fail-me');
  assert.equal(copy.reconsumeTimes, 1);
  assert.equal(copy.properties.get('RETRY_TOPIC'), 'E2E_BACK');
  assert.equal(copy.properties.get('ORIGIN_MESSAGE_ID'), pulled.offsetMsgId);
  assert.equal(copy.properties.get('TAGS'), 'TagX');

  // Over the limit: to the dead-letter topic.
  const dlq = await invoke(RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: String(copy.physicalOffset),
    group: 'CGB',
    delayLevel: '0',
    maxReconsumeTimes: '1',
  });
  assert.equal(dlq.code, ResponseCode.SUCCESS, dlq.remark);
  // The dead-letter topic is write-only for consumers, as in RocketMQ; read it from the store.
  const denied = await pull('%DLQ%CGB', 0, 0, { group: 'CGB' });
  assert.equal(denied.code, ResponseCode.NO_PERMISSION, denied.remark);
  let dead = broker.store.getMessage('%DLQ%CGB', 0, 0, 1);
  for (let i = 0; i < 40 && dead.status !== 'FOUND'; i++) {
    await new Promise((r) => setTimeout(r, 25));
    dead = broker.store.getMessage('%DLQ%CGB', 0, 0, 1);
  }
  assert.equal(dead.status, 'FOUND');
  try {
    assert.equal(decodeRecords(Buffer.concat(dead.slices!.buffers))[0]!.reconsumeTimes, 2);
  } finally {
    dead.slices!.release();
  }
});

test('a restarted broker keeps topics, offsets and messages', async () => {
  await invoke(RequestCode.UPDATE_CONSUMER_OFFSET, {
    consumerGroup: 'GR',
    topic: 'E2E_SEND',
    queueId: '0',
    commitOffset: '3',
  });
  client.close();
  await broker.stop();
  broker = await BrokerController.start(brokerConfig());
  client = new RemotingClient();
  const q = await invoke(RequestCode.QUERY_CONSUMER_OFFSET, {
    consumerGroup: 'GR',
    topic: 'E2E_SEND',
    queueId: '0',
  });
  assert.equal(q.extFields.offset, '3');
  const table = JSON.parse((await invoke(RequestCode.GET_ALL_TOPIC_CONFIG, {})).body!.toString());
  assert.ok(table.topicConfigTable.E2E_AUTO);
  assert.ok(table.topicConfigTable['%RETRY%CGB']);
  const response = await pull('E2E_SEND', 0, 3);
  assert.equal(response.code, ResponseCode.SUCCESS, response.remark);
  assert.deepEqual(
    decodeRecords(response.body!).map((r) => Buffer.from(r.body).toString()),
    ['b1', 'b2'],
  );
});
