/**
 * The allocating decoder of CommitLog message records, for clients, tools and tests: every field
 * of a record as a {@link DecodedMessage}. The layout and the store's allocation-free readers are
 * in `message-record.ts`.
 */
import { SluiceError } from '../errors.js';
import {
  BLANK_MIN_BYTES,
  POS_BORNHOST,
  SYSFLAG_BORNHOST_V6,
  SYSFLAG_STOREHOST_V6,
  checkRecord,
  newRecordMeta,
  readRecordMeta,
  storeHostPosition,
  viewOf,
  type RecordHeaderFields,
} from './message-record.js';
import { decodeProperties } from './properties.js';
import { hostString, offsetMsgIdAt } from './record-ids.js';

/** A fully decoded message record (allocating; for clients and tools). */
export interface DecodedMessage extends RecordHeaderFields {
  /** "a.b.c.d:port" or "[v6]:port". */
  bornHost: string;
  storeHost: string;
  topic: string;
  /** A view into the input bytes (copy it to keep it beyond the input's lifetime). */
  body: Uint8Array;
  properties: Map<string, string>;
  /** Store host + port + physical offset as uppercase hex (32 chars IPv4, 56 IPv6). */
  offsetMsgId: string;
  /** The client's UNIQ_KEY when present, else the offsetMsgId. */
  msgId: string;
}

const utf8 = new TextDecoder();

/** Decodes `[start, end)` as text: a latin1 copy for ASCII (most properties), else UTF-8. */
export function decodeText(bytes: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (bytes[i] >= 0x80) return utf8.decode(bytes.subarray(start, end));
  }
  if (Buffer.isBuffer(bytes)) return bytes.toString('latin1', start, end);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * Decodes the record at `pos`. Throws MESSAGE_ILLEGAL when the bytes there are not a valid
 * record (CRC is not checked here; use {@link checkRecord} for that).
 */
export function decodeRecord(bytes: Uint8Array, pos = 0): DecodedMessage {
  const size = checkRecord(bytes, pos, bytes.length - pos, false);
  if (size <= 0) {
    throw new SluiceError(
      'MESSAGE_ILLEGAL',
      `no valid message record at byte ${pos} (${size === 0 ? 'end-of-segment blank' : 'torn or garbage'})`,
    );
  }
  return decodeChecked(bytes, pos);
}

const decodeMeta = newRecordMeta();

/** {@link decodeRecord} of a record already checked. */
function decodeChecked(bytes: Uint8Array, pos: number): DecodedMessage {
  const view = viewOf(bytes);
  const m = decodeMeta;
  readRecordMeta(view, bytes, pos, m);
  const bornV6 = (m.sysFlag & SYSFLAG_BORNHOST_V6) !== 0;
  const storeV6 = (m.sysFlag & SYSFLAG_STOREHOST_V6) !== 0;
  const storeHostPos = storeHostPosition(pos, m.sysFlag);
  const properties = decodeProperties(
    decodeText(bytes, m.propertiesStart, m.propertiesStart + m.propertiesLength),
  );
  const offsetMsgId = offsetMsgIdAt(bytes, view, storeHostPos, storeV6, m.physicalOffset);
  return {
    totalSize: m.totalSize,
    magic: m.magic,
    bodyCrc: m.bodyCrc,
    queueId: m.queueId,
    flag: m.flag,
    queueOffset: m.queueOffset,
    physicalOffset: m.physicalOffset,
    sysFlag: m.sysFlag,
    bornTimestamp: m.bornTimestamp,
    bornHost: hostString(bytes, view, pos + POS_BORNHOST, bornV6),
    storeTimestamp: m.storeTimestamp,
    storeHost: hostString(bytes, view, storeHostPos, storeV6),
    reconsumeTimes: m.reconsumeTimes,
    preparedTransactionOffset: m.preparedTransactionOffset,
    topic: decodeText(bytes, m.topicStart, m.topicStart + m.topicLength),
    body: bytes.subarray(m.bodyStart, m.bodyStart + m.bodyLength),
    properties,
    offsetMsgId,
    msgId: properties.get('UNIQ_KEY') ?? offsetMsgId,
  };
}

/**
 * Decodes consecutive records (e.g. a pull response body). Stops at a BLANK, at the end of the
 * input, or throws MESSAGE_ILLEGAL at the first invalid record.
 */
export function decodeRecords(bytes: Uint8Array): DecodedMessage[] {
  const out: DecodedMessage[] = [];
  let pos = 0;
  while (pos + BLANK_MIN_BYTES <= bytes.length) {
    const size = checkRecord(bytes, pos, bytes.length - pos, false);
    if (size === 0) break;
    if (size < 0) {
      throw new SluiceError(
        'MESSAGE_ILLEGAL',
        `invalid message record at byte ${pos} of ${bytes.length}`,
      );
    }
    out.push(decodeChecked(bytes, pos));
    pos += size;
  }
  return out;
}
