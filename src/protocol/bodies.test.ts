import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLenientJson, stringifyCompat } from './json-compat.js';
import {
  decodeRegisterBrokerBody,
  decodeTopicRouteData,
  encodeRegisterBrokerBody,
  encodeTopicRouteData,
  type TopicRouteData,
} from './route-data.js';
import {
  decodeConsumeStats,
  decodeHeartbeatData,
  decodeLockBatchRequestBody,
  encodeConsumeStats,
  encodeLockBatchRequestBody,
} from './client-bodies.js';
import { decodeBatchBody, encodeBatchBody } from './batch-codec.js';

const route: TopicRouteData = {
  queueDatas: [{ brokerName: 'b', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
  brokerDatas: [{ cluster: 'c', brokerName: 'b', brokerAddrs: { '0': '127.0.0.1:10911' } }],
  filterServerTable: {},
};

test('route data: standard JSON and the fastjson integer-key form both round-trip', () => {
  const std = encodeTopicRouteData(route).toString();
  assert.doesNotThrow(() => JSON.parse(std));
  assert.match(std, /"brokerAddrs":\{"0":/);
  const fj = encodeTopicRouteData(route, { fastjson: true }).toString();
  assert.match(fj, /"brokerAddrs":\{0:"127\.0\.0\.1:10911"\}/);
  assert.deepEqual(decodeTopicRouteData(std), { ...route, orderTopicConf: undefined });
  assert.deepEqual(decodeTopicRouteData(fj), { ...route, orderTopicConf: undefined });
});

test('lenient parser: object keys, escapes, unsafe integers refused', () => {
  const v = parseLenientJson('{"t":{{"topic":"T","queueId":1}:5, 2:"x"}, "s":"a\\"b"}') as {
    t: Record<string, unknown>;
    s: string;
  };
  assert.equal(v.t['{"topic":"T","queueId":1}'], 5);
  assert.equal(v.t['2'], 'x');
  assert.equal(v.s, 'a"b');
  assert.throws(() => parseLenientJson('{"a":9223372036854775807}'), { code: 'PROTOCOL_ERROR' });
  assert.throws(() => parseLenientJson('{"a":1} x'), { code: 'PROTOCOL_ERROR' });
  assert.equal(stringifyCompat(new Map([[1, 'a']])), '{1:"a"}');
});

test('register broker body round-trip', () => {
  const body = {
    topicConfigSerializeWrapper: {
      topicConfigTable: {
        T: {
          topicName: 'T',
          readQueueNums: 4,
          writeQueueNums: 4,
          perm: 6,
          topicFilterType: 'SINGLE_TAG',
          topicSysFlag: 0,
          order: false,
          attributes: undefined,
        },
      },
      dataVersion: { timestamp: 5, counter: 2, stateVersion: undefined },
    },
    filterServerList: [],
  };
  assert.deepEqual(decodeRegisterBrokerBody(encodeRegisterBrokerBody(body)), body);
});

test('heartbeat body as ali-ons sends it', () => {
  const hb = decodeHeartbeatData(
    JSON.stringify({
      clientID: '192.0.2.2@4711',
      consumerDataSet: [
        {
          groupName: 'CG',
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
          unitMode: false,
          subscriptionDataSet: [
            {
              topic: 'T',
              subString: 'TagA || TagB',
              classFilterMode: false,
              tagsSet: ['TagA', 'TagB'],
              codeSet: [2598919, 2598920],
              subVersion: 1732489000000,
            },
          ],
        },
      ],
      producerDataSet: [{ groupName: 'PG' }],
    }),
  );
  assert.equal(hb.consumerDataSet[0]!.subscriptionDataSet[0]!.codeSet[0], 2598919);
  assert.equal(hb.producerDataSet[0]!.groupName, 'PG');
});

test('lock batch and consume stats bodies', () => {
  const lock = {
    consumerGroup: 'g',
    clientId: 'c',
    mqSet: [{ topic: 'T', brokerName: 'b', queueId: 1 }],
  };
  assert.deepEqual(decodeLockBatchRequestBody(encodeLockBatchRequestBody(lock)), lock);
  const stats = {
    offsetTable: [
      {
        queue: { topic: 'T', brokerName: 'b', queueId: 0 },
        offsets: { brokerOffset: 10, consumerOffset: 7, lastTimestamp: 0 },
      },
    ],
    consumeTps: 1.5,
  };
  const enc = encodeConsumeStats(stats).toString();
  assert.match(enc, /^\{"offsetTable":\{\{"brokerName":"b"/);
  assert.deepEqual(decodeConsumeStats(enc), stats);
});

test('batch body round-trip and malformed batches', () => {
  const items = [
    { flag: 1, body: Buffer.from('one'), properties: Buffer.from('KEYS\u0001k\u0002') },
    { flag: 0, body: Buffer.alloc(0), properties: Buffer.alloc(0) },
  ];
  const enc = encodeBatchBody(items);
  assert.equal(enc.readInt32BE(0), 22 + 3 + 7);
  assert.deepEqual(decodeBatchBody(enc), items);
  assert.throws(() => decodeBatchBody(enc.subarray(0, enc.length - 1)), {
    code: 'MESSAGE_ILLEGAL',
  });
  const bad = Buffer.from(enc);
  bad.writeInt32BE(1000, 16);
  assert.throws(() => decodeBatchBody(bad), { code: 'MESSAGE_ILLEGAL' });
});
