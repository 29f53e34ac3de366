/**
 * `RemotingCommand`: one request or response of the remoting protocol, with its two header
 * encodings (JSON and ROCKETMQ binary). Framing is in `frame-codec.ts`.
 *
 * ROCKETMQ binary header layout (big-endian), fixed part 21 bytes:
 *
 * | offset | size | field                                                   |
 * |--------|------|---------------------------------------------------------|
 * | 0      | 2    | code (int16)                                            |
 * | 2      | 1    | language code (int8, see {@link LANGUAGE_CODES})        |
 * | 3      | 2    | version (int16)                                         |
 * | 5      | 4    | opaque (int32)                                          |
 * | 9      | 4    | flag (int32)                                            |
 * | 13     | 4    | remark length R (int32, 0 = none)                       |
 * | 17     | R    | remark (UTF-8)                                          |
 * | 17+R   | 4    | extFields length E (int32, bytes of the entries)        |
 * | 21+R   | E    | entries: int16 keyLen, key, int32 valueLen, value (UTF-8) |
 *
 * JSON header: `{"code","language","version","opaque","flag","remark","extFields",...}`;
 * unknown keys are ignored, extFields scalars (numbers, booleans) are coerced to strings.
 */
import { SluiceError } from '../common/errors.js';
import {
  FRAME_PREFIX_BYTES,
  SerializeType,
  writeFramePrefix,
  type RawFrame,
} from './frame-codec.js';
import { encodeJsonFrameHead } from './json-header-writer.js';

/** Flag bit 0: the command is a response. */
export const FLAG_RESPONSE = 1;
/** Flag bit 1: the request expects no response. */
export const FLAG_ONEWAY = 2;

/** RocketMQ's language codes (binary header byte) by name. */
export const LANGUAGE_CODES: Readonly<Record<string, number>> = {
  JAVA: 0,
  CPP: 1,
  DOTNET: 2,
  PYTHON: 3,
  DELPHI: 4,
  ERLANG: 5,
  RUBY: 6,
  OTHER: 7,
  HTTP: 8,
  GO: 9,
  PHP: 10,
  OMS: 11,
};
const LANGUAGE_NAMES: string[] = [];
for (const [name, code] of Object.entries(LANGUAGE_CODES)) LANGUAGE_NAMES[code] = name;

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

/** Builds a request with a fresh opaque. */
export function createRequest(code: number, options: CreateRequestOptions = {}): RemotingCommand {
  return {
    code,
    language: options.language ?? 'JAVA',
    version: options.version ?? SLUICE_PROTOCOL_VERSION,
    opaque: newOpaque(),
    flag: options.oneway ? FLAG_ONEWAY : 0,
    remark: options.remark,
    extFields: options.extFields ?? {},
    body: options.body,
    serializeType: options.serializeType ?? SerializeType.JSON,
  };
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

function decodeBinaryHeader(header: Buffer, cmd: RemotingCommand): void {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const need = (pos: number, n: number): void => {
    if (n < 0 || pos + n > header.length) {
      throw protocolError(`binary header truncated: needs ${pos + n} bytes, has ${header.length}`);
    }
  };
  need(0, 21);
  cmd.code = view.getInt16(0);
  cmd.language = LANGUAGE_NAMES[view.getUint8(2)] ?? 'OTHER';
  cmd.version = view.getInt16(3);
  cmd.opaque = view.getInt32(5);
  cmd.flag = view.getInt32(9);
  const remarkLength = view.getInt32(13);
  need(17, remarkLength);
  cmd.remark = remarkLength > 0 ? header.toString('utf8', 17, 17 + remarkLength) : undefined;
  let pos = 17 + remarkLength;
  need(pos, 4);
  const extLength = view.getInt32(pos);
  pos += 4;
  need(pos, extLength);
  const end = pos + extLength;
  const ext: Record<string, string> = {};
  while (pos < end) {
    if (pos + 2 > end) throw protocolError('binary header extFields entry truncated');
    const keyLength = view.getInt16(pos);
    pos += 2;
    if (keyLength < 0 || pos + keyLength + 4 > end) {
      throw protocolError('binary header extFields key truncated');
    }
    const key = header.toString('utf8', pos, pos + keyLength);
    pos += keyLength;
    const valueLength = view.getInt32(pos);
    pos += 4;
    if (valueLength < 0 || pos + valueLength > end) {
      throw protocolError('binary header extFields value truncated');
    }
    ext[key] = header.toString('utf8', pos, pos + valueLength);
    pos += valueLength;
  }
  cmd.extFields = ext;
}

/**
 * Decodes a frame into a new command. The body stays a view of the received bytes (not copied);
 * socket chunks are never reused by Node, so the view stays valid, but it keeps its chunk alive.
 * @throws SluiceError `PROTOCOL_ERROR` on a malformed header.
 */
export function decodeCommand(frame: RawFrame): RemotingCommand {
  const cmd: RemotingCommand = {
    code: 0,
    language: 'OTHER',
    version: 0,
    opaque: 0,
    flag: 0,
    remark: undefined,
    extFields: {},
    body: frame.body,
    serializeType: frame.serializeType,
  };
  if (frame.serializeType === SerializeType.ROCKETMQ) decodeBinaryHeader(frame.header, cmd);
  else decodeJsonHeader(frame.source, frame.headerStart, frame.headerEnd, cmd);
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

function encodeBinaryHeader(cmd: RemotingCommand): Buffer {
  const remark = cmd.remark ? Buffer.from(cmd.remark, 'utf8') : undefined;
  const entries: Buffer[] = [];
  let extLength = 0;
  for (const [key, value] of Object.entries(cmd.extFields)) {
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(value, 'utf8');
    if (k.length > 0x7fff) throw protocolError(`extFields key '${key.slice(0, 40)}' too long`);
    entries.push(k, v);
    extLength += 2 + k.length + 4 + v.length;
  }
  const remarkLength = remark?.length ?? 0;
  const out = Buffer.allocUnsafe(21 + remarkLength + extLength);
  out.writeInt16BE(cmd.code, 0);
  out.writeInt8(LANGUAGE_CODES[cmd.language] ?? LANGUAGE_CODES.OTHER!, 2);
  out.writeInt16BE(cmd.version, 3);
  out.writeInt32BE(cmd.opaque, 5);
  out.writeInt32BE(cmd.flag, 9);
  out.writeInt32BE(remarkLength, 13);
  let pos = 17;
  if (remark) pos += remark.copy(out, pos);
  out.writeInt32BE(extLength, pos);
  pos += 4;
  for (let i = 0; i < entries.length; i += 2) {
    const k = entries[i]!;
    const v = entries[i + 1]!;
    out.writeInt16BE(k.length, pos);
    pos += 2 + k.copy(out, pos + 2);
    out.writeInt32BE(v.length, pos);
    pos += 4 + v.copy(out, pos + 4);
  }
  return out;
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
  const header = encodeBinaryHeader(cmd);
  const out = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + header.length);
  writeFramePrefix(out, 0, cmd.serializeType, header.length, bodyBytes);
  header.copy(out, FRAME_PREFIX_BYTES);
  return out;
}

/** Encodes a whole frame (head and `cmd.body`) into one buffer. Convenient for small commands. */
export function encodeCommand(cmd: RemotingCommand): Buffer {
  const head = encodeFrameHead(cmd);
  return cmd.body ? Buffer.concat([head, cmd.body]) : head;
}
