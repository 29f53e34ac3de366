/**
 * Builds the seed corpus: small valid inputs for every target, produced with the real encoders
 * so they follow the code when the formats change. `node dist/test/fuzz/run.js --write-seeds`
 * writes them to `test/fuzz/corpus/<target>/seed-<n>`.
 */
import {
  bodyCrc,
  encodeBlank,
  encodeRecord,
  recordSizeBytes,
  sysFlagWithHosts,
  type RecordHeader,
} from '../../src/common/codec/message-record.js';
import { encodeProperties } from '../../src/common/codec/properties.js';
import { SluiceError } from '../../src/common/errors.js';
import { encodeBatchBody } from '../../src/protocol/batch-codec.js';
import { encodeHeartbeatData } from '../../src/protocol/client-bodies.js';
import { SerializeType } from '../../src/protocol/frame-codec.js';
import { HeaderFieldError, type ExtFields } from '../../src/protocol/headers/fields.js';
import { encodeOffsetMessageId } from '../../src/protocol/message-id.js';
import {
  createRequest,
  createResponse,
  encodeCommand,
} from '../../src/protocol/remoting-command.js';
import { encodeKVTable, encodeTopicRouteData } from '../../src/protocol/route-data.js';
import { HEADER_FAMILIES } from './header-families.js';
import { extFieldsToText, FUZZ_TARGETS } from './targets.js';

/**
 * Finds extFields a decoder accepts by filling in what it complains about: missing fields get
 * `1`, fields that must be booleans get `true`.
 */
function acceptedExtFields(decode: (ext: ExtFields) => unknown): ExtFields {
  const ext: ExtFields = {};
  for (let i = 0; i < 64; i++) {
    try {
      decode(ext);
      return ext;
    } catch (err) {
      if (!(err instanceof HeaderFieldError)) throw err;
      ext[err.field] = /true or false/.test(err.message) ? 'true' : '1';
    }
  }
  throw new SluiceError('INVARIANT', 'could not build a valid header seed');
}

function headerSeeds(family: string): Buffer[] {
  const out: Buffer[] = [];
  HEADER_FAMILIES[family]!.forEach((c, index) => {
    const ext = acceptedExtFields(c.decode);
    const decoded = c.decode(ext);
    const forms = c.encoders.length > 0 ? c.encoders.map((e) => e(decoded)) : [ext];
    for (const form of forms) {
      out.push(Buffer.concat([Buffer.of(index), Buffer.from(extFieldsToText(form))]));
    }
  });
  return out;
}

function frameSeeds(): Buffer[] {
  const send = createRequest(310, {
    extFields: { a: 'PG', b: 'TopicA', c: 'TBW102', d: '4', e: '0', f: '0', g: '1', h: '0' },
    body: Buffer.from('hello'),
  });
  const binary = createRequest(11, {
    serializeType: SerializeType.ROCKETMQ,
    remark: 'r',
    extFields: { consumerGroup: 'G', topic: 'T', queueId: '1', queueOffset: '0' },
  });
  const response = createResponse(send, 0, 'ok', { msgId: 'X', queueId: '0', queueOffset: '7' });
  const frames = [encodeCommand(send), encodeCommand(binary), encodeCommand(response)];
  return [
    Buffer.concat([Buffer.of(0), frames[0]!]),
    Buffer.concat([Buffer.of(3), frames[1]!]),
    Buffer.concat([Buffer.of(0), ...frames]),
  ];
}

function recordSeed(topic: string, v6: boolean, props: string, body: string): Buffer {
  const bodyBytes = Buffer.from(body);
  const topicBytes = Buffer.from(topic);
  const propsBytes = Buffer.from(props);
  const addr = v6 ? new Uint8Array(16).fill(1) : Uint8Array.of(127, 0, 0, 1);
  const sysFlag = sysFlagWithHosts(0, addr.length, addr.length);
  const size = recordSizeBytes(bodyBytes.length, topicBytes.length, propsBytes.length, sysFlag);
  const out = Buffer.alloc(size + 16);
  const h: RecordHeader = {
    bodyCrc: bodyCrc(bodyBytes),
    queueId: 1,
    flag: 0,
    queueOffset: 5,
    physicalOffset: 1234,
    sysFlag,
    bornTimestamp: 1_700_000_000_000,
    bornHostAddress: addr,
    bornHostPort: 5000,
    storeTimestamp: 1_700_000_000_001,
    storeHostAddress: addr,
    storeHostPort: 10911,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  encodeRecord(view, out, 0, h, bodyBytes, topicBytes, propsBytes, propsBytes.length);
  encodeBlank(view, size, 16);
  return out;
}

function bodySeeds(): Buffer[] {
  const heartbeat = encodeHeartbeatData({
    clientID: '127.0.0.1@1',
    producerDataSet: [{ groupName: 'PG' }],
    consumerDataSet: [
      {
        groupName: 'CG',
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: 'CLUSTERING',
        consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
        subscriptionDataSet: [
          {
            topic: 'T',
            subString: 'a || b',
            classFilterMode: false,
            tagsSet: ['a', 'b'],
            codeSet: [97, 98],
            subVersion: 1,
          },
        ],
        unitMode: false,
      },
    ],
  });
  const route = encodeTopicRouteData(
    {
      queueDatas: [
        { brokerName: 'b', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
      ],
      brokerDatas: [{ cluster: 'c', brokerName: 'b', brokerAddrs: { 0: '127.0.0.1:10911' } }],
      filterServerTable: {},
    },
    { fastjson: true },
  );
  const mq = '{"topic":"T","brokerName":"b","queueId":0}';
  const texts: string[] = [
    heartbeat.toString(),
    `{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","readQueueNums":4,"writeQueueNums":4,"perm":6}},"dataVersion":{"timestamp":1,"counter":2}},"filterServerList":[]}`,
    route.toString(),
    '{"consumerIdList":["a","b"]}',
    `{"consumerGroup":"G","clientId":"c","mqSet":[${mq}]}`,
    `{"lockOKMQSet":[${mq}]}`,
    `{"offsetTable":{${mq}:{"brokerOffset":5,"consumerOffset":3,"lastTimestamp":1}},"consumeTps":1.5}`,
    `{"offsetTable":{${mq}:7}}`,
    '{"brokerAddrTable":{"b":{"cluster":"c","brokerName":"b","brokerAddrs":{0:"h:1"}}},"clusterAddrTable":{"c":["b"]}}',
    '{"topicList":["A","B"]}',
    encodeKVTable({ k: 'v' }).toString(),
    '{"a":[1,-2.5e3,true,null,"x\\u0041"],0:{}}',
  ];
  return texts.map((t, i) => Buffer.concat([Buffer.of(i), Buffer.from(t)]));
}

/** Seed inputs per target name. */
export function seedInputs(): Map<string, Buffer[]> {
  const seeds = new Map<string, Buffer[]>();
  seeds.set('frame', frameSeeds());
  for (const family of Object.keys(HEADER_FAMILIES)) {
    seeds.set(`header-${family}`, headerSeeds(family));
  }
  seeds.set('batch', [
    encodeBatchBody([
      { flag: 0, body: Buffer.from('one'), properties: Buffer.from('KEYS\u0001k1\u0002') },
      { flag: 7, body: Buffer.alloc(0), properties: Buffer.alloc(0) },
    ]),
  ]);
  seeds.set('record', [
    recordSeed('TopicA', false, encodeProperties({ UNIQ_KEY: 'AB', TAGS: 't' }), 'body'),
    recordSeed('T'.repeat(130), false, '', ''),
    recordSeed('T6', true, 'a\u0001b\u0002', 'x'),
  ]);
  seeds.set('bodies', bodySeeds());
  seeds.set('text', [
    Buffer.from(encodeProperties({ UNIQ_KEY: 'ABC', KEYS: 'k1 k2', TAGS: 'a' })),
    Buffer.from(encodeOffsetMessageId('127.0.0.1', 10911, 4096)),
    Buffer.from('7F0000010001AB12CD34EF56AABB0001'),
  ]);
  seeds.set('sql', [
    Buffer.from("a > 5 AND b IN ('x','y') AND c IS NOT NULL"),
    Buffer.from('(n BETWEEN 1 AND 10 OR m <> 3) AND NOT flag = TRUE'),
    Buffer.from("region = 'eu' OR price >= 10.5 AND vip IS NULL"),
    Buffer.from('TRUE'),
  ]);
  for (const t of FUZZ_TARGETS) {
    if (!seeds.has(t.name)) throw new SluiceError('INVARIANT', `no seeds for target ${t.name}`);
  }
  return seeds;
}
