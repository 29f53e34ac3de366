import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderFieldError } from './fields.js';
import {
  decodeSendMessageRequestHeader,
  encodeSendMessageRequestHeaderV1,
  encodeSendMessageRequestHeaderV2,
  type SendMessageRequestHeader,
} from './send-message.js';
import { decodePullMessageRequestHeader, decodePullMessageResponseHeader } from './pull-message.js';
import { decodeUpdateConsumerOffsetRequestHeader } from './offsets.js';
import { decodeCreateTopicRequestHeader } from './topic.js';
import { decodeRegisterBrokerRequestHeader } from './broker-registration.js';
import { decodeQueryMessageRequestHeader, encodeQueryMessageRequestHeader } from './query.js';

const send: SendMessageRequestHeader = {
  producerGroup: 'PG',
  topic: 'T',
  defaultTopic: 'TBW102',
  defaultTopicQueueNums: 4,
  queueId: 2,
  sysFlag: 1,
  bornTimestamp: 1732489000000,
  flag: 0,
  properties: 'TAGS\u0001A\u0002',
  reconsumeTimes: 0,
  unitMode: false,
  maxReconsumeTimes: undefined,
  batch: undefined,
  brokerName: undefined,
};

test('send header round-trips through V1 and V2 names', () => {
  const v1 = encodeSendMessageRequestHeaderV1(send);
  assert.equal(v1.producerGroup, 'PG');
  assert.deepEqual(decodeSendMessageRequestHeader(v1), send);
  const v2 = encodeSendMessageRequestHeaderV2(send);
  assert.equal(v2.a, 'PG');
  assert.equal(v2.g, '1732489000000');
  assert.equal(v2.topic, undefined);
  assert.deepEqual(decodeSendMessageRequestHeader(v2), send);
});

test('ali-ons V2 header (coerced numbers and booleans) decodes', () => {
  const h = decodeSendMessageRequestHeader({
    a: 'PG',
    b: 'T',
    c: 'TBW102',
    d: '4',
    e: '3',
    f: '0',
    g: '1',
    h: '0',
    i: 'TAGS\u0001null\u0002',
    j: '0',
    k: 'false',
  });
  assert.equal(h.queueId, 3);
  assert.equal(h.unitMode, false);
});

test('missing or malformed fields give a HeaderFieldError naming the field', () => {
  assert.throws(
    () => decodePullMessageRequestHeader({ topic: 'T', queueId: '0' }),
    (err: unknown) => err instanceof HeaderFieldError && err.field === 'consumerGroup',
  );
  assert.throws(
    () =>
      decodeUpdateConsumerOffsetRequestHeader({
        consumerGroup: 'g',
        topic: 't',
        queueId: 'x',
        commitOffset: '1',
      }),
    { code: 'PROTOCOL_ERROR' },
  );
});

test('64-bit values beyond 2^53 are refused, -1 offsets accepted', () => {
  assert.throws(
    () =>
      decodePullMessageResponseHeader({
        nextBeginOffset: '9223372036854775807',
        minOffset: '0',
        maxOffset: '0',
      }),
    (err: unknown) => err instanceof HeaderFieldError && err.field === 'nextBeginOffset',
  );
  const h = decodeUpdateConsumerOffsetRequestHeader({
    consumerGroup: 'g',
    topic: 't',
    queueId: '1',
    commitOffset: '-1',
  });
  assert.equal(h.commitOffset, -1);
});

test('create-topic and register-broker defaults', () => {
  const t = decodeCreateTopicRequestHeader({
    topic: 'T',
    readQueueNums: '4',
    writeQueueNums: '4',
    order: 'false',
  });
  assert.equal(t.perm, 6);
  assert.equal(t.defaultTopic, 'TBW102');
  const r = decodeRegisterBrokerRequestHeader({
    brokerName: 'b',
    brokerAddr: '127.0.0.1:10911',
    clusterName: 'c',
    brokerId: '0',
  });
  assert.equal(r.compressed, false);
  assert.equal(r.brokerId, 0);
});

test('query message unique-key flag', () => {
  const ext = encodeQueryMessageRequestHeader({
    topic: 'T',
    key: 'k',
    maxNum: 32,
    beginTimestamp: 0,
    endTimestamp: 10,
    uniqueKeyQuery: true,
  });
  assert.equal(ext._UNIQUE_KEY_QUERY, 'true');
  assert.equal(decodeQueryMessageRequestHeader(ext).uniqueKeyQuery, true);
});
