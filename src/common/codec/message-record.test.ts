import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BLANK_MAGIC,
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  SYSFLAG_BORNHOST_V6,
  SYSFLAG_STOREHOST_V6,
  bodyCrc,
  checkRecord,
  encodeBlank,
  encodeRecord,
  getInt64,
  newRecordMeta,
  readRecordMeta,
  recordSizeBytes,
  type RecordHeader,
} from './message-record.js';
import { decodeRecord, decodeRecords } from './decoded-message.js';
import { sampleHeader as header } from './message-record.fixture.js';
import { writeInt64 } from './int64.js';
import { encodeProperties } from './properties.js';

const enc = new TextEncoder();

interface Sample {
  header: RecordHeader;
  body: Uint8Array;
  topic: string;
  props: string;
}

function encodeSample(s: Sample, buf: Uint8Array, pos: number, asString: boolean): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const topic = enc.encode(s.topic);
  const propBytes = enc.encode(s.props);
  return encodeRecord(
    view,
    buf,
    pos,
    s.header,
    s.body,
    topic,
    asString ? s.props : propBytes,
    propBytes.length,
  );
}

test('record size matches the RocketMQ fixed overhead', () => {
  assert.equal(recordSizeBytes(0, 0, 0, 0), 91);
  assert.equal(recordSizeBytes(10, 5, 7, 0), 113);
  assert.equal(recordSizeBytes(0, 0, 0, SYSFLAG_BORNHOST_V6 | SYSFLAG_STOREHOST_V6), 115);
  assert.equal(recordSizeBytes(0, 128, 0, 0), 91 + 1 + 128);
});

test('int64 halves round trip and reject beyond 2^53', () => {
  const v = new DataView(new ArrayBuffer(8));
  for (const n of [0, 1, -1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 123456789012345]) {
    writeInt64(v, 0, n);
    assert.equal(getInt64(v, 0), n);
    assert.equal(v.getBigInt64(0), BigInt(n));
  }
  v.setBigInt64(0, 2n ** 60n);
  assert.throws(() => getInt64(v, 0), { code: 'STORE_CORRUPT' });
});

test('encode/decode every field, IPv4', () => {
  const body = enc.encode('hello world');
  const props = encodeProperties({ TAGS: 'tagA', KEYS: 'k1 k2', UNIQ_KEY: 'ABCDEF' });
  const s: Sample = { header: header({ bodyCrc: bodyCrc(body) }), body, topic: 'TopicTest', props };
  const buf = Buffer.alloc(1024);
  const size = encodeSample(s, buf, 16, true);
  assert.equal(size, recordSizeBytes(body.length, 9, Buffer.byteLength(props), 0));
  assert.equal(checkRecord(buf, 16, 1024 - 16, true), size);
  const d = decodeRecord(buf, 16);
  assert.equal(d.totalSize, size);
  assert.equal(d.magic, MESSAGE_MAGIC_V1);
  assert.equal(d.bodyCrc, bodyCrc(body));
  assert.equal(d.queueId, 3);
  assert.equal(d.flag, -7);
  assert.equal(d.queueOffset, 123456789012);
  assert.equal(d.physicalOffset, 2 ** 40 + 5);
  assert.equal(d.sysFlag, 0);
  assert.equal(d.bornTimestamp, 1_700_000_000_123);
  assert.equal(d.bornHost, '10.0.0.1:50123');
  assert.equal(d.storeTimestamp, 1_700_000_000_456);
  assert.equal(d.storeHost, '192.168.1.2:10911');
  assert.equal(d.reconsumeTimes, 2);
  assert.equal(d.preparedTransactionOffset, 0);
  assert.equal(d.topic, 'TopicTest');
  assert.deepEqual([...d.body], [...body]);
  assert.equal(d.properties.get('TAGS'), 'tagA');
  assert.equal(d.properties.get('KEYS'), 'k1 k2');
  assert.equal(d.msgId, 'ABCDEF');
  // C0A80102 0000 2A9F 0000 0100 0000 0005
  assert.equal(d.offsetMsgId, 'C0A8010200002A9F0000010000000005');
  const meta = newRecordMeta();
  readRecordMeta(new DataView(buf.buffer, buf.byteOffset), buf, 16, meta);
  assert.equal(meta.totalSize, size);
  assert.equal(meta.bodyStart, 16 + 88);
  assert.equal(meta.bodyLength, body.length);
  assert.equal(meta.topicStart, 16 + 88 + body.length + 1);
  assert.equal(meta.topicLength, 9);
  assert.equal(meta.propertiesLength, Buffer.byteLength(props));
});

test('IPv6 hosts set the sysflag bits and shift the fields', () => {
  const v6 = new Uint8Array(16);
  v6[15] = 1;
  v6[0] = 0xfe;
  v6[1] = 0x80;
  const body = new Uint8Array([1, 2, 3]);
  for (const [born, store, flag] of [
    [v6, new Uint8Array([1, 2, 3, 4]), SYSFLAG_BORNHOST_V6],
    [new Uint8Array([1, 2, 3, 4]), v6, SYSFLAG_STOREHOST_V6],
    [v6, v6, SYSFLAG_BORNHOST_V6 | SYSFLAG_STOREHOST_V6],
  ] as const) {
    const h = header({ bornHostAddress: born, storeHostAddress: store, bodyCrc: bodyCrc(body) });
    assert.equal(h.sysFlag, flag);
    const buf = Buffer.alloc(512);
    const size = encodeSample({ header: h, body, topic: 'T', props: '' }, buf, 0, false);
    assert.equal(checkRecord(buf, 0, 512, true), size);
    const d = decodeRecord(buf);
    assert.equal(d.sysFlag, flag);
    assert.equal(d.storeTimestamp, h.storeTimestamp);
    assert.equal(d.reconsumeTimes, 2);
    if (flag & SYSFLAG_BORNHOST_V6) assert.equal(d.bornHost, '[fe80:0:0:0:0:0:0:1]:50123');
    if (flag & SYSFLAG_STOREHOST_V6) assert.equal(d.offsetMsgId.length, 56);
    else assert.equal(d.offsetMsgId.length, 32);
    assert.deepEqual([...d.body], [1, 2, 3]);
  }
});

test('long topic uses v2 magic and a 2-byte length', () => {
  const topic = '%RETRY%' + 'x'.repeat(200);
  const buf = Buffer.alloc(1024);
  const size = encodeSample(
    { header: header(), body: new Uint8Array(), topic, props: '' },
    buf,
    0,
    false,
  );
  assert.equal(size, 91 + 1 + topic.length);
  assert.equal(buf.readUInt32BE(4), MESSAGE_MAGIC_V2);
  assert.equal(decodeRecord(buf).topic, topic);
});

test('BLANK is reported as 0, garbage and torn records as -1', () => {
  const buf = Buffer.alloc(256);
  encodeBlank(new DataView(buf.buffer, buf.byteOffset), 0, 256);
  assert.equal(buf.readUInt32BE(4), BLANK_MAGIC);
  assert.equal(checkRecord(buf, 0, 256, true), 0);
  assert.equal(checkRecord(Buffer.alloc(64), 0, 64, true), -1);
  assert.equal(checkRecord(buf, 0, 7, true), -1);
  const body = enc.encode('payload');
  const s: Sample = {
    header: header({ bodyCrc: bodyCrc(body) }),
    body,
    topic: 'T1',
    props: 'a\u0001b\u0002',
  };
  const size = encodeSample(s, buf, 0, true);
  assert.equal(checkRecord(buf, 0, size - 1, true), -1, 'truncated');
  buf[90] ^= 0xff; // inside the body
  assert.equal(checkRecord(buf, 0, 256, true), -1, 'crc');
  assert.equal(checkRecord(buf, 0, 256, false), size, 'crc not verified');
  buf[90] ^= 0xff;
  buf.writeInt32BE(size + 1, 0);
  assert.equal(checkRecord(buf, 0, 256, false), -1, 'length mismatch');
  assert.throws(() => decodeRecord(buf), { code: 'MESSAGE_ILLEGAL' });
});

test('decodeRecords walks a concatenation and stops at BLANK', () => {
  const buf = Buffer.alloc(2048);
  let pos = 0;
  for (let i = 0; i < 5; i++) {
    const body = enc.encode(`m${i}`);
    pos += encodeSample(
      { header: header({ queueOffset: i, bodyCrc: bodyCrc(body) }), body, topic: 'T', props: '' },
      buf,
      pos,
      i % 2 === 0,
    );
  }
  encodeBlank(new DataView(buf.buffer, buf.byteOffset), pos, 2048 - pos);
  const all = decodeRecords(buf);
  assert.deepEqual(
    all.map((m) => m.queueOffset),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(decodeRecords(buf.subarray(0, pos)).length, 5);
});

const hostArb = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);
const int64Arb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

test('property: encode → check → decode round trip', () => {
  fc.assert(
    fc.property(
      fc.record({
        body: fc.uint8Array({ maxLength: 300 }),
        topic: fc.stringMatching(/^[A-Za-z0-9_%|-]{1,200}$/),
        props: fc.dictionary(
          fc.stringMatching(/^[A-Za-z]{1,8}$/),
          fc
            .string({ maxLength: 20 })
            .filter((s) => !s.includes('\u0001') && !s.includes('\u0002')),
        ),
        queueId: fc.integer({ min: 0, max: 1023 }),
        flag: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        queueOffset: int64Arb,
        physicalOffset: int64Arb,
        sysFlag: fc.integer({ min: 0, max: 0x3ff }),
        born: hostArb,
        store: hostArb,
        ts: int64Arb,
        pos: fc.integer({ min: 0, max: 40 }),
        asString: fc.boolean(),
      }),
      (r) => {
        const props = encodeProperties(r.props);
        const h = header({
          bodyCrc: bodyCrc(r.body),
          queueId: r.queueId,
          flag: r.flag,
          queueOffset: r.queueOffset,
          physicalOffset: r.physicalOffset,
          sysFlag: r.sysFlag,
          bornHostAddress: r.born,
          storeHostAddress: r.store,
          bornTimestamp: r.ts,
        });
        const buf = Buffer.alloc(2048);
        const size = encodeSample(
          { header: h, body: r.body, topic: r.topic, props },
          buf,
          r.pos,
          r.asString,
        );
        assert.equal(checkRecord(buf, r.pos, 2048 - r.pos, true), size);
        const d = decodeRecord(buf, r.pos);
        assert.equal(d.topic, r.topic);
        assert.deepEqual(Buffer.from(d.body), Buffer.from(r.body));
        assert.deepEqual(d.properties, new Map(Object.entries(r.props)));
        assert.equal(d.queueOffset, r.queueOffset);
        assert.equal(d.physicalOffset, r.physicalOffset);
        assert.equal(d.bornTimestamp, r.ts);
        assert.equal(d.flag, r.flag);
        assert.equal(d.sysFlag, h.sysFlag);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: random garbage and torn prefixes never validate as a wrong size', () => {
  const body = enc.encode('x'.repeat(50));
  const good = Buffer.alloc(512);
  const size = encodeSample(
    { header: header({ bodyCrc: bodyCrc(body) }), body, topic: 'Tq', props: 'K\u0001V\u0002' },
    good,
    0,
    false,
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (junk) => {
      const buf = Buffer.alloc(512);
      buf.set(junk);
      const r = checkRecord(buf, 0, junk.length, true);
      assert.ok(r === -1 || r === 0 || (r >= 91 && r <= junk.length));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: size - 1 }), (cut) => {
      assert.equal(checkRecord(good, 0, cut, true), -1);
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const copy = Buffer.from(good);
      copy[i] ^= x;
      const r = checkRecord(copy, 0, 512, true);
      // A flipped byte either breaks validation or lands in a field that is not checked.
      if (r === size) {
        const topicLenPos = 88 + body.length;
        const propsLenPos = topicLenPos + 1 + 2;
        const checked =
          i < 12 || (i >= 84 && i <= topicLenPos) || i === propsLenPos || i === propsLenPos + 1;
        assert.ok(!checked, `byte ${i} went unnoticed`);
      }
    }),
  );
});

test('the magic code is written last: a record cut off before it reads as the end of the log', () => {
  const body = enc.encode('payload that a crash could cut');
  const sample: Sample = {
    header: header({ bodyCrc: bodyCrc(body) }),
    body,
    topic: 'TopicTest',
    props: encodeProperties({ KEYS: 'k1', UNIQ_KEY: 'u1', TAGS: 'a' }),
  };
  for (const asString of [true, false]) {
    const buf = new Uint8Array(1024);
    const pos = 16;
    let atMagic: Uint8Array | undefined;
    // A view that snapshots the record the moment the magic code is stored.
    class Watching extends DataView<ArrayBuffer> {
      override setUint32(offset: number, value: number, littleEndian?: boolean): void {
        if (offset === pos + 4) atMagic = buf.slice(pos, pos + 512);
        super.setUint32(offset, value, littleEndian);
      }
    }
    const topic = enc.encode(sample.topic);
    const propBytes = enc.encode(sample.props);
    const size = encodeRecord(
      new Watching(buf.buffer),
      buf,
      pos,
      sample.header,
      body,
      topic,
      asString ? sample.props : propBytes,
      propBytes.length,
    );
    assert.ok(atMagic, 'the magic code was written');
    const before = atMagic.slice(0, size);
    const final = buf.slice(pos, pos + size);
    assert.equal(new DataView(before.buffer).getUint32(4), 0, 'no magic before the last store');
    before.set(final.subarray(4, 8), 4);
    assert.deepEqual(before, final, 'every other byte was already in place');
    // Everything but the magic: not a record.
    const cut = final.slice();
    cut.fill(0, 4, 8);
    assert.equal(checkRecord(final, 0, final.length, true), size);
    assert.notEqual(checkRecord(cut, 0, cut.length, true), size);
  }
});
