/**
 * Frame decoding for a socket that reads into buffers the decoder hands out (`net.connect`'s
 * `onread` option): the kernel copies each read to where its frames will stay, so no chunk is
 * allocated per read and no frame is copied after it arrived.
 *
 * - Frames up to {@link LARGE_FRAME_BYTES} are read into a shared arena ({@link ARENA_BYTES});
 *   each is delivered as a view of it. When the arena has less than {@link MIN_READ_BYTES} left,
 *   or the frame being read does not fit in it, a new arena takes over (the partial frame's
 *   bytes, at most {@link LARGE_FRAME_BYTES}, are copied over once).
 * - A larger frame (a pull answer of 1,000 messages is ~1.1 MB) gets a buffer of its own as soon
 *   as its length word arrived; the bytes already read are copied in once, and the following
 *   reads go straight to the rest of that buffer.
 *
 * The views delivered keep their arena or frame buffer alive; nothing is reused, so a handler may
 * keep views of a frame (message bodies) as long as it likes, at the price of the whole arena:
 * code that keeps a few bodies for long should copy them. The {@link RawFrame} object itself is
 * reused for the next frame, as with {@link FrameDecoder}.
 *
 * Sizes (bench:compare, 10,000 topics, pulls of ~20 KB): with 64 KiB arenas and a 16 KiB
 * threshold every answer took the own-buffer path, reads 278-286k msgs/s; with 128 KiB / 32 KiB
 * they are views of the arena, 333-347k (256 KiB / 64 KiB: 336-352k, for twice the memory an
 * arena pins).
 */
import { SluiceError, invariant } from '../common/errors.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DecodedFrame,
  FRAME_LENGTH_FIELD_BYTES,
  checkFrameLength,
  deliverFrame,
  type FrameDecoderOptions,
  type RawFrame,
} from './frame-codec.js';

/** Size of a fresh arena. */
export const ARENA_BYTES = 128 * 1024;
/** A read is never offered less room than this (a new arena replaces a nearly full one). */
export const MIN_READ_BYTES = 16 * 1024;
/** Frames longer than this (after the length word) get a buffer of their own (≤ arena / 2). */
export const LARGE_FRAME_BYTES = 32 * 1024;

/** Decodes frames read straight into its buffers; see the module comment. */
export class FrameReader {
  private readonly maxFrameBytes: number;
  private readonly frame = new DecodedFrame();
  private onFrame: ((frame: RawFrame) => void) | null = null;
  private onError: ((err: Error) => void) | null = null;
  private arena = Buffer.allocUnsafe(ARENA_BYTES);
  /** Start of the bytes of `arena` not yet delivered (a partial frame). */
  private start = 0;
  /** End of the bytes read into `arena`. */
  private end = 0;
  /** The large frame being read (its bytes after the length word), or null. */
  private large: Buffer | null = null;
  private largeFilled = 0;
  private failure: Error | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Sets who receives the frames and the first decoding error (before any read completes). */
  attach(onFrame: (frame: RawFrame) => void, onError: (err: Error) => void): void {
    this.onFrame = onFrame;
    this.onError = onError;
  }

  /** The `onread` option for `net.connect`. */
  get onread(): {
    buffer: () => Uint8Array;
    callback: (nread: number, buf: Uint8Array) => boolean;
  } {
    return { buffer: this.nextBuffer, callback: this.wrote };
  }

  /** Bytes received but not yet part of a delivered frame. */
  get bufferedBytes(): number {
    return this.end - this.start + this.largeFilled;
  }

  /** Where the next read goes. */
  readonly nextBuffer = (): Buffer => {
    const large = this.large;
    if (large !== null) return large.subarray(this.largeFilled);
    if (this.arena.length - this.end < MIN_READ_BYTES) this.newArena();
    return this.arena.subarray(this.end);
  };

  /**
   * `nread` bytes were read into the buffer {@link nextBuffer} returned last. Returns true (keep
   * reading: the socket closes on a decoding error).
   */
  readonly wrote = (nread: number): boolean => {
    if (this.failure !== undefined || nread <= 0) return true;
    try {
      this.consume(nread);
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      // Reads that still arrive (until the socket closes) go to a throwaway arena: the old one
      // holds frames already delivered.
      this.large = null;
      this.arena = Buffer.allocUnsafe(ARENA_BYTES);
      this.start = 0;
      this.end = 0;
      if (this.onError === null) throw err;
      this.onError(this.failure);
    }
    return true;
  };

  private consume(nread: number): void {
    const large = this.large;
    if (large !== null) {
      this.largeFilled += nread;
      invariant(this.largeFilled <= large.length, 'read past the end of a frame buffer');
      if (this.largeFilled < large.length) return;
      this.large = null;
      this.largeFilled = 0;
      this.deliver(large, 0, large.length);
      return;
    }
    this.end += nread;
    invariant(this.end <= this.arena.length, 'read past the end of the arena');
    const arena = this.arena;
    while (this.end - this.start >= FRAME_LENGTH_FIELD_BYTES) {
      const length = arena.readInt32BE(this.start);
      checkFrameLength(length, this.maxFrameBytes);
      const available = this.end - this.start - FRAME_LENGTH_FIELD_BYTES;
      if (available >= length) {
        const at = this.start + FRAME_LENGTH_FIELD_BYTES;
        this.start = at + length;
        this.deliver(arena, at, length);
        continue;
      }
      if (length > LARGE_FRAME_BYTES) {
        const buf = Buffer.allocUnsafe(length);
        const from = this.start + FRAME_LENGTH_FIELD_BYTES;
        arena.copy(buf, 0, from, this.end);
        this.large = buf;
        this.largeFilled = available;
        this.start = this.end;
        return;
      }
      if (this.start + FRAME_LENGTH_FIELD_BYTES + length > arena.length) this.newArena();
      return;
    }
  }

  /** Moves the undelivered bytes to a fresh arena. */
  private newArena(): void {
    const pending = this.end - this.start;
    const next = Buffer.allocUnsafe(ARENA_BYTES);
    if (pending > 0) this.arena.copy(next, 0, this.start, this.end);
    this.arena = next;
    this.start = 0;
    this.end = pending;
  }

  private deliver(bytes: Buffer, start: number, length: number): void {
    const onFrame = this.onFrame;
    if (onFrame === null) {
      throw new SluiceError('PROTOCOL_ERROR', 'a frame arrived before the connection was set up');
    }
    deliverFrame(this.frame, bytes, start, length, onFrame);
  }
}
