import { test } from 'node:test';
import { inspect } from 'node:util';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import {
  SYSFLAG_COMPRESSED,
  bodyCrc,
  encodeRecord,
  recordSizeBytes,
  sysFlagWithHosts,
  type RecordHeader,
} from '../common/codec/message-record.js';
import { decodeRecords } from '../common/codec/decoded-message.js';
import { encodeProperties } from '../common/codec/properties.js';
import { messageQueue } from './message-queue.js';
import { decodeMessages } from './received-message.js';

interface Spec {
  topic: string;
  queueId: number;
  body: Uint8Array;
  props: Record<string, string>;
  sysFlag?: number;
  born?: Uint8Array;
  store?: Uint8Array;
}

const V4_BORN = new Uint8Array([10, 0, 0, 7]);
const V4_STORE = new Uint8Array([192, 168, 1, 2]);
const V6_STORE = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);

/** Concatenated records, as a pull answer carries them. */
function body(specs: readonly Spec[]): Buffer {
  const parts: Buffer[] = [];
  let phy = 2 ** 33 + 17;
  specs.forEach((s, i) => {
    const topic = Buffer.from(s.topic, 'utf8');
    const props = Buffer.from(encodeProperties(s.props), 'utf8');
    const born = s.born ?? V4_BORN;
    const store = s.store ?? V4_STORE;
    const sysFlag = sysFlagWithHosts(s.sysFlag ?? 0, born.length, store.length);
    const h: RecordHeader = {
      bodyCrc: bodyCrc(s.body),
      queueId: s.queueId,
      flag: 5,
      queueOffset: 1000 + i,
      physicalOffset: phy,
      sysFlag,
      bornTimestamp: 1_700_000_000_000 + i,
      bornHostAddress: born,
      bornHostPort: 40000 + i,
      storeTimestamp: 1_700_000_001_000 + i,
      storeHostAddress: store,
      storeHostPort: 10911,
      reconsumeTimes: i,
      preparedTransactionOffset: 0,
    };
    const buf = Buffer.alloc(recordSizeBytes(s.body.length, topic.length, props.length, sysFlag));
    encodeRecord(
      new DataView(buf.buffer, buf.byteOffset),
      buf,
      0,
      h,
      s.body,
      topic,
      props,
      props.length,
    );
    phy += buf.length;
    parts.push(buf);
  });
  return Buffer.concat(parts);
}

test('decodeMessages agrees with the reference record decoder on every field', () => {
  const specs: Spec[] = [
    {
      topic: 'TopicA',
      queueId: 1,
      body: Buffer.from('one'),
      props: { UNIQ_KEY: 'U1', TAGS: 'tagA', KEYS: 'k1  k2', WAIT: 'true' },
    },
    {
      topic: 'TopicA',
      queueId: 1,
      body: Buffer.from('two'),
      props: { TAGS: 'tagB', 'user-prop': 'värde ✓' },
    },
    { topic: 'TopicB', queueId: 4, body: Buffer.alloc(0), props: {}, store: V6_STORE },
    { topic: 'Ünïcode_topic', queueId: 2, body: Buffer.from('x'), props: { UNIQ_KEY: 'U4' } },
  ];
  const bytes = body(specs);
  const got = decodeMessages(bytes, undefined, 'broker-a');
  const want = decodeRecords(bytes);
  assert.equal(got.length, specs.length);
  got.forEach((m, i) => {
    const d = want[i]!;
    assert.equal(m.topic, d.topic);
    assert.deepEqual([...m.body], [...d.body]);
    assert.deepEqual(m.properties, Object.fromEntries(d.properties));
    assert.equal(m.msgId, d.msgId);
    assert.equal(m.offsetMsgId, d.offsetMsgId);
    assert.equal(m.queueOffset, d.queueOffset);
    assert.equal(m.commitLogOffset, d.physicalOffset);
    assert.equal(m.bornTimestampMs, d.bornTimestamp);
    assert.equal(m.storeTimestampMs, d.storeTimestamp);
    assert.equal(m.bornHost, d.bornHost);
    assert.equal(m.storeHost, d.storeHost);
    assert.equal(m.reconsumeTimes, d.reconsumeTimes);
    assert.equal(m.flag, d.flag);
    assert.equal(m.storeSizeBytes, d.totalSize);
    assert.deepEqual(m.queue, messageQueue(d.topic, 'broker-a', d.queueId));
  });
  assert.equal(got[0]!.tags, 'tagA');
  assert.deepEqual(got[0]!.keys, ['k1', 'k2']);
  assert.deepEqual(got[1]!.keys, []);
  assert.equal(got[1]!.msgId, got[1]!.offsetMsgId, 'no UNIQ_KEY: the offset id');
  assert.equal(got[2]!.offsetMsgId.length, 56, 'IPv6 store host');
  assert.equal(got[1]!.properties['user-prop'], 'värde ✓');
  // Records of one queue share the queue object; another queue gets its own.
  assert.equal(got[0]!.queue, got[1]!.queue);
  assert.notEqual(got[1]!.queue, got[2]!.queue);
  // Fields decoded on access still show in JSON and console output.
  const json = JSON.parse(JSON.stringify(got[0])) as Record<string, unknown>;
  assert.equal(json.msgId, 'U1');
  assert.equal(json.tags, 'tagA');
  assert.deepEqual(json.keys, ['k1', 'k2']);
  assert.equal(json.storeHost, got[0]!.storeHost);
  assert.match(inspect(got[0]), /msgId: 'U1'/);
  assert.match(inspect(got[0]), /offsetMsgId: '[0-9A-F]{32}'/);
});

test('decodeMessages inflates compressed bodies, restores retry topics, keeps the given queue', () => {
  const original = Buffer.from('a compressed body '.repeat(50));
  const bytes = body([
    {
      topic: '%RETRY%groupA',
      queueId: 0,
      body: deflateSync(original),
      props: { RETRY_TOPIC: 'OrderTopic', UNIQ_KEY: 'U9' },
      sysFlag: SYSFLAG_COMPRESSED,
    },
  ]);
  const mq = messageQueue('%RETRY%groupA', 'broker-b', 0);
  const [m] = decodeMessages(bytes, mq);
  assert.equal(m!.topic, 'OrderTopic');
  assert.deepEqual(m!.body, original);
  assert.equal(m!.queue, mq);
});

test('decodeMessages: empty input, a trailing blank, and garbage', () => {
  assert.deepEqual(decodeMessages(undefined, undefined), []);
  assert.deepEqual(decodeMessages(Buffer.alloc(0), undefined), []);
  const one = body([{ topic: 'T', queueId: 0, body: Buffer.from('b'), props: {} }]);
  const garbage = Buffer.concat([one, Buffer.from([0, 0, 0, 50, 1, 2, 3, 4, 5, 6, 7, 8])]);
  assert.throws(() => decodeMessages(garbage, undefined, 'bx'), { code: 'PROTOCOL_ERROR' });
  const cut = one.subarray(0, one.length - 3);
  assert.throws(() => decodeMessages(cut, undefined), { code: 'PROTOCOL_ERROR' });
});
