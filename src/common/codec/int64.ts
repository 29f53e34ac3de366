/**
 * Big-endian signed 64-bit integers of the stored formats (a record's offsets and times, a
 * ConsumeQueue entry's offsets, an IndexFile's) as JavaScript numbers: exact up to 2^53, and a
 * stored value beyond that is refused with an error instead of being rounded.
 *
 * | offset | width | field                  |
 * |--------|-------|------------------------|
 * | 0      | 4     | high 32 bits, signed   |
 * | 4      | 4     | low 32 bits, unsigned  |
 */
import { SluiceError } from '../errors.js';

/** 2^32: the weight of the high half. */
export const TWO_POW_32 = 4294967296;

/** Writes `value` (a safe integer, may be negative) at byte `pos`. */
export function writeInt64(view: DataView, pos: number, value: number): void {
  view.setInt32(pos, Math.floor(value / TWO_POW_32), false);
  view.setUint32(pos + 4, value >>> 0, false);
}

/**
 * Reads the int64 at byte `pos`. Beyond 2^53 it throws STORE_CORRUPT naming `what` and saying
 * `whatToDo`.
 */
export function readInt64(view: DataView, pos: number, what: string, whatToDo: string): number {
  const v = view.getInt32(pos, false) * TWO_POW_32 + view.getUint32(pos + 4, false);
  if (!Number.isSafeInteger(v)) {
    throw new SluiceError('STORE_CORRUPT', `${what} at byte ${pos} does not fit 2^53; ${whatToDo}`);
  }
  return v;
}
