/**
 * Text forms read straight from a message record's bytes: its host fields ("a.b.c.d:port") and
 * its offset message id (RocketMQ's `offsetMsgId`: store address, store port and physical
 * offset as uppercase hex; the layout table is in `src/protocol/message-id.ts`, whose
 * `OffsetMessageIdEncoder` makes the same ids on the broker and `decodeOffsetMessageId` reads
 * them back). Used when records are decoded (pull bodies, lookups).
 */

import { TWO_POW_32 } from './int64.js';

/** The last IPv4 host strings made, by address and port (a pull body repeats a few hosts). */
const hostCache = { key1: -1, port1: -1, text1: '', key2: -1, port2: -1, text2: '' };

/** "a.b.c.d:port" or "[v6]:port" of the host field at `pos` (recent IPv4 hosts are cached). */
export function hostString(bytes: Uint8Array, view: DataView, pos: number, v6: boolean): string {
  const port = view.getInt32(pos + (v6 ? 16 : 4));
  if (!v6) {
    const key = view.getInt32(pos);
    const c = hostCache;
    if (key === c.key1 && port === c.port1) return c.text1;
    if (key === c.key2 && port === c.port2) return c.text2;
    const text = `${bytes[pos]}.${bytes[pos + 1]}.${bytes[pos + 2]}.${bytes[pos + 3]}:${port}`;
    c.key2 = c.key1;
    c.port2 = c.port1;
    c.text2 = c.text1;
    c.key1 = key;
    c.port1 = port;
    c.text1 = text;
    return text;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(view.getUint16(pos + i).toString(16));
  return `[${groups.join(':')}]:${port}`;
}

/** Two uppercase hex digits per byte value. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).toUpperCase().padStart(2, '0'),
);

/** Uppercase hex of a 32-bit value (8 digits). */
function hex32(v: number): string {
  return (
    HEX2[(v >>> 24) & 0xff] + HEX2[(v >>> 16) & 0xff] + HEX2[(v >>> 8) & 0xff] + HEX2[v & 0xff]
  );
}

/** Offset message id: store address + port + physical offset, uppercase hex. */
export function offsetMsgIdOf(
  storeAddress: Uint8Array,
  storePort: number,
  physicalOffset: number,
): string {
  let s = '';
  for (let i = 0; i < storeAddress.length; i++) s += HEX2[storeAddress[i]];
  return s + hex32(storePort) + hex64(physicalOffset);
}

/** Uppercase hex of a non-negative safe integer as an int64 (16 digits). */
function hex64(v: number): string {
  const hi = Math.floor(v / TWO_POW_32);
  return hex32(hi) + hex32(v - hi * TWO_POW_32);
}

/** The last IPv4 store host's hex prefix of offset message ids, by address and port. */
const idPrefixCache = { key: -1, port: -1, text: '' };

/**
 * The offset message id of a record whose store host field is at `storeHostPos` (as
 * {@link offsetMsgIdOf}; the hex of a repeated IPv4 store host is reused).
 */
export function offsetMsgIdAt(
  bytes: Uint8Array,
  view: DataView,
  storeHostPos: number,
  v6: boolean,
  physicalOffset: number,
): string {
  const addrLen = v6 ? 16 : 4;
  const port = view.getInt32(storeHostPos + addrLen);
  if (v6) {
    return offsetMsgIdOf(bytes.subarray(storeHostPos, storeHostPos + 16), port, physicalOffset);
  }
  const key = view.getInt32(storeHostPos);
  const c = idPrefixCache;
  if (key !== c.key || port !== c.port) {
    c.key = key;
    c.port = port;
    c.text = hex32(key >>> 0) + hex32(port);
  }
  return c.text + hex64(physicalOffset);
}
