/**
 * Message ids.
 *
 * Offset message id (what a broker returns as `msgId`; uppercase hex):
 *
 * | bytes (IPv4) | bytes (IPv6) | field                          |
 * |--------------|--------------|--------------------------------|
 * | 0..3         | 0..15        | store host address             |
 * | 4..7         | 16..19       | store port (int32)             |
 * | 8..15        | 20..27       | commit-log offset (int64)      |
 *
 * → 32 hex digits for IPv4, 56 for IPv6.
 *
 * Client unique id (`UNIQ_KEY` property; 16 bytes for IPv4 / 28 for IPv6, uppercase hex):
 *
 * | size  | field                                                   |
 * |-------|---------------------------------------------------------|
 * | 4/16  | client IP                                               |
 * | 2     | process id, low 16 bits                                 |
 * | 4     | per-generator random int (Java: class loader hash code) |
 * | 4     | ms since the start of the current month (local time)    |
 * | 2     | counter, wraps                                          |
 */
import { networkInterfaces } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import { SluiceError } from '../common/errors.js';

/** A decoded offset message id. */
export interface OffsetMessageId {
  /** Store host IP, dotted IPv4 or full-form IPv6 (`0:0:0:0:0:0:0:1`). */
  ip: string;
  port: number;
  /** `ip:port`, the broker address to ask (VIEW_MESSAGE_BY_ID). */
  address: string;
  /** Commit-log offset of the record. */
  commitLogOffset: number;
}

const HEX_DIGITS = '0123456789ABCDEF';

/** Parses an IPv4 or IPv6 literal into 4 or 16 bytes. */
export function ipToBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map((p) => Number(p)));
  if (!isIPv6(ip)) {
    throw new SluiceError('INVALID_ARGUMENT', `'${ip}' is not an IPv4 or IPv6 address`);
  }
  const out = Buffer.alloc(16);
  let text = ip.split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  const lastPart = text.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    const b = lastPart.split('.').map((p) => Number(p));
    const hi = ((b[0]! << 8) | b[1]!).toString(16);
    const lo = ((b[2]! << 8) | b[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const parse = (part: string): number[] =>
    part.length === 0 ? [] : part.split(':').map((g) => parseInt(g, 16));
  let groups: number[];
  const gap = text.indexOf('::');
  if (gap >= 0) {
    const head = parse(text.slice(0, gap));
    const tail = parse(text.slice(gap + 2));
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    groups = parse(text);
  }
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, i * 2);
  return out;
}

/** Formats 4 or 16 address bytes as dotted IPv4 or full-form IPv6. */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** Char codes of {@link HEX_DIGITS}. */
const HEX_CODES = Array.from(HEX_DIGITS, (c) => c.charCodeAt(0));

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += HEX_DIGITS[b >>> 4]! + HEX_DIGITS[b & 15]!;
  }
  return s;
}

function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `commit-log offset ${offset} must be a non-negative safe integer`,
    );
  }
}

const HEX_UPPER_CODES = Array.from('0123456789ABCDEF', (c) => c.charCodeAt(0));

/**
 * 16 uppercase hex digits of a non-negative safe integer, built as one flat string (no
 * toString/toUpperCase/padStart intermediates: this runs once per stored message).
 */
function offsetHex(offset: number): string {
  const h = Math.floor(offset / 0x100000000);
  const l = offset >>> 0;
  const d = HEX_UPPER_CODES;
  return String.fromCharCode(
    d[h >>> 28]!,
    d[(h >>> 24) & 15]!,
    d[(h >>> 20) & 15]!,
    d[(h >>> 16) & 15]!,
    d[(h >>> 12) & 15]!,
    d[(h >>> 8) & 15]!,
    d[(h >>> 4) & 15]!,
    d[h & 15]!,
    d[l >>> 28]!,
    d[(l >>> 24) & 15]!,
    d[(l >>> 20) & 15]!,
    d[(l >>> 16) & 15]!,
    d[(l >>> 12) & 15]!,
    d[(l >>> 8) & 15]!,
    d[(l >>> 4) & 15]!,
    d[l & 15]!,
  );
}

/**
 * Encodes offset message ids for one store host; the host part is computed once, so each id
 * costs one string concatenation.
 */
export class OffsetMessageIdEncoder {
  private readonly prefix: string;

  /** @param ip store host IP (IPv4 or IPv6). @param port store port. */
  constructor(ip: string, port: number) {
    const addr = ipToBytes(ip);
    const bytes = Buffer.alloc(addr.length + 4);
    addr.copy(bytes, 0);
    bytes.writeInt32BE(port, addr.length);
    this.prefix = toHex(bytes);
  }

  /** The id of the record at `commitLogOffset`. */
  encode(commitLogOffset: number): string {
    checkOffset(commitLogOffset);
    return this.prefix + offsetHex(commitLogOffset);
  }
}

/** Encodes one offset message id (32 hex digits for IPv4, 56 for IPv6). */
export function encodeOffsetMessageId(ip: string, port: number, commitLogOffset: number): string {
  return new OffsetMessageIdEncoder(ip, port).encode(commitLogOffset);
}

/**
 * Decodes an offset message id.
 * @throws SluiceError `INVALID_ARGUMENT` when it is not 32/56 hex digits or the offset exceeds 2^53.
 */
export function decodeOffsetMessageId(id: string): OffsetMessageId {
  if ((id.length !== 32 && id.length !== 56) || !/^[0-9a-fA-F]+$/.test(id)) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `'${id}' is not an offset message id (32 or 56 hex digits expected)`,
    );
  }
  const bytes = Buffer.from(id, 'hex');
  const ipLength = id.length === 32 ? 4 : 16;
  const ip = bytesToIp(bytes.subarray(0, ipLength));
  const port = bytes.readInt32BE(ipLength);
  const high = bytes.readInt32BE(ipLength + 4);
  const low = bytes.readUInt32BE(ipLength + 8);
  const commitLogOffset = high * 0x100000000 + low;
  if (!Number.isSafeInteger(commitLogOffset) || commitLogOffset < 0) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `message id '${id}' holds commit-log offset beyond 2^53 or negative; it cannot be addressed`,
    );
  }
  const address = ipLength === 4 ? `${ip}:${port}` : `[${ip}]:${port}`;
  return { ip, port, address, commitLogOffset };
}

/** First non-internal IPv4 address of this host, else 127.0.0.1. */
export function localIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal) return info.address;
    }
  }
  return '127.0.0.1';
}

/** Start of the current month in local time, in ms. */
function startOfMonthMs(now: number): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), 1).getTime();
}

/** Generates client unique ids (`UNIQ_KEY`) in RocketMQ's layout. */
export class UniqueIdGenerator {
  private readonly prefix: string;
  private readonly ipBytes: number;
  private monthStartMs = 0;
  private nextMonthStartMs = 0;
  private counter = 0;

  /**
   * @param ip client IP to embed (default: {@link localIPv4}).
   * @param pid process id (default: `process.pid`).
   */
  constructor(ip: string = localIPv4(), pid: number = process.pid) {
    const addr = ipToBytes(ip);
    const fixed = Buffer.alloc(addr.length + 6);
    addr.copy(fixed, 0);
    fixed.writeUInt16BE(pid & 0xffff, addr.length);
    fixed.writeInt32BE((Math.random() * 0x100000000) | 0, addr.length + 2);
    this.prefix = toHex(fixed);
    this.ipBytes = addr.length;
  }

  /** Returns a new id. */
  next(now: number = Date.now()): string {
    if (now >= this.nextMonthStartMs || now < this.monthStartMs) {
      this.monthStartMs = startOfMonthMs(now);
      const d = new Date(this.monthStartMs);
      this.nextMonthStartMs = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
    }
    // Tail: int32 ms since the month began, uint16 counter; as 12 hex digits in one string.
    const t = (now - this.monthStartMs) | 0;
    const c = this.counter;
    this.counter = (c + 1) & 0xffff;
    const d = HEX_CODES;
    return (
      this.prefix +
      String.fromCharCode(
        d[t >>> 28]!,
        d[(t >>> 24) & 15]!,
        d[(t >>> 20) & 15]!,
        d[(t >>> 16) & 15]!,
        d[(t >>> 12) & 15]!,
        d[(t >>> 8) & 15]!,
        d[(t >>> 4) & 15]!,
        d[t & 15]!,
        d[c >>> 12]!,
        d[(c >>> 8) & 15]!,
        d[(c >>> 4) & 15]!,
        d[c & 15]!,
      )
    );
  }

  /** Length in hex digits of the ids this generator makes (32 for IPv4, 56 for IPv6). */
  get idLength(): number {
    return (this.ipBytes + 12) * 2;
  }
}

/** Parts recoverable from a client unique id. */
export interface UniqueIdParts {
  ip: string;
  pid: number;
  /** Approximate creation time: assumes the id was made in the current or previous month. */
  approxTimestampMs: number;
}

/** Decodes a client unique id made by {@link UniqueIdGenerator} or a Java client. */
export function decodeUniqueId(id: string, now: number = Date.now()): UniqueIdParts {
  if ((id.length !== 32 && id.length !== 56) || !/^[0-9a-fA-F]+$/.test(id)) {
    throw new SluiceError('INVALID_ARGUMENT', `'${id}' is not a client unique id`);
  }
  const bytes = Buffer.from(id, 'hex');
  const ipLength = id.length === 32 ? 4 : 16;
  // Milliseconds since the month began pass 2^31 after 24.8 days: the int32 written by every
  // client wraps, so read it unsigned (a month is below 2^32 ms).
  const sinceMonth = bytes.readUInt32BE(ipLength + 6);
  let base = startOfMonthMs(now);
  if (base + sinceMonth > now + 60_000) {
    const d = new Date(base);
    base = new Date(d.getFullYear(), d.getMonth() - 1, 1).getTime();
  }
  return {
    ip: bytesToIp(bytes.subarray(0, ipLength)),
    pid: bytes.readUInt16BE(ipLength),
    approxTimestampMs: base + sinceMonth,
  };
}
