/**
 * SEND_BATCH_MESSAGE (320) body: the classic batch, a concatenation of mini-records.
 *
 * | offset   | size | field                                      |
 * |----------|------|--------------------------------------------|
 * | 0        | 4    | TOTALSIZE (int32, whole mini-record)        |
 * | 4        | 4    | MAGIC (int32, 0)                           |
 * | 8        | 4    | BODYCRC (int32, 0)                         |
 * | 12       | 4    | FLAG (int32, user flag)                    |
 * | 16       | 4    | BODYLEN (int32)                            |
 * | 20       | B    | body                                       |
 * | 20+B     | 2    | PROPLEN (int16)                            |
 * | 22+B     | P    | properties (`name\u0001value\u0002` pairs)   |
 *
 * TOTALSIZE = 22 + B + P. The broker re-encodes each item as a full CommitLog record.
 */
import { SluiceError } from '../common/errors.js';

/** Fixed bytes of a mini-record. */
export const BATCH_ITEM_OVERHEAD_BYTES = 22;

/** One message of a batch, as encoded by the producer. */
export interface BatchItem {
  flag: number;
  body: Buffer;
  /** Serialized property string (bytes). */
  properties: Buffer;
}

/** Encodes messages into a SEND_BATCH_MESSAGE body. */
export function encodeBatchBody(items: readonly BatchItem[]): Buffer {
  let total = 0;
  for (const item of items) {
    if (item.properties.length > 0x7fff) {
      throw new SluiceError(
        'PROPERTIES_TOO_LARGE',
        `batch item properties are ${item.properties.length} bytes; the limit is 32767`,
      );
    }
    total += BATCH_ITEM_OVERHEAD_BYTES + item.body.length + item.properties.length;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const item of items) {
    const size = BATCH_ITEM_OVERHEAD_BYTES + item.body.length + item.properties.length;
    out.writeInt32BE(size, pos);
    out.writeInt32BE(0, pos + 4);
    out.writeInt32BE(0, pos + 8);
    out.writeInt32BE(item.flag, pos + 12);
    out.writeInt32BE(item.body.length, pos + 16);
    item.body.copy(out, pos + 20);
    pos += 20 + item.body.length;
    out.writeInt16BE(item.properties.length, pos);
    item.properties.copy(out, pos + 2);
    pos += 2 + item.properties.length;
  }
  return out;
}

function malformed(pos: number, what: string): SluiceError {
  return new SluiceError('MESSAGE_ILLEGAL', `batch body is malformed at byte ${pos}: ${what}`);
}

/**
 * Calls `visit` for every item of a batch body, in order. The item object is reused and its
 * `body`/`properties` are views into `batch` (no copies): consume them inside the callback.
 * @returns the number of items.
 * @throws SluiceError `MESSAGE_ILLEGAL` when the sizes are inconsistent.
 */
export function forEachBatchItem(
  batch: Buffer,
  visit: (item: BatchItem, index: number) => void,
): number {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const item: BatchItem = { flag: 0, body: batch.subarray(0, 0), properties: batch.subarray(0, 0) };
  let pos = 0;
  let index = 0;
  while (pos < batch.length) {
    if (pos + 20 > batch.length) throw malformed(pos, 'truncated item header');
    const size = view.getInt32(pos);
    if (size < BATCH_ITEM_OVERHEAD_BYTES || pos + size > batch.length) {
      throw malformed(pos, `item size ${size} out of range`);
    }
    const bodyLength = view.getInt32(pos + 16);
    if (bodyLength < 0 || 22 + bodyLength > size) {
      throw malformed(pos, `body length ${bodyLength} out of range`);
    }
    const propsAt = pos + 20 + bodyLength;
    const propsLength = view.getInt16(propsAt);
    if (propsLength < 0 || BATCH_ITEM_OVERHEAD_BYTES + bodyLength + propsLength !== size) {
      throw malformed(pos, `properties length ${propsLength} does not match item size ${size}`);
    }
    item.flag = view.getInt32(pos + 12);
    item.body = batch.subarray(pos + 20, propsAt);
    item.properties = batch.subarray(propsAt + 2, propsAt + 2 + propsLength);
    visit(item, index++);
    pos += size;
  }
  return index;
}

/** Decodes a batch body into independent items (views into `batch`). */
export function decodeBatchBody(batch: Buffer): BatchItem[] {
  const out: BatchItem[] = [];
  forEachBatchItem(batch, (item) => out.push({ ...item }));
  return out;
}
