/**
 * Fuzz targets over everything that parses bytes from the network or from disk.
 *
 * The property every target checks: on arbitrary input the code under test either succeeds or
 * throws a typed error ({@link SluiceError}, which {@link HeaderFieldError} extends) — never a
 * `TypeError`, `RangeError`, other exception, hang or crash; and where an encoder exists, a value
 * that decoded successfully survives `decode(encode(x))` unchanged. A violation throws a
 * {@link FuzzFinding} (or lets the unexpected error escape), which Jazzer.js reports as a crash.
 *
 * Targets reading header fields take the input as text: one `key=value` pair per line. Targets
 * covering several decoders use the first input byte to pick one.
 */
import { evaluateSql } from '../../src/broker/filter/sql-evaluator.js';
import { parseSqlFilter, requiredProperties } from '../../src/broker/filter/sql-parser.js';
import { deepStrictEqual } from 'node:assert/strict';
import { SluiceError } from '../../src/common/errors.js';
import {
  checkRecord,
  encodeRecord,
  MESSAGE_MAGIC_V2,
  newRecordMeta,
  POS_BORNHOST,
  readRecordMeta,
  SYSFLAG_BORNHOST_V6,
  SYSFLAG_STOREHOST_V6,
  V1_MAX_TOPIC_BYTES,
  type RecordHeader,
} from '../../src/common/codec/message-record.js';
import { decodeRecord, decodeRecords } from '../../src/common/codec/decoded-message.js';
import { decodeProperties, encodeProperties } from '../../src/common/codec/properties.js';
import { decodeBatchBody, encodeBatchBody } from '../../src/protocol/batch-codec.js';
import {
  decodeConsumerIdList,
  decodeConsumeStats,
  decodeHeartbeatData,
  decodeLockBatchRequestBody,
  decodeLockBatchResponseBody,
  decodeResetOffsetBody,
  encodeHeartbeatData,
} from '../../src/protocol/client-bodies.js';
import { FrameDecoder, type RawFrame } from '../../src/protocol/frame-codec.js';
import type { ExtFields } from '../../src/protocol/headers/fields.js';
import { parseLenientJson } from '../../src/protocol/json-compat.js';
import { decodeOffsetMessageId, decodeUniqueId } from '../../src/protocol/message-id.js';
import {
  decodeCommand,
  encodeCommand,
  type RemotingCommand,
} from '../../src/protocol/remoting-command.js';
import {
  decodeClusterInfo,
  decodeKVTable,
  decodeRegisterBrokerBody,
  decodeTopicList,
  decodeTopicRouteData,
  encodeKVTable,
} from '../../src/protocol/route-data.js';
import { HEADER_FAMILIES } from './header-families.js';

/** A property violation found by a target: the input is a bug reproducer. */
export class FuzzFinding extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FuzzFinding';
  }
}

/** One fuzz target: a name (also the corpus folder) and the function run per input. */
export interface FuzzTarget {
  readonly name: string;
  readonly description: string;
  run(data: Buffer): void;
}

/** Runs `fn`; typed errors count as a clean rejection (`undefined`), anything else escapes. */
function typed<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SluiceError) return undefined;
    throw err;
  }
}

/** Copies plain data turning -0 into 0 ("-0" parses to -0 and re-encodes as "0": harmless). */
function withoutNegativeZero(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(withoutNegativeZero);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[k] = withoutNegativeZero(item);
    return out;
  }
  return v;
}

function mustEqual(actual: unknown, expected: unknown, what: string): void {
  try {
    deepStrictEqual(withoutNegativeZero(actual), withoutNegativeZero(expected));
  } catch (err) {
    throw new FuzzFinding(`${what}: decode(encode(x)) != x`, { cause: err });
  }
}

/** Parses `key=value` lines into extFields (a line without `=` is a key with an empty value). */
export function extFieldsFromText(data: Buffer): ExtFields {
  const ext: ExtFields = {};
  for (const line of data.toString('utf8').split('\n')) {
    if (line.length === 0) continue;
    const eq = line.indexOf('=');
    if (eq < 0) ext[line] = '';
    else ext[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return ext;
}

/** Text form of extFields, the inverse of {@link extFieldsFromText} (for seeds). */
export function extFieldsToText(ext: ExtFields): string {
  return Object.entries(ext)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

function headerFamilyTarget(family: string): FuzzTarget {
  const codecs = HEADER_FAMILIES[family]!;
  return {
    name: `header-${family}`,
    description: `${family} header decoders (${codecs.map((c) => c.name).join(', ')})`,
    run(data) {
      if (data.length === 0) return;
      const c = codecs[data[0]! % codecs.length]!;
      const ext = extFieldsFromText(data.subarray(1));
      const decoded = typed(() => c.decode(ext));
      if (decoded === undefined) return;
      for (const encode of c.encoders) {
        const again = typed(() => c.decode(encode(decoded)));
        if (again === undefined)
          throw new FuzzFinding(`${c.name}: re-decoding its encoding failed`);
        mustEqual(again, decoded, c.name);
      }
    },
  };
}

/** A comparable form of a command (JSON turns -0 into 0; bodies as hex). */
function commandKey(cmd: RemotingCommand): string {
  return JSON.stringify({ ...cmd, body: cmd.body?.toString('hex') });
}

/**
 * Frame decoder + command decoder: byte 0 picks the chunk size the stream is split into
 * (0 = one chunk), the rest is the stream. Each decoded command must re-encode and decode equal.
 */
const frameTarget: FuzzTarget = {
  name: 'frame',
  description: 'FrameDecoder (chunked) + decodeCommand (JSON and ROCKETMQ headers), round trip',
  run(data) {
    if (data.length === 0) return;
    const chunkBytes = data[0]! % 17;
    const stream = data.subarray(1);
    const commands: RemotingCommand[] = [];
    const decoder = new FrameDecoder(
      (frame: RawFrame) => {
        const cmd = typed(() => decodeCommand(frame));
        if (cmd !== undefined) commands.push(cmd);
      },
      { maxFrameBytes: 1 << 20 },
    );
    typed(() => {
      if (chunkBytes === 0) decoder.push(stream);
      else {
        for (let i = 0; i < stream.length; i += chunkBytes) {
          decoder.push(stream.subarray(i, i + chunkBytes));
        }
      }
    });
    for (const cmd of commands) {
      const bytes = typed(() => encodeCommand(cmd));
      if (bytes === undefined) continue; // e.g. a JSON code that does not fit the binary form
      let again: RemotingCommand | undefined;
      new FrameDecoder((frame) => (again = decodeCommand(frame))).push(bytes);
      if (again === undefined) throw new FuzzFinding('re-encoded command did not decode');
      if (commandKey(again) !== commandKey(cmd)) {
        throw new FuzzFinding(
          `command round trip differs:\n${commandKey(cmd)}\n${commandKey(again)}`,
        );
      }
    }
  },
};

const batchTarget: FuzzTarget = {
  name: 'batch',
  description: 'SEND_BATCH_MESSAGE body decoder, round trip',
  run(data) {
    const items = typed(() => decodeBatchBody(data));
    if (items === undefined) return;
    const again = decodeBatchBody(encodeBatchBody(items));
    mustEqual(
      again.map((i) => [i.flag, i.body.toString('hex'), i.properties.toString('hex')]),
      items.map((i) => [i.flag, i.body.toString('hex'), i.properties.toString('hex')]),
      'batch',
    );
  },
};

/**
 * The recovery path over arbitrary bytes: checkRecord (with CRC), readRecordMeta, decodeRecord,
 * decodeRecords. A record that passes checkRecord must re-encode to the same bytes.
 */
const recordTarget: FuzzTarget = {
  name: 'record',
  description: 'CommitLog record: checkRecord + readRecordMeta + decodeRecord(s), re-encode',
  run(data) {
    typed(() => decodeRecords(data));
    const size = checkRecord(data, 0, data.length, true);
    if (size <= 0) return;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const meta = newRecordMeta();
    const readable = typed(() => {
      readRecordMeta(view, data, 0, meta);
      return true;
    });
    if (readable === undefined) return;
    const decoded = typed(() => decodeRecord(data, 0));
    if (decoded === undefined) return;
    if (meta.magic === MESSAGE_MAGIC_V2 && meta.topicLength <= V1_MAX_TOPIC_BYTES) return;
    const bornV6 = (meta.sysFlag & SYSFLAG_BORNHOST_V6) !== 0;
    const storeV6 = (meta.sysFlag & SYSFLAG_STOREHOST_V6) !== 0;
    const bornAt = POS_BORNHOST;
    const storeAt = bornAt + (bornV6 ? 20 : 8) + 8;
    const h: RecordHeader = {
      bodyCrc: meta.bodyCrc,
      queueId: meta.queueId,
      flag: meta.flag,
      queueOffset: meta.queueOffset,
      physicalOffset: meta.physicalOffset,
      sysFlag: meta.sysFlag,
      bornTimestamp: meta.bornTimestamp,
      bornHostAddress: data.subarray(bornAt, bornAt + (bornV6 ? 16 : 4)),
      bornHostPort: view.getInt32(bornAt + (bornV6 ? 16 : 4)),
      storeTimestamp: meta.storeTimestamp,
      storeHostAddress: data.subarray(storeAt, storeAt + (storeV6 ? 16 : 4)),
      storeHostPort: view.getInt32(storeAt + (storeV6 ? 16 : 4)),
      reconsumeTimes: meta.reconsumeTimes,
      preparedTransactionOffset: meta.preparedTransactionOffset,
    };
    const out = Buffer.alloc(size);
    const written = encodeRecord(
      new DataView(out.buffer, out.byteOffset, out.byteLength),
      out,
      0,
      h,
      data.subarray(meta.bodyStart, meta.bodyStart + meta.bodyLength),
      data.subarray(meta.topicStart, meta.topicStart + meta.topicLength),
      data.subarray(meta.propertiesStart, meta.propertiesStart + meta.propertiesLength),
      meta.propertiesLength,
    );
    if (written !== size || !out.equals(data.subarray(0, size))) {
      throw new FuzzFinding(`record of ${size} bytes re-encoded differently (${written} bytes)`);
    }
  },
};

/** JSON bodies decoders (lenient fastjson parser underneath); byte 0 picks one. */
const BODY_DECODERS: ReadonlyArray<readonly [string, (body: Buffer) => unknown]> = [
  ['heartbeat', decodeHeartbeatData],
  ['register-broker-body', decodeRegisterBrokerBody],
  ['topic-route', decodeTopicRouteData],
  ['consumer-id-list', decodeConsumerIdList],
  ['lock-batch-request', decodeLockBatchRequestBody],
  ['lock-batch-response', decodeLockBatchResponseBody],
  ['consume-stats', decodeConsumeStats],
  ['reset-offset-body', decodeResetOffsetBody],
  ['cluster-info', decodeClusterInfo],
  ['topic-list', decodeTopicList],
  ['kv-table', decodeKVTable],
  ['lenient-json', parseLenientJson],
];

const bodiesTarget: FuzzTarget = {
  name: 'bodies',
  description: `JSON bodies (${BODY_DECODERS.map(([n]) => n).join(', ')})`,
  run(data) {
    if (data.length === 0) return;
    const [name, decode] = BODY_DECODERS[data[0]! % BODY_DECODERS.length]!;
    const body = data.subarray(1);
    const decoded = typed(() => decode(body));
    if (decoded === undefined) return;
    if (name === 'heartbeat') {
      const value = decoded as ReturnType<typeof decodeHeartbeatData>;
      mustEqual(decodeHeartbeatData(encodeHeartbeatData(value)), value, name);
    } else if (name === 'kv-table') {
      const value = decoded as Record<string, string>;
      mustEqual(decodeKVTable(encodeKVTable(value)), value, name);
    }
  },
};

/** Properties string codec and the two message-id decoders. */
const textTarget: FuzzTarget = {
  name: 'text',
  description: 'properties codec (round trip), offset message id and unique id decoders',
  run(data) {
    const text = data.toString('utf8');
    const props = decodeProperties(text);
    // Finding F1 (regressions/text/properties-value-with-separator): a 0x01 inside a value must
    // survive a re-encode, as send-back re-encodes stored properties.
    mustEqual(decodeProperties(encodeProperties(props)), props, 'properties');
    typed(() => decodeOffsetMessageId(text));
    typed(() => decodeUniqueId(text, 1_700_000_000_000));
  },
};

/**
 * The SQL92 filter: parse arbitrary text, then evaluate what parsed over properties taken from
 * the same bytes. Only `SluiceError`s (SqlFilterError with a position) may escape the parser,
 * the evaluator must answer TRUE, FALSE or UNKNOWN, and the set of required properties must only
 * name properties that the expression mentions.
 */
const sqlTarget: FuzzTarget = {
  name: 'sql',
  description: 'SQL92 filter parser, required-property analysis and evaluator',
  run(data) {
    const text = data.toString('utf8');
    const expr = typed(() => parseSqlFilter(text));
    if (expr === undefined) return;
    for (const name of requiredProperties(expr)) {
      if (!text.includes(name)) throw new Error(`required property ${name} is not in the text`);
    }
    const props = new Map<string, string>();
    for (const word of text.split(/[^A-Za-z0-9_.]+/))
      if (word) props.set(word, String(word.length));
    for (const lookup of [() => undefined, (n: string) => props.get(n), () => '5']) {
      const result = evaluateSql(expr, lookup);
      if (result !== true && result !== false && result !== null) {
        throw new Error(`evaluation gave ${String(result)}, not TRUE/FALSE/UNKNOWN`);
      }
    }
  },
};

/** Every target, in a stable order (the `all` multiplexer indexes into it). */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  frameTarget,
  ...Object.keys(HEADER_FAMILIES).map(headerFamilyTarget),
  batchTarget,
  recordTarget,
  bodiesTarget,
  textTarget,
  sqlTarget,
];

/** Looks a target up by name; `all` is a multiplexer whose first byte picks the target. */
export function fuzzTarget(name: string): FuzzTarget {
  if (name === 'all') {
    return {
      name: 'all',
      description: 'every target; byte 0 picks one',
      run(data) {
        if (data.length === 0) return;
        FUZZ_TARGETS[data[0]! % FUZZ_TARGETS.length]!.run(data.subarray(1));
      },
    };
  }
  const t = FUZZ_TARGETS.find((x) => x.name === name);
  if (!t) {
    throw new Error(
      `unknown fuzz target '${name}'; known: all, ${FUZZ_TARGETS.map((x) => x.name).join(', ')}`,
    );
  }
  return t;
}
