/**
 * The remoting frame: length-prefixed envelope around one command header and an optional body.
 *
 * Frame layout (all integers big-endian):
 *
 * | offset | size    | field              | meaning                                              |
 * |--------|---------|--------------------|------------------------------------------------------|
 * | 0      | 4       | totalLength        | bytes that follow this field = 4 + headerLen + body |
 * | 4      | 1       | serializeType      | high byte of the second word: 0 JSON, 1 ROCKETMQ     |
 * | 5      | 3       | headerLength       | low 24 bits of the second word                       |
 * | 8      | hLen    | header             | JSON text or the binary header (remoting-command.ts) |
 * | 8+hLen | rest    | body               | everything after the header (may be empty)           |
 *
 * ali-ons reads the whole second word as the header length, so answers to it must use type 0.
 */
import { SluiceError } from '../common/errors.js';

/** Serialization type carried in the high byte of the header-length word. */
export const SerializeType = {
  /** JSON header text (UTF-8). What ali-ons and most clients speak. */
  JSON: 0,
  /** RocketMQ's compact binary header. */
  ROCKETMQ: 1,
} as const;
/** One of {@link SerializeType}'s values. */
export type SerializeType = (typeof SerializeType)[keyof typeof SerializeType];

/** Size of the two length words in front of the header. */
export const FRAME_PREFIX_BYTES = 8;
/** Size of the `totalLength` word. */
export const FRAME_LENGTH_FIELD_BYTES = 4;
/** Default cap on `totalLength`: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** The header length is a 24-bit field. */
export const MAX_HEADER_BYTES = 0xffffff;

/**
 * One decoded frame. `header` and `body` are views into the decoder's input (no copy when the
 * frame arrived in one chunk). The object is REUSED by the decoder for the next frame: consume it
 * inside the callback and copy what must outlive it.
 */
export interface RawFrame {
  /** Serialization type of the header. */
  serializeType: SerializeType;
  /** Header bytes (JSON text or binary header); a view made on first access. */
  readonly header: Buffer;
  /** Body bytes, or `undefined` when the frame has no body. */
  body: Buffer | undefined;
  /** The buffer holding the header at [headerStart, headerEnd): read it without a view. */
  readonly source: Buffer;
  readonly headerStart: number;
  readonly headerEnd: number;
}

/** A decoder's reusable frame: the header view is only made when asked for. */
export class DecodedFrame implements RawFrame {
  serializeType: SerializeType = SerializeType.JSON;
  body: Buffer | undefined = undefined;
  source: Buffer = Buffer.alloc(0);
  headerStart = 0;
  headerEnd = 0;

  get header(): Buffer {
    return this.source.subarray(this.headerStart, this.headerEnd);
  }
}

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest accepted `totalLength` (bytes after the first word). Default 16 MiB. */
  maxFrameBytes?: number;
}

/**
 * Writes the 8-byte frame prefix (total length, type + header length) into `target` at `offset`.
 * @returns the offset just after the prefix.
 */
export function writeFramePrefix(
  target: Buffer,
  offset: number,
  serializeType: SerializeType,
  headerBytes: number,
  bodyBytes: number,
): number {
  if (headerBytes > MAX_HEADER_BYTES) {
    throw new SluiceError(
      'FRAME_TOO_LARGE',
      `command header is ${headerBytes} bytes; the protocol allows at most ${MAX_HEADER_BYTES} (shorten remark/extFields)`,
    );
  }
  target.writeInt32BE(4 + headerBytes + bodyBytes, offset);
  target.writeUInt32BE(((serializeType & 0xff) << 24) | headerBytes, offset + 4);
  return offset + FRAME_PREFIX_BYTES;
}

/**
 * Streaming frame decoder. Feed it socket chunks with {@link FrameDecoder.push}; it calls
 * `onFrame` once per complete frame, in order. Chunks are kept in a list (never re-concatenated
 * as they arrive), so a frame costs at most one copy, and none when it lies inside one chunk.
 *
 * After `push` throws (bad length, oversized frame) the stream is out of sync: the decoder stays
 * failed and the caller must close the connection.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private readonly onFrame: (frame: RawFrame) => void;
  private readonly chunks: Buffer[] = [];
  /** Read position inside `chunks[0]`. */
  private headOffset = 0;
  /** Bytes buffered and not yet consumed. */
  private buffered = 0;
  /** `totalLength` of the frame being assembled, or -1 when not yet known. */
  private pendingLength = -1;
  private failure: SluiceError | undefined;
  private readonly frame = new DecodedFrame();
  private readonly lengthScratch = Buffer.alloc(4);

  /**
   * @param onFrame called synchronously for each frame; the {@link RawFrame} object is reused.
   * @param options size limits.
   */
  constructor(onFrame: (frame: RawFrame) => void, options: FrameDecoderOptions = {}) {
    this.onFrame = onFrame;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes received but not yet part of a delivered frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds a chunk and delivers every frame it completes.
   * @throws SluiceError `FRAME_TOO_LARGE` or `PROTOCOL_ERROR`; the decoder is then unusable.
   */
  push(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.drain();
    } catch (err) {
      if (err instanceof SluiceError) this.failure = err;
      throw err;
    }
  }

  private drain(): void {
    while (true) {
      if (this.pendingLength < 0) {
        if (this.buffered < FRAME_LENGTH_FIELD_BYTES) return;
        const total = this.readLength();
        checkFrameLength(total, this.maxFrameBytes);
        this.pendingLength = total;
      }
      if (this.buffered < this.pendingLength) return;
      const length = this.pendingLength;
      this.pendingLength = -1;
      const head = this.chunks[0]!;
      const start = this.headOffset;
      if (head.length - start >= length) {
        // The frame lies in one chunk: no view of it, only of its parts.
        this.advance(length);
        this.deliver(head, start, length);
      } else {
        this.deliver(this.take(length), 0, length);
      }
    }
  }

  /** Consumes the 4-byte length word (may straddle chunks). */
  private readLength(): number {
    const head = this.chunks[0]!;
    if (head.length - this.headOffset >= 4) {
      const value = head.readInt32BE(this.headOffset);
      this.advance(4);
      return value;
    }
    const scratch = this.lengthScratch;
    for (let i = 0; i < 4; i++) {
      const c = this.chunks[0]!;
      scratch[i] = c[this.headOffset]!;
      this.advance(1);
    }
    return scratch.readInt32BE(0);
  }

  private advance(n: number): void {
    this.headOffset += n;
    this.buffered -= n;
    while (this.chunks.length > 0 && this.headOffset >= this.chunks[0]!.length) {
      this.headOffset -= this.chunks[0]!.length;
      this.chunks.shift();
    }
  }

  /** Removes `n` bytes from the front; a view when they lie in one chunk, else one copy. */
  private take(n: number): Buffer {
    const head = this.chunks[0]!;
    if (head.length - this.headOffset >= n) {
      const view = head.subarray(this.headOffset, this.headOffset + n);
      this.advance(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const c = this.chunks[0]!;
      const avail = Math.min(c.length - this.headOffset, n - written);
      c.copy(out, written, this.headOffset, this.headOffset + avail);
      written += avail;
      this.advance(avail);
    }
    return out;
  }

  private deliver(bytes: Buffer, start: number, length: number): void {
    deliverFrame(this.frame, bytes, start, length, this.onFrame);
  }
}

/**
 * Checks `totalLength` (the first word of a frame) against the limits.
 * @throws SluiceError `PROTOCOL_ERROR` or `FRAME_TOO_LARGE`.
 */
export function checkFrameLength(total: number, maxFrameBytes: number): void {
  if (total < 4) {
    throw new SluiceError(
      'PROTOCOL_ERROR',
      `frame length ${total} is smaller than the 4-byte header-length word; the peer does not speak the remoting protocol`,
    );
  }
  if (total > maxFrameBytes) {
    throw new SluiceError(
      'FRAME_TOO_LARGE',
      `frame of ${total} bytes exceeds the limit of ${maxFrameBytes}; raise maxFrameBytes or send smaller batches`,
    );
  }
}

/**
 * Fills `frame` from the frame at `bytes[start, start + length)` (after its length word) and
 * hands it to `onFrame`.
 * @throws SluiceError `PROTOCOL_ERROR` for an unknown serialization type or a bad header length.
 */
export function deliverFrame(
  frame: DecodedFrame,
  bytes: Buffer,
  start: number,
  length: number,
  onFrame: (frame: RawFrame) => void,
): void {
  const word = bytes.readUInt32BE(start);
  const serializeType = word >>> 24;
  const headerLength = word & 0xffffff;
  if (serializeType !== SerializeType.JSON && serializeType !== SerializeType.ROCKETMQ) {
    throw new SluiceError(
      'PROTOCOL_ERROR',
      `unknown serialization type ${serializeType}; expected 0 (JSON) or 1 (ROCKETMQ)`,
    );
  }
  if (headerLength === 0 || 4 + headerLength > length) {
    throw new SluiceError(
      'PROTOCOL_ERROR',
      `header length ${headerLength} does not fit a frame of ${length} bytes`,
    );
  }
  const headerEnd = start + 4 + headerLength;
  const end = start + length;
  frame.serializeType = serializeType;
  frame.source = bytes;
  frame.headerStart = start + 4;
  frame.headerEnd = headerEnd;
  frame.body = headerEnd < end ? bytes.subarray(headerEnd, end) : undefined;
  onFrame(frame);
}
