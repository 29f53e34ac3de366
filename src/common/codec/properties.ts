/**
 * RocketMQ message properties: a string of `name 0x01 value 0x02` pairs, UTF-8 on disk.
 *
 * | part      | bytes                  |
 * |-----------|------------------------|
 * | name      | UTF-8, non-empty       |
 * | 0x01      | NAME_VALUE_SEPARATOR   |
 * | value     | UTF-8 (may be empty)   |
 * | 0x02      | PROPERTY_SEPARATOR     |
 *
 * Shared by store, broker and client: imports nothing from those layers.
 */
import { SluiceError } from '../errors.js';

/** Separates a property name from its value. */
export const NAME_VALUE_SEPARATOR = 0x01;
/** Terminates each name/value pair. */
export const PROPERTY_SEPARATOR = 0x02;

const NV = String.fromCharCode(NAME_VALUE_SEPARATOR);
const PS = String.fromCharCode(PROPERTY_SEPARATOR);

/** Property sources accepted by {@link encodeProperties}. */
export type PropertiesInput =
  | ReadonlyMap<string, string | null | undefined>
  | Iterable<readonly [string, string | null | undefined]>
  | Readonly<Record<string, string | null | undefined>>;

function isIterable(x: unknown): x is Iterable<readonly [string, string | null | undefined]> {
  return x !== null && typeof x === 'object' && Symbol.iterator in x;
}

/**
 * Encodes properties as `name\u0001value\u0002…`. Null/undefined values are skipped (as in
 * RocketMQ). Names must be non-empty and neither names nor values may contain the separators.
 */
export function encodeProperties(props: PropertiesInput): string {
  let out = '';
  const entries: Iterable<readonly [string, string | null | undefined]> = isIterable(props)
    ? props
    : Object.entries(props);
  for (const [name, value] of entries) {
    if (value === null || value === undefined) continue;
    if (name.length === 0 || name.includes(NV) || name.includes(PS)) {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `property name ${JSON.stringify(name)} is empty or contains \\u0001/\\u0002; use another name`,
      );
    }
    // A 0x01 inside a value round-trips (decoding splits each pair at its first 0x01, as
    // RocketMQ does); a 0x02 would end the pair early.
    if (value.includes(PS)) {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `property ${name} has a value containing \\u0002 (the pair separator); remove it`,
      );
    }
    out += name + NV + value + PS;
  }
  return out;
}

/** Names most records carry, returned as constants instead of fresh slices. */
const COMMON_NAMES: readonly string[] = [
  'UNIQ_KEY',
  'TAGS',
  'KEYS',
  'WAIT',
  'PGROUP',
  'DELAY',
  'RETRY_TOPIC',
  'REAL_TOPIC',
  'REAL_QID',
  'MIN_OFFSET',
  'MAX_OFFSET',
  'CONSUME_START_TIME',
  'RECONSUME_TIME',
  'MAX_RECONSUME_TIMES',
  'ORIGIN_MESSAGE_ID',
  'TRAN_MSG',
];

/** The entry of `names` that `str[start, end)` spells, or undefined. */
function listedName(
  str: string,
  start: number,
  end: number,
  names: readonly string[],
): string | undefined {
  const n = end - start;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name.length === n && str.startsWith(name, start)) return name;
  }
  return undefined;
}

function nameAt(str: string, start: number, end: number): string {
  return listedName(str, start, end, COMMON_NAMES) ?? str.slice(start, end);
}

/**
 * Whether a pair of `str` is named in `names` (pairs as {@link decodeProperties} splits them);
 * one pass, nothing allocated.
 */
export function hasAnyProperty(str: string, names: readonly string[]): boolean {
  let start = 0;
  const n = str.length;
  while (start < n) {
    let end = str.indexOf(PS, start);
    if (end < 0) end = n;
    const sep = str.indexOf(NV, start);
    if (sep > start && sep < end && listedName(str, start, sep, names) !== undefined) return true;
    start = end + 1;
  }
  return false;
}

/**
 * Decodes a properties string into a plain object, with the same rules as
 * {@link decodeProperties} (first 0x01 splits, nameless pairs ignored, a later pair of the same
 * name wins). Common names are not re-allocated per message.
 */
export function decodePropertiesRecord(str: string): Record<string, string> {
  const out: Record<string, string> = {};
  decodePairs(str, null, out);
  return out;
}

/**
 * Splits `str` into its named pairs (pairs end at 0x02 and split at their first 0x01) and puts
 * them into `map`, or when it is null into `record` (with common names interned). One loop for
 * both, without a callback per pair: the record form is on the client's receive path.
 */
function decodePairs(
  str: string,
  map: Map<string, string> | null,
  record: Record<string, string> | null,
): void {
  let start = 0;
  const n = str.length;
  while (start < n) {
    let end = str.indexOf(PS, start);
    if (end < 0) end = n;
    const sep = str.indexOf(NV, start);
    if (sep > start && sep < end) {
      const value = str.slice(sep + 1, end);
      if (map !== null) map.set(str.slice(start, sep), value);
      else record![nameAt(str, start, sep)] = value;
    }
    start = end + 1;
  }
}

/**
 * Decodes a properties string into a Map. Pairs are split on 0x02 and at the first 0x01;
 * a pair without a name (or without 0x01) is ignored, like RocketMQ's decoder.
 */
export function decodeProperties(str: string): Map<string, string> {
  const map = new Map<string, string>();
  decodePairs(str, map, null);
  return map;
}

/** A reusable [start, end) byte range filled by {@link findPropertyRange}. */
export interface ByteRange {
  start: number;
  end: number;
}

const nameCache = new Map<string, Uint8Array>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function nameBytes(name: string): Uint8Array {
  let b = nameCache.get(name);
  if (b === undefined) {
    b = encoder.encode(name);
    if (nameCache.size < 1024) nameCache.set(name, b);
  }
  return b;
}

/**
 * Finds property `name` inside encoded properties bytes `[start, start+len)` without decoding
 * the whole string. Fills `out` with the value's byte range and returns true when found.
 */
export function findPropertyRange(
  bytes: Uint8Array,
  start: number,
  len: number,
  name: string,
  out: ByteRange,
): boolean {
  const key = nameBytes(name);
  const klen = key.length;
  const end = start + len;
  let p = start;
  while (p < end) {
    // p is at the start of a pair: compare the name, then expect 0x01.
    let match = p + klen < end;
    for (let i = 0; match && i < klen; i++) if (bytes[p + i] !== key[i]) match = false;
    if (match && bytes[p + klen] === NAME_VALUE_SEPARATOR) {
      const vs = p + klen + 1;
      let ve = vs;
      while (ve < end && bytes[ve] !== PROPERTY_SEPARATOR) ve++;
      out.start = vs;
      out.end = ve;
      return true;
    }
    while (p < end && bytes[p] !== PROPERTY_SEPARATOR) p++;
    p++;
  }
  return false;
}

const scratchRange: ByteRange = { start: 0, end: 0 };

/** Returns the value of property `name` in encoded bytes `[start, start+len)`, or undefined. */
export function findProperty(
  bytes: Uint8Array,
  start: number,
  len: number,
  name: string,
): string | undefined {
  if (!findPropertyRange(bytes, start, len, name, scratchRange)) return undefined;
  return decoder.decode(bytes.subarray(scratchRange.start, scratchRange.end));
}
