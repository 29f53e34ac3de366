/**
 * `RemotingCommand`: one request or response of the remoting protocol, with its two header
 * encodings (JSON and ROCKETMQ binary). Framing is in `frame-codec.ts`.
 *
 * The ROCKETMQ binary header layout is in `binary-header.ts`.
 *
 * JSON header: `{"code","language","version","opaque","flag","remark","extFields",...}`;
 * unknown keys are ignored, extFields scalars (numbers, booleans) are coerced to strings.
 */
import { SluiceError } from '../common/errors.js';
import { SerializeType, type RawFrame } from './frame-codec.js';
import {
  copyPreparedBinaryFrameHead,
  decodeBinaryHeader,
  encodeBinaryHeader,
  prepareBinaryFrameHead,
} from './binary-header.js';
import { encodeJsonFrameHead } from './json-header-writer.js';

/** Flag bit 0: the command is a response. */
export const FLAG_RESPONSE = 1;
/** Flag bit 1: the request expects no response. */
export const FLAG_ONEWAY = 2;

export { LANGUAGE_CODES } from './binary-header.js';

/** Protocol version Sluice reports (RocketMQ V4_9_4 = 433 accepts standard JSON bodies). */
export const SLUICE_PROTOCOL_VERSION = 433;

/** A remoting request or response. */
export interface RemotingCommand {
  /** Request code, or response code in a response. */
  code: number;
  /** Sender's language name, e.g. `"JAVA"`. Informational only. */
  language: string;
  /** Sender's protocol version (ali-ons: 121). */
  version: number;
  /** Request id; a response echoes its request's opaque. */
  opaque: number;
  /** Bit 0 response, bit 1 one-way. */
  flag: number;
  /** Human-readable text; the error message in failed responses. */
  remark: string | undefined;
  /** Header fields, always strings. */
  extFields: Record<string, string>;
  /** Body bytes, if any. */
  body: Buffer | undefined;
  /** Header encoding this command arrived in / will be sent in. */
  serializeType: SerializeType;
}

/** Fields accepted by {@link createRequest}. */
export interface CreateRequestOptions {
  extFields?: Record<string, string>;
  body?: Buffer;
  remark?: string;
  oneway?: boolean;
  serializeType?: SerializeType;
  language?: string;
  version?: number;
}

let nextOpaque = 1;
/** Returns a fresh request id (positive int32, wraps). */
export function newOpaque(): number {
  const value = nextOpaque;
  nextOpaque = nextOpaque >= 0x7ffffff0 ? 1 : nextOpaque + 1;
  return value;
}

/**
 * Builds a request with a fresh opaque.
 *
 * Filled in field by field rather than written as an object literal, as are the other objects
 * made for every request and send (the decoded command, the send header's fields and its
 * decoded answer, the producer's header and result, `messageQueue`, a connection's
 * pending-request record). V8 tracks where literal-made objects are allocated (an allocation
 * memento behind each young object) to decide whether to allocate them in the old generation
 * from the start. With that tracking on these literals, a client that had sent a burst (5,000
 * sends at once, as the benchmark's warm-up) kept each later send's objects alive through
 * scavenges until the next full GC: 129-524 bytes of garbage per send piled up in the old
 * generation and its scavenges took 4-11 ms instead of ~1.5. Objects created empty and then
 * assigned carry no memento; with all of these built that way (or with Node started with
 * `--no-allocation-site-pretenuring`) 4-7 bytes per send are left, while changing only some of
 * them left it as it was in most runs. docs/benchmarks.md ("Known effects") has the
 * measurements.
 */
export function createRequest(code: number, options: CreateRequestOptions = {}): RemotingCommand {
  const cmd = {} as RemotingCommand;
  cmd.code = code;
  cmd.language = options.language ?? 'JAVA';
  cmd.version = options.version ?? SLUICE_PROTOCOL_VERSION;
  cmd.opaque = newOpaque();
  cmd.flag = options.oneway ? FLAG_ONEWAY : 0;
  cmd.remark = options.remark;
  cmd.extFields = options.extFields ?? {};
  cmd.body = options.body;
  cmd.serializeType = options.serializeType ?? SerializeType.JSON;
  return cmd;
}

/**
 * Builds the response to `request`: same opaque and serialization type, response bit set.
 * @param extFields response header fields (strings).
 */
export function createResponse(
  request: RemotingCommand,
  code: number,
  remark?: string,
  extFields: Record<string, string> = {},
  body?: Buffer,
): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: SLUICE_PROTOCOL_VERSION,
    opaque: request.opaque,
    flag: FLAG_RESPONSE,
    remark,
    extFields,
    body,
    serializeType: request.serializeType,
  };
}

/** True when the command is a response. */
export function isResponse(cmd: RemotingCommand): boolean {
  return (cmd.flag & FLAG_RESPONSE) !== 0;
}

/** True when the command is a request that must not be answered. */
export function isOneway(cmd: RemotingCommand): boolean {
  return (cmd.flag & FLAG_ONEWAY) !== 0;
}

function protocolError(message: string): SluiceError {
  return new SluiceError('PROTOCOL_ERROR', message);
}

function asInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw protocolError(`JSON header field '${name}' must be an integer, got ${typeof value}`);
  }
  return value;
}

/**
 * Makes the parsed `extFields` object hold only strings, in place (JSON.parse gave us a fresh
 * object nobody else holds, so copying it would only cost time): numbers and booleans become
 * their text, null values are dropped.
 */
function coerceExtFields(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw protocolError('JSON header field extFields must be an object');
  }
  const fields = raw as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    if (typeof value === 'string') continue;
    if (value === null || value === undefined) delete fields[key];
    else if (typeof value === 'number' || typeof value === 'boolean') fields[key] = String(value);
    else throw protocolError(`extFields.${key} must be a string, number or boolean`);
  }
  return fields as Record<string, string>;
}

function decodeJsonHeader(source: Buffer, start: number, end: number, cmd: RemotingCommand): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source.toString('utf8', start, end));
  } catch (err) {
    throw new SluiceError('PROTOCOL_ERROR', 'command header is not valid JSON', { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw protocolError('command header JSON must be an object');
  }
  const h = parsed as Record<string, unknown>;
  if (typeof h.code !== 'number') throw protocolError("JSON header has no numeric 'code'");
  cmd.code = asInt(h.code, 'code', 0);
  cmd.language = typeof h.language === 'string' ? h.language : 'OTHER';
  cmd.version = asInt(h.version, 'version', 0);
  cmd.opaque = asInt(h.opaque, 'opaque', 0);
  cmd.flag = asInt(h.flag, 'flag', 0);
  cmd.remark = typeof h.remark === 'string' ? h.remark : undefined;
  cmd.extFields = coerceExtFields(h.extFields);
}

/**
 * Decodes a frame into a new command. The body stays a view of the received bytes (not copied);
 * socket chunks are never reused by Node, so the view stays valid, but it keeps its chunk alive.
 * @throws SluiceError `PROTOCOL_ERROR` on a malformed header.
 */
export function decodeCommand(frame: RawFrame): RemotingCommand {
  // Field by field, not a literal: see createRequest().
  const cmd = {} as RemotingCommand;
  cmd.code = 0;
  cmd.language = 'OTHER';
  cmd.version = 0;
  cmd.opaque = 0;
  cmd.flag = 0;
  cmd.remark = undefined;
  cmd.extFields = {};
  cmd.body = frame.body;
  cmd.serializeType = frame.serializeType;
  if (frame.serializeType === SerializeType.ROCKETMQ) {
    decodeBinaryHeader(frame.source, frame.headerStart, frame.headerEnd, cmd);
  } else decodeJsonHeader(frame.source, frame.headerStart, frame.headerEnd, cmd);
  return cmd;
}

/**
 * A JSON string literal. Text without quotes, backslashes, control characters or surrogates (all
 * header values in practice) is quoted as is; anything else goes through `JSON.stringify`.
 */
function jsonString(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value) ?? 'null';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      return JSON.stringify(value);
    }
  }
  return '"' + value + '"';
}

/**
 * The JSON header text, built by hand (same output as `JSON.stringify` of the header object:
 * `remark` and undefined extFields values are left out when undefined).
 */
function jsonHeaderText(cmd: RemotingCommand): string {
  let text =
    '{"code":' +
    cmd.code +
    ',"language":' +
    jsonString(cmd.language) +
    ',"version":' +
    cmd.version +
    ',"opaque":' +
    cmd.opaque +
    ',"flag":' +
    cmd.flag;
  if (cmd.remark !== undefined) text += ',"remark":' + jsonString(cmd.remark);
  text += ',"extFields":{';
  const ext = cmd.extFields;
  let first = true;
  for (const key in ext) {
    const value = ext[key];
    if (value === undefined) continue;
    text += (first ? '' : ',') + jsonString(key) + ':' + jsonString(value);
    first = false;
  }
  return text + '},"serializeTypeCurrentRPC":"JSON"}';
}

function encodeJsonHeader(cmd: RemotingCommand): Buffer {
  return Buffer.from(jsonHeaderText(cmd), 'utf8');
}

/** Encodes only the header bytes (no frame prefix) in the command's serialization type. */
export function encodeHeader(cmd: RemotingCommand): Buffer {
  return cmd.serializeType === SerializeType.ROCKETMQ
    ? encodeBinaryHeader(cmd)
    : encodeJsonHeader(cmd);
}

/**
 * Encodes the frame prefix and header of `cmd` for a body of `bodyBytes` bytes (default: the
 * length of `cmd.body`). Write the returned buffer, then the body bytes, to send the frame; the
 * body is never copied.
 */
export function encodeFrameHead(cmd: RemotingCommand, bodyBytes = cmd.body?.length ?? 0): Buffer {
  if (cmd.serializeType !== SerializeType.ROCKETMQ) {
    // JSON: written as bytes into a scratch buffer, then one exact-size copy (no strings).
    return encodeJsonFrameHead(cmd, bodyBytes);
  }
  const out = Buffer.allocUnsafe(prepareBinaryFrameHead(cmd));
  copyPreparedBinaryFrameHead(bodyBytes, out, 0);
  return out;
}

/** Encodes a whole frame (head and `cmd.body`) into one buffer. Convenient for small commands. */
export function encodeCommand(cmd: RemotingCommand): Buffer {
  const head = encodeFrameHead(cmd);
  return cmd.body ? Buffer.concat([head, cmd.body]) : head;
}
