/**
 * The CommitLog message record (RocketMQ format v1; v2 accepted on decode). Shared by the store
 * (append, recovery, dispatch) and the client (pull bodies are raw log bytes), so this module
 * imports nothing from store/ or broker/. All integers are big-endian. The allocating decoder of
 * whole records (`DecodedMessage`, for clients and tools) is in `decoded-message.ts`.
 *
 * | #  | field                  | width          | offset (IPv4 born+store host) |
 * |----|------------------------|----------------|-------------------------------|
 * | 1  | TOTALSIZE              | int32          | 0                             |
 * | 2  | MAGICCODE              | int32          | 4   (v1 0xDAA320A7, v2 0xDAA320AB) |
 * | 3  | BODYCRC                | int32          | 8   (crc32(body) & 0x7FFFFFFF) |
 * | 4  | QUEUEID                | int32          | 12                            |
 * | 5  | FLAG                   | int32          | 16                            |
 * | 6  | QUEUEOFFSET            | int64          | 20                            |
 * | 7  | PHYSICALOFFSET         | int64          | 28                            |
 * | 8  | SYSFLAG                | int32          | 36                            |
 * | 9  | BORNTIMESTAMP          | int64          | 40                            |
 * | 10 | BORNHOST               | 4+4 or 16+4    | 48  (IPv6 when SYSFLAG & 0x10) |
 * | 11 | STORETIMESTAMP         | int64          | 56                            |
 * | 12 | STOREHOST              | 4+4 or 16+4    | 64  (IPv6 when SYSFLAG & 0x20) |
 * | 13 | RECONSUMETIMES         | int32          | 72                            |
 * | 14 | PREPAREDTXOFFSET       | int64          | 76                            |
 * | 15 | BODYLEN + BODY         | int32 + n      | 84                            |
 * | 16 | TOPICLEN + TOPIC       | 1 (v1) / 2 (v2) + n | 88 + bodyLen             |
 * | 17 | PROPERTIESLEN + PROPS  | int16 + n      | after topic                   |
 *
 * Fixed overhead for IPv4, v1: 91 bytes. Each IPv6 host adds 12, v2 adds 1.
 *
 * End of segment: a BLANK record of 8 bytes, TOTALSIZE = bytes left in the segment and
 * MAGICCODE = 0xCBD43194; the rest of the segment is unused.
 */
import { crc32 } from 'node:zlib';
import { readInt64, writeInt64 } from './int64.js';

/** Magic code of a v1 record (1-byte topic length). */
export const MESSAGE_MAGIC_V1 = 0xdaa320a7;
/** Magic code of a v2 record (2-byte topic length). */
export const MESSAGE_MAGIC_V2 = 0xdaa320ab;
/** Magic code of the end-of-segment filler. */
export const BLANK_MAGIC = 0xcbd43194;
/** Minimum bytes of a BLANK record (TOTALSIZE + MAGICCODE). */
export const BLANK_MIN_BYTES = 8;

/** SYSFLAG bits. */
export const SYSFLAG_COMPRESSED = 0x1;
export const SYSFLAG_MULTI_TAGS = 0x2;
export const SYSFLAG_TRANSACTION_MASK = 0xc;
export const SYSFLAG_TRANSACTION_NOT = 0x0;
export const SYSFLAG_TRANSACTION_PREPARED = 0x4;
export const SYSFLAG_TRANSACTION_COMMIT = 0x8;
export const SYSFLAG_TRANSACTION_ROLLBACK = 0xc;
export const SYSFLAG_BORNHOST_V6 = 0x10;
export const SYSFLAG_STOREHOST_V6 = 0x20;
export const SYSFLAG_NEED_UNWRAP = 0x40;
export const SYSFLAG_INNER_BATCH = 0x80;
export const SYSFLAG_COMPRESSION_TYPE_MASK = 0x700;

/** Field positions that do not depend on host widths. */
export const POS_TOTALSIZE = 0;
export const POS_MAGIC = 4;
export const POS_BODYCRC = 8;
export const POS_QUEUEID = 12;
export const POS_FLAG = 16;
export const POS_QUEUEOFFSET = 20;
export const POS_PHYSICALOFFSET = 28;
export const POS_SYSFLAG = 36;
export const POS_BORNTIMESTAMP = 40;
export const POS_BORNHOST = 48;

/** Largest topic length (bytes) a v1 record can carry; longer topics use v2. */
export const V1_MAX_TOPIC_BYTES = 127;

/** Bytes of a host field for the given IPv6 flag: 4+4 or 16+4. */
function hostBytes(v6: boolean): number {
  return v6 ? 20 : 8;
}

/**
 * Total record size for the given lengths. `sysFlag` selects host widths; the topic length
 * field is 1 byte when the topic is ≤ 127 bytes (v1), else 2 bytes (v2).
 */
export function recordSizeBytes(
  bodyLen: number,
  topicLenBytes: number,
  propsLenBytes: number,
  sysFlag: number,
): number {
  return (
    4 + // TOTALSIZE
    4 + // MAGICCODE
    4 + // BODYCRC
    4 + // QUEUEID
    4 + // FLAG
    8 + // QUEUEOFFSET
    8 + // PHYSICALOFFSET
    4 + // SYSFLAG
    8 + // BORNTIMESTAMP
    hostBytes((sysFlag & SYSFLAG_BORNHOST_V6) !== 0) +
    8 + // STORETIMESTAMP
    hostBytes((sysFlag & SYSFLAG_STOREHOST_V6) !== 0) +
    4 + // RECONSUMETIMES
    8 + // PREPARED TRANSACTION OFFSET
    4 +
    bodyLen +
    (topicLenBytes > V1_MAX_TOPIC_BYTES ? 2 : 1) +
    topicLenBytes +
    2 +
    propsLenBytes
  );
}

/** CRC stored in BODYCRC: IEEE CRC-32 of the body, masked to 31 bits. */
export function bodyCrc(body: Uint8Array): number {
  return crc32(body) & 0x7fffffff;
}

/** Reads an int64 field of a record; throws STORE_CORRUPT when it is beyond 2^53. */
export function getInt64(view: DataView, pos: number): number {
  return readInt64(
    view,
    pos,
    'int64',
    'the record is corrupt or was written by a broker with a larger log; inspect the file',
  );
}

/**
 * The fixed header fields the caller supplies to {@link encodeRecord}. Reuse one object per
 * writer; nothing is retained.
 */
export interface RecordHeader {
  bodyCrc: number;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  /** Host IPv6 bits are set by encodeRecord from the host address lengths. */
  sysFlag: number;
  bornTimestamp: number;
  /** 4 (IPv4) or 16 (IPv6) bytes. */
  bornHostAddress: Uint8Array;
  bornHostPort: number;
  storeTimestamp: number;
  storeHostAddress: Uint8Array;
  storeHostPort: number;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
}

/** SYSFLAG with the host IPv6 bits derived from the address lengths. */
export function sysFlagWithHosts(
  sysFlag: number,
  bornAddrLen: number,
  storeAddrLen: number,
): number {
  let f = sysFlag & ~(SYSFLAG_BORNHOST_V6 | SYSFLAG_STOREHOST_V6);
  if (bornAddrLen === 16) f |= SYSFLAG_BORNHOST_V6;
  if (storeAddrLen === 16) f |= SYSFLAG_STOREHOST_V6;
  return f;
}

/** Copies a short array byte by byte (TypedArray.set costs more than the copy below ~64 bytes). */
function copySmall(bytes: Uint8Array, pos: number, src: Uint8Array): void {
  const n = src.length;
  if (n > 64) {
    bytes.set(src, pos);
    return;
  }
  for (let i = 0; i < n; i++) bytes[pos + i] = src[i];
}

function writeHost(
  bytes: Uint8Array,
  view: DataView,
  pos: number,
  addr: Uint8Array,
  port: number,
): number {
  copySmall(bytes, pos, addr);
  view.setInt32(pos + addr.length, port);
  return pos + addr.length + 4;
}

/**
 * Writes UTF-8 `str` at `pos` (exactly `byteLen` bytes, precomputed by the caller). ASCII is
 * copied char by char without allocating; other text goes through the Buffer encoder.
 */
function writeUtf8(bytes: Uint8Array, pos: number, str: string, byteLen: number): void {
  if (byteLen === str.length) {
    for (let i = 0; i < byteLen; i++) bytes[pos + i] = str.charCodeAt(i);
    return;
  }
  if (Buffer.isBuffer(bytes)) {
    bytes.write(str, pos, byteLen, 'utf8');
  } else {
    bytes.set(Buffer.from(str, 'utf8'), pos);
  }
}

/**
 * Encodes a full record at `pos`. `view` and `bytes` must cover the same memory (same buffer
 * and byteOffset). `topic` is the UTF-8 topic (cache it per topic); `properties` is either
 * UTF-8 bytes or a string whose UTF-8 length is `propsLenBytes`. `h.sysFlag` is written as
 * given: compute the host bits with {@link sysFlagWithHosts}. Returns the record size.
 * Allocation-free for byte properties and ASCII string properties.
 */
export function encodeRecord(
  view: DataView,
  bytes: Uint8Array,
  pos: number,
  h: RecordHeader,
  body: Uint8Array,
  topic: Uint8Array,
  properties: Uint8Array | string,
  propsLenBytes: number,
): number {
  const size = recordSizeBytes(body.length, topic.length, propsLenBytes, h.sysFlag);
  const v2 = topic.length > V1_MAX_TOPIC_BYTES;
  view.setInt32(pos, size);
  view.setInt32(pos + POS_BODYCRC, h.bodyCrc);
  view.setInt32(pos + POS_QUEUEID, h.queueId);
  view.setInt32(pos + POS_FLAG, h.flag);
  writeInt64(view, pos + POS_QUEUEOFFSET, h.queueOffset);
  writeInt64(view, pos + POS_PHYSICALOFFSET, h.physicalOffset);
  view.setInt32(pos + POS_SYSFLAG, h.sysFlag);
  writeInt64(view, pos + POS_BORNTIMESTAMP, h.bornTimestamp);
  let p = writeHost(bytes, view, pos + POS_BORNHOST, h.bornHostAddress, h.bornHostPort);
  writeInt64(view, p, h.storeTimestamp);
  p = writeHost(bytes, view, p + 8, h.storeHostAddress, h.storeHostPort);
  view.setInt32(p, h.reconsumeTimes);
  writeInt64(view, p + 4, h.preparedTransactionOffset);
  p += 12;
  view.setInt32(p, body.length);
  bytes.set(body, p + 4);
  p += 4 + body.length;
  if (v2) {
    view.setUint16(p, topic.length);
    p += 2;
  } else {
    bytes[p++] = topic.length;
  }
  copySmall(bytes, p, topic);
  p += topic.length;
  view.setInt16(p, propsLenBytes);
  p += 2;
  if (typeof properties === 'string') writeUtf8(bytes, p, properties, propsLenBytes);
  else copySmall(bytes, p, properties);
  // The magic code last: a process killed while the record was being written (into a mapping,
  // where every store lands in the page cache at once) leaves the zero of the log's tail there,
  // which recovery reads as the end of the log. Written first, a record cut off in its
  // properties passed every check (length, magic, body CRC) and came back with them zeroed.
  view.setUint32(pos + POS_MAGIC, v2 ? MESSAGE_MAGIC_V2 : MESSAGE_MAGIC_V1);
  return size;
}

/** Writes a BLANK end-of-segment record of `remainingBytes` (≥ 8) at `pos`. */
export function encodeBlank(view: DataView, pos: number, remainingBytes: number): void {
  view.setInt32(pos, remainingBytes);
  view.setUint32(pos + POS_MAGIC, BLANK_MAGIC);
}

/** The fixed-width header fields of a record, as numbers. */
export interface RecordHeaderFields {
  totalSize: number;
  magic: number;
  bodyCrc: number;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  storeTimestamp: number;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
}

/** Header fields and part positions of a record; filled in place by {@link readRecordMeta}. */
export interface RecordMeta extends RecordHeaderFields {
  /** Absolute positions (in the `bytes` passed in) of the parts. */
  bodyStart: number;
  bodyLength: number;
  topicStart: number;
  topicLength: number;
  propertiesStart: number;
  propertiesLength: number;
}

/** TOTALSIZE of the record at `pos` (a big-endian int32), read without a DataView. */
export function recordSizeAt(bytes: Uint8Array, pos: number): number {
  return (bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
}

/** MAGICCODE of the record at `pos` (unsigned), read without a DataView. */
export function recordMagicAt(bytes: Uint8Array, pos: number): number {
  return (
    ((bytes[pos + 4]! << 24) |
      (bytes[pos + 5]! << 16) |
      (bytes[pos + 6]! << 8) |
      bytes[pos + 7]!) >>>
    0
  );
}

/** A zeroed {@link RecordMeta} to reuse with {@link readRecordMeta}. */
export function newRecordMeta(): RecordMeta {
  return {
    totalSize: 0,
    magic: 0,
    bodyCrc: 0,
    queueId: 0,
    flag: 0,
    queueOffset: 0,
    physicalOffset: 0,
    sysFlag: 0,
    bornTimestamp: 0,
    storeTimestamp: 0,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    bodyStart: 0,
    bodyLength: 0,
    topicStart: 0,
    topicLength: 0,
    propertiesStart: 0,
    propertiesLength: 0,
  };
}

/**
 * The part of {@link readRecordMeta} the dispatcher needs: total size, magic, queue id, queue
 * offset, sysFlag, store time and the positions of topic and properties (body CRC, flag,
 * physical offset, born time, reconsume times and prepared offset are left as they were).
 */
export function readDispatchMeta(
  view: DataView,
  bytes: Uint8Array,
  pos: number,
  out: RecordMeta,
): void {
  out.totalSize = view.getInt32(pos);
  const magic = view.getUint32(pos + POS_MAGIC);
  out.magic = magic;
  out.queueId = view.getInt32(pos + POS_QUEUEID);
  out.queueOffset = getInt64(view, pos + POS_QUEUEOFFSET);
  const sysFlag = view.getInt32(pos + POS_SYSFLAG);
  out.sysFlag = sysFlag;
  let p = pos + POS_BORNHOST + hostBytes((sysFlag & SYSFLAG_BORNHOST_V6) !== 0);
  out.storeTimestamp = getInt64(view, p);
  p += 8 + hostBytes((sysFlag & SYSFLAG_STOREHOST_V6) !== 0) + 12;
  const bodyLen = view.getInt32(p);
  out.bodyStart = p + 4;
  out.bodyLength = bodyLen;
  p += 4 + bodyLen;
  let topicLen: number;
  if (magic === MESSAGE_MAGIC_V2) {
    topicLen = view.getUint16(p);
    p += 2;
  } else {
    topicLen = bytes[p];
    p += 1;
  }
  out.topicStart = p;
  out.topicLength = topicLen;
  p += topicLen;
  out.propertiesLength = view.getUint16(p);
  out.propertiesStart = p + 2;
}

/**
 * Reads the header of a record already known to be valid (see {@link checkRecord}) into `out`
 * without allocating. `view` and `bytes` must cover the same memory.
 */
export function readRecordMeta(
  view: DataView,
  bytes: Uint8Array,
  pos: number,
  out: RecordMeta,
): void {
  readDispatchMeta(view, bytes, pos, out);
  out.bodyCrc = view.getInt32(pos + POS_BODYCRC);
  out.flag = view.getInt32(pos + POS_FLAG);
  out.physicalOffset = getInt64(view, pos + POS_PHYSICALOFFSET);
  out.bornTimestamp = getInt64(view, pos + POS_BORNTIMESTAMP);
  // RECONSUMETIMES (4) and PREPARED TRANSACTION OFFSET (8) end where BODYLEN (4) starts.
  out.reconsumeTimes = view.getInt32(out.bodyStart - 16);
  out.preparedTransactionOffset = getInt64(view, out.bodyStart - 12);
}

let cachedBuffer: ArrayBufferLike | null = null;
let cachedOffset = -1;
let cachedView: DataView | null = null;

/** A DataView over the same memory as `bytes`, cached for the last buffer seen. */
export function viewOf(bytes: Uint8Array): DataView {
  if (cachedView !== null && bytes.buffer === cachedBuffer && bytes.byteOffset === cachedOffset) {
    if (cachedView.byteLength === bytes.byteLength) return cachedView;
  }
  cachedBuffer = bytes.buffer;
  cachedOffset = bytes.byteOffset;
  cachedView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return cachedView;
}

/** Smallest valid message record (IPv4, empty body/props, 1-byte topic). */
const MIN_RECORD_BYTES = recordSizeBytes(0, 1, 0, 0);

/**
 * Validates the record at `pos` with `available` readable bytes after it. Returns the record
 * size when it is a valid message record, 0 for a BLANK (end of segment), and -1 when it is
 * torn or garbage: short, unknown magic, size out of range, field lengths that do not add up to
 * TOTALSIZE, insane topic length, or (when `verifyCrc`) a body CRC mismatch.
 */
export function checkRecord(
  bytes: Uint8Array,
  pos: number,
  available: number,
  verifyCrc: boolean,
): number {
  if (available < BLANK_MIN_BYTES || pos < 0 || pos + BLANK_MIN_BYTES > bytes.length) return -1;
  const view = viewOf(bytes);
  const total = view.getInt32(pos);
  const magic = view.getUint32(pos + POS_MAGIC);
  if (magic === BLANK_MAGIC) return total >= BLANK_MIN_BYTES ? 0 : -1;
  if (magic !== MESSAGE_MAGIC_V1 && magic !== MESSAGE_MAGIC_V2) return -1;
  const end = Math.min(available, bytes.length - pos);
  if (total < MIN_RECORD_BYTES || total > end) return -1;
  const sysFlag = view.getInt32(pos + POS_SYSFLAG);
  const bornLen = hostBytes((sysFlag & SYSFLAG_BORNHOST_V6) !== 0);
  const storeLen = hostBytes((sysFlag & SYSFLAG_STOREHOST_V6) !== 0);
  let rel = POS_BORNHOST + bornLen + 8 + storeLen + 12; // at BODYLEN
  if (rel + 4 > total) return -1;
  const bodyLen = view.getInt32(pos + rel);
  if (bodyLen < 0 || rel + 4 + bodyLen > total) return -1;
  const bodyStart = pos + rel + 4;
  rel += 4 + bodyLen;
  const v2 = magic === MESSAGE_MAGIC_V2;
  if (rel + (v2 ? 2 : 1) > total) return -1;
  const topicLen = v2 ? view.getUint16(pos + rel) : bytes[pos + rel];
  if (topicLen === 0 || (!v2 && topicLen > V1_MAX_TOPIC_BYTES)) return -1;
  rel += (v2 ? 2 : 1) + topicLen;
  if (rel + 2 > total) return -1;
  const propsLen = view.getUint16(pos + rel);
  rel += 2 + propsLen;
  if (rel !== total) return -1;
  if (verifyCrc) {
    const crc = crc32(bytes.subarray(bodyStart, bodyStart + bodyLen)) & 0x7fffffff;
    if (crc !== view.getInt32(pos + POS_BODYCRC)) return -1;
  }
  return total;
}

/** Position of the store host field of the record at `pos` with this SYSFLAG. */
export function storeHostPosition(pos: number, sysFlag: number): number {
  return pos + POS_BORNHOST + hostBytes((sysFlag & SYSFLAG_BORNHOST_V6) !== 0) + 8;
}
