/**
 * The ROCKETMQ binary command header (serialization type 1), written and read without
 * per-field Buffers. Layout (big-endian), fixed part 21 bytes:
 *
 * | offset | size | field                                                     |
 * |--------|------|-----------------------------------------------------------|
 * | 0      | 2    | code (int16)                                              |
 * | 2      | 1    | language code (int8, see {@link LANGUAGE_CODES})          |
 * | 3      | 2    | version (int16)                                           |
 * | 5      | 4    | opaque (int32)                                            |
 * | 9      | 4    | flag (int32)                                              |
 * | 13     | 4    | remark length R (int32, 0 = none)                         |
 * | 17     | R    | remark (UTF-8)                                            |
 * | 17+R   | 4    | extFields length E (int32, bytes of the entries)          |
 * | 21+R   | E    | entries: int16 keyLen, key, int32 valueLen, value (UTF-8) |
 *
 * Writing goes into one reusable scratch buffer (keys from a cache of their UTF-8 bytes, values
 * with one native UTF-8 write each), then one copy into the caller's buffer. Reading reuses the
 * previous header's key and short value strings when their bytes match (the same keys arrive in
 * every request of a kind), so a header costs a string only per value that changed.
 */
import { SluiceError } from '../common/errors.js';
import { growBuffer } from '../common/grow-buffer.js';
import { FRAME_PREFIX_BYTES, SerializeType, writeFramePrefix } from './frame-codec.js';
import type { JsonHeaderFields } from './json-header-writer.js';

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

/** Size of the fixed part before the remark. */
const FIXED_BYTES = 17;
const MAX_KEY_BYTES = 0x7fff;
const CACHE_LIMIT = 256;
/** Entry indexes past this are not remembered (keys and values of the previous header). */
const TEXT_CACHE_ENTRIES = 64;
/** Below this length a char loop writes ASCII faster than a native UTF-8 write. */
const SHORT_TEXT_CHARS = 32;

/** What the codec reads and writes: the JSON writer's fields but the serialization type. */
export type BinaryHeaderFields = Omit<JsonHeaderFields, 'serializeType'>;

function protocolError(message: string): SluiceError {
  return new SluiceError('PROTOCOL_ERROR', message);
}

let scratch = Buffer.allocUnsafe(16 * 1024);
let pos = 0;
/** UTF-8 bytes of extFields keys written before. */
const keyBytes = new Map<string, Uint8Array>();

function ensure(extra: number): void {
  if (pos + extra > scratch.length) scratch = growBuffer(scratch, pos, pos + extra);
}

/** Writes big-endian int32 `v` at `p` of `out` (room checked by the caller). */
function putInt32(out: Buffer, p: number, v: number): void {
  out[p] = v >>> 24;
  out[p + 1] = v >>> 16;
  out[p + 2] = v >>> 8;
  out[p + 3] = v;
}

/** Writes big-endian int16 `v` at `p` of `out` (room checked by the caller). */
function putInt16(out: Buffer, p: number, v: number): void {
  out[p] = v >>> 8;
  out[p + 1] = v;
}

/** Writes `text` as UTF-8 after a 4-byte length (int32) at `pos`. */
function lengthPrefixedText(text: string): void {
  const length = text.length;
  ensure(4 + length * 3);
  const out = scratch;
  let n = 0;
  if (length < SHORT_TEXT_CHARS) {
    // Short ASCII text: a char loop beats a native call.
    const at = pos + 4;
    for (; n < length; n++) {
      const c = text.charCodeAt(n);
      if (c >= 0x80) break;
      out[at + n] = c;
    }
  }
  if (n < length) n = out.write(text, pos + 4, 'utf8');
  putInt32(out, pos, n);
  pos += 4 + n;
}

/** Keys of the previous header by entry index, with their bytes (the same keys come again). */
const lastKeyNames: string[] = [];
const lastKeyBytes: Uint8Array[] = [];

function keyOf(name: string, index: number): Uint8Array {
  if (lastKeyNames[index] === name) return lastKeyBytes[index]!;
  let bytes = keyBytes.get(name);
  if (bytes === undefined) {
    bytes = Buffer.from(name, 'utf8');
    if (bytes.length > MAX_KEY_BYTES) {
      throw protocolError(`extFields key '${name.slice(0, 40)}' too long`);
    }
    if (keyBytes.size >= CACHE_LIMIT) keyBytes.clear();
    keyBytes.set(name, bytes);
  }
  if (index < TEXT_CACHE_ENTRIES) {
    lastKeyNames[index] = name;
    lastKeyBytes[index] = bytes;
  }
  return bytes;
}

/**
 * Whether `code` fits the binary header's 16-bit code field (Sluice's own admin codes from 90000
 * on do not: those requests go as JSON).
 */
export function fitsBinaryHeader(code: number): boolean {
  return code >= -0x8000 && code <= 0x7fff;
}

/**
 * Encodes the binary header of `cmd` into the scratch and returns the byte length of the frame
 * head (prefix + header). Call {@link copyPreparedBinaryFrameHead} next.
 */
export function prepareBinaryFrameHead(cmd: BinaryHeaderFields): number {
  if (!fitsBinaryHeader(cmd.code)) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `request code ${cmd.code} does not fit the binary header's 16 bits; send it as JSON`,
    );
  }
  pos = 0;
  ensure(FIXED_BYTES);
  const out = scratch;
  putInt16(out, 0, cmd.code);
  out[2] = LANGUAGE_CODES[cmd.language] ?? LANGUAGE_CODES.OTHER!;
  putInt16(out, 3, cmd.version);
  putInt32(out, 5, cmd.opaque);
  putInt32(out, 9, cmd.flag);
  pos = 13;
  if (cmd.remark) lengthPrefixedText(cmd.remark);
  else {
    putInt32(out, 13, 0);
    pos = FIXED_BYTES;
  }
  ensure(4);
  const extLengthAt = pos;
  pos += 4;
  const ext = cmd.extFields;
  let index = 0;
  for (const name in ext) {
    const value = ext[name];
    if (value === undefined) continue;
    const key = keyOf(name, index++);
    const keyLength = key.length;
    ensure(2 + keyLength);
    const buf = scratch;
    putInt16(buf, pos, keyLength);
    pos += 2;
    if (keyLength <= 16) for (let i = 0; i < keyLength; i++) buf[pos + i] = key[i]!;
    else buf.set(key, pos);
    pos += keyLength;
    lengthPrefixedText(typeof value === 'string' ? value : String(value));
  }
  putInt32(scratch, extLengthAt, pos - extLengthAt - 4);
  return FRAME_PREFIX_BYTES + pos;
}

/** Writes the frame head prepared by {@link prepareBinaryFrameHead} into `target` at `offset`. */
export function copyPreparedBinaryFrameHead(
  bodyBytes: number,
  target: Buffer,
  offset: number,
): void {
  writeFramePrefix(target, offset, SerializeType.ROCKETMQ, pos, bodyBytes);
  scratch.copy(target, offset + FRAME_PREFIX_BYTES, 0, pos);
}

/** Encodes only the binary header bytes of `cmd` (a new buffer). */
export function encodeBinaryHeader(cmd: BinaryHeaderFields): Buffer {
  const headBytes = prepareBinaryFrameHead(cmd);
  return Buffer.from(scratch.subarray(0, headBytes - FRAME_PREFIX_BYTES));
}

/**
 * The strings of the previous header by entry index, with their bytes: a key or value whose
 * bytes match the previous header's at the same index is returned as that string (the same keys
 * arrive in every request of a kind, and a send's producer group, topic and flags repeat).
 * Texts up to `maxBytes` at indexes below `maxEntries` are remembered, copied into a fixed
 * per-index buffer, so a miss allocates only the new string.
 */
class PreviousHeaderText {
  private readonly strings: string[] = [];
  private readonly lengths: number[] = [];
  private readonly bytes: Uint8Array[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries: number,
  ) {}

  /** The text at `source[start, end)`, the entry at `index` of its header. */
  read(source: Buffer, start: number, end: number, index: number): string {
    const length = end - start;
    if (length > this.maxBytes || index >= this.maxEntries) return textAt(source, start, end);
    let cached = this.bytes[index];
    if (cached !== undefined && this.lengths[index] === length) {
      let i = 0;
      while (i < length && cached[i] === source[start + i]) i++;
      if (i === length) return this.strings[index]!;
    }
    if (cached === undefined) {
      cached = new Uint8Array(this.maxBytes);
      this.bytes[index] = cached;
    }
    for (let i = 0; i < length; i++) cached[i] = source[start + i]!;
    const text = textAt(source, start, end);
    this.strings[index] = text;
    this.lengths[index] = length;
    return text;
  }
}

/** UTF-8 text at `source[start, end)`: a latin1 slice (cheaper) when it is all ASCII. */
function textAt(source: Buffer, start: number, end: number): string {
  let ascii = 0;
  for (let i = start; i < end; i++) ascii |= source[i]!;
  return source.toString(ascii < 0x80 ? 'latin1' : 'utf8', start, end);
}

/** Big-endian int32 at `p` (bounds checked by the caller). */
function int32At(s: Buffer, p: number): number {
  return (s[p]! << 24) | (s[p + 1]! << 16) | (s[p + 2]! << 8) | s[p + 3]!;
}

/** Big-endian int16 at `p` (bounds checked by the caller). */
function int16At(s: Buffer, p: number): number {
  return (((s[p]! << 8) | s[p + 1]!) << 16) >> 16;
}

const previousKeys = new PreviousHeaderText(64, TEXT_CACHE_ENTRIES);
const previousValues = new PreviousHeaderText(32, TEXT_CACHE_ENTRIES);

/**
 * Decodes the binary header at `source[start, end)` into `cmd`.
 * @throws SluiceError `PROTOCOL_ERROR` when a length runs past the header.
 */
export function decodeBinaryHeader(
  source: Buffer,
  start: number,
  end: number,
  cmd: BinaryHeaderFields,
): void {
  const need = (p: number, n: number): void => {
    if (n < 0 || p + n > end) {
      throw protocolError(
        `binary header truncated: needs ${p + n - start} bytes, has ${end - start}`,
      );
    }
  };
  need(start, 21);
  cmd.code = int16At(source, start);
  cmd.language = LANGUAGE_NAMES[source[start + 2]!] ?? 'OTHER';
  cmd.version = int16At(source, start + 3);
  cmd.opaque = int32At(source, start + 5);
  cmd.flag = int32At(source, start + 9);
  const remarkLength = int32At(source, start + 13);
  let p = start + FIXED_BYTES;
  need(p, remarkLength);
  cmd.remark = remarkLength > 0 ? source.toString('utf8', p, p + remarkLength) : undefined;
  p += remarkLength;
  need(p, 4);
  const extLength = int32At(source, p);
  p += 4;
  need(p, extLength);
  const extEnd = p + extLength;
  const ext: Record<string, string> = {};
  for (let index = 0; p < extEnd; index++) {
    if (p + 2 > extEnd) throw protocolError('binary header extFields entry truncated');
    const keyLength = int16At(source, p);
    p += 2;
    if (keyLength < 0 || p + keyLength + 4 > extEnd) {
      throw protocolError('binary header extFields key truncated');
    }
    const key = previousKeys.read(source, p, p + keyLength, index);
    p += keyLength;
    const valueLength = int32At(source, p);
    p += 4;
    if (valueLength < 0 || p + valueLength > extEnd) {
      throw protocolError('binary header extFields value truncated');
    }
    ext[key] = previousValues.read(source, p, p + valueLength, index);
    p += valueLength;
  }
  cmd.extFields = ext;
}
