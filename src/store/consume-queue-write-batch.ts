/**
 * The byte layout of one batch of ConsumeQueue file writes, as posted by the JS thread to the
 * ConsumeQueue writer thread (`consume-queue-writer-worker.ts`). One transferable ArrayBuffer per
 * batch, a sequence of operations, big-endian:
 *
 * | field    | bytes | meaning                                                        |
 * |----------|-------|----------------------------------------------------------------|
 * | fileId   | 4     | writer-assigned id of the file (its path is sent once, apart)   |
 * | position | 4     | byte position in the file (files are at most 4 GiB)            |
 * | length   | 4     | bytes that follow                                              |
 * | data     | len   | the ConsumeQueue entries, as they go into the file             |
 *
 * Control messages (register paths, forget files) travel as plain objects beside the buffer.
 */
import { invariant } from '../common/errors.js';
import { growBuffer } from '../common/grow-buffer.js';

/** Bytes of an operation's header. */
export const OP_HEADER_BYTES = 12;

/** A growable buffer of write operations; reused from batch to batch. */
export class WriteBatchBuilder {
  private buffer: ArrayBuffer;
  private bytes: Uint8Array;
  private view: DataView;
  private used = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = new ArrayBuffer(initialBytes);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** Bytes used so far. */
  get sizeBytes(): number {
    return this.used;
  }

  /** Appends one write of `src[from, from+len)` at `position` of file `fileId`. */
  add(fileId: number, position: number, src: Uint8Array, from: number, len: number): void {
    invariant(position >= 0 && position + len <= 0xffffffff, 'ConsumeQueue write beyond 4 GiB');
    const need = this.used + OP_HEADER_BYTES + len;
    if (need > this.bytes.length) this.grow(need);
    const v = this.view;
    v.setUint32(this.used, fileId);
    v.setUint32(this.used + 4, position);
    v.setUint32(this.used + 8, len);
    this.bytes.set(src.subarray(from, from + len), this.used + OP_HEADER_BYTES);
    this.used = need;
  }

  /** The operations so far in a fresh ArrayBuffer (to transfer); the builder is emptied. */
  take(): ArrayBuffer {
    const out = this.buffer.slice(0, this.used);
    this.used = 0;
    return out;
  }

  private grow(need: number): void {
    const b = growBuffer(this.bytes, this.used, need);
    this.buffer = b.buffer;
    this.bytes = b;
    this.view = new DataView(this.buffer);
  }
}

/** Calls `fn` for every operation of a batch buffer (data is a view, not a copy). */
export function forEachOp(
  buffer: ArrayBuffer,
  fn: (fileId: number, position: number, data: Uint8Array) => void,
): void {
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  let p = 0;
  while (p + OP_HEADER_BYTES <= bytes.length) {
    const fileId = view.getUint32(p);
    const position = view.getUint32(p + 4);
    const len = view.getUint32(p + 8);
    invariant(p + OP_HEADER_BYTES + len <= bytes.length, 'truncated ConsumeQueue write batch');
    fn(fileId, position, bytes.subarray(p + OP_HEADER_BYTES, p + OP_HEADER_BYTES + len));
    p += OP_HEADER_BYTES + len;
  }
}
