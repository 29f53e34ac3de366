/**
 * `OutputBatch`: everything one connection writes during one turn of the event loop leaves in
 * one socket write. Frame heads and small bodies are encoded or copied straight into a shared
 * slab buffer, back to back; large bodies and body slices (mapped CommitLog memory) are queued
 * as chunks of their own, in order, never copied. At `process.nextTick` (after the read or
 * timer callback that produced the output) the batch hands the socket one buffer (`write`) or,
 * with separate chunks, all of them corked (one `writev`).
 *
 * Compared with one `socket.write` per head and body, this saves the stream bookkeeping of every
 * write (a buffered-request object, a callback) and the allocation of a Buffer per frame head;
 * it matters most in the client (pipelined sends: ~1.0 -> ~0.85 client CPU-s per 100k).
 * Flushing in the check phase (`setImmediate`) instead, after every read of the poll phase,
 * looked cheaper per message but holds every response back for the rest of the poll phase:
 * bench:e2e, same box and build otherwise, two runs each — pipelined sends 55k/60k (check
 * phase) vs 92k/95k msgs/s (nextTick), batched 153k/189k vs 226k/233k, consume 456k/467k vs
 * 492k/517k. Copying single-record slices (<= 2 KiB) into the slab was no better than writing
 * them as chunks (0.30/0.39 vs 0.28/0.21 broker CPU-s per 100k pulled messages).
 *
 * Slab memory is never reused: a flushed region stays with the socket until written, and the
 * next region starts after it; a full slab is dropped (collected once its writes are done) and
 * a fresh one allocated.
 */
import type { Socket } from 'node:net';
import { SerializeType } from '../protocol/frame-codec.js';
import { copyPreparedJsonFrameHead, prepareJsonFrameHead } from '../protocol/json-header-writer.js';
import type { RemotingCommand } from '../protocol/remoting-command.js';
import { copyPreparedBinaryFrameHead, prepareBinaryFrameHead } from '../protocol/binary-header.js';

/** Callback fired when a command's bytes were handed to the kernel (or failed). */
export type WrittenCallback = (err?: Error | null) => void;

/** Size of a fresh slab. */
const SLAB_BYTES = 256 * 1024;
/** Bodies up to this size are copied into the slab; larger ones are written as they are. */
export const COPY_BODY_MAX_BYTES = 4 * 1024;

/** One connection's pending output for the current turn of the event loop. */
export class OutputBatch {
  private readonly socket: Socket;
  private readonly afterFlush: () => void;
  private slab = Buffer.allocUnsafe(0);
  /** Start of the slab region not yet queued as a chunk. */
  private regionStart = 0;
  /** Write position in the slab. */
  private slabPos = 0;
  /** Chunks queued this turn, in order (slab regions, large bodies, slices). */
  private readonly chunks: Uint8Array[] = [];
  /** Callbacks of the commands queued this turn. */
  private callbacks: WrittenCallback[] = [];
  private scheduled = false;

  /**
   * @param socket where the batch goes.
   * @param afterFlush called after each flush (the owner checks back-pressure there).
   */
  constructor(socket: Socket, afterFlush: () => void) {
    this.socket = socket;
    this.afterFlush = afterFlush;
  }

  /**
   * Queues `cmd` for the end of this turn of the event loop. The body is `bodySlices` when
   * given (never copied; `cmd.body` is then ignored), else `cmd.body` (copied when small).
   * @param onWritten fires when the bytes are with the kernel, or with the write error.
   */
  add(cmd: RemotingCommand, bodySlices?: readonly Uint8Array[], onWritten?: WrittenCallback): void {
    let bodyBytes = 0;
    if (bodySlices) for (let i = 0; i < bodySlices.length; i++) bodyBytes += bodySlices[i]!.length;
    else if (cmd.body) bodyBytes = cmd.body.length;
    const body = bodySlices === undefined && bodyBytes > 0 ? cmd.body : undefined;
    const copyBody = body !== undefined && bodyBytes <= COPY_BODY_MAX_BYTES;
    let at: number;
    let headBytes: number;
    if (cmd.serializeType === SerializeType.JSON) {
      headBytes = prepareJsonFrameHead(cmd);
      at = this.reserve(headBytes + (copyBody ? bodyBytes : 0));
      copyPreparedJsonFrameHead(cmd, bodyBytes, this.slab, at);
    } else {
      headBytes = prepareBinaryFrameHead(cmd);
      at = this.reserve(headBytes + (copyBody ? bodyBytes : 0));
      copyPreparedBinaryFrameHead(bodyBytes, this.slab, at);
    }
    if (copyBody) this.slab.set(body, at + headBytes);
    else if (body !== undefined) this.pushChunk(body);
    if (bodySlices) for (let i = 0; i < bodySlices.length; i++) this.pushChunk(bodySlices[i]!);
    if (onWritten) this.callbacks.push(onWritten);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Returns the slab offset of `bytes` reserved bytes, starting a new slab when needed. */
  private reserve(bytes: number): number {
    if (this.slabPos + bytes > this.slab.length) {
      this.closeRegion();
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes));
      this.regionStart = 0;
      this.slabPos = 0;
    }
    const at = this.slabPos;
    this.slabPos += bytes;
    return at;
  }

  /** Queues the slab bytes written since the last chunk as a chunk. */
  private closeRegion(): void {
    if (this.slabPos > this.regionStart) {
      this.chunks.push(this.slab.subarray(this.regionStart, this.slabPos));
      this.regionStart = this.slabPos;
    }
  }

  private pushChunk(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.closeRegion();
    this.chunks.push(chunk);
  }

  /** Writes what this turn queued: one write, or several corked into one writev. */
  private readonly flush = (): void => {
    this.scheduled = false;
    this.closeRegion();
    const chunks = this.chunks;
    const callbacks = this.callbacks;
    this.callbacks = [];
    const done = callbacks.length === 0 ? undefined : callbackOf(callbacks);
    const socket = this.socket;
    if (socket.destroyed) {
      chunks.length = 0;
      if (done) done(new Error('the connection closed before the data was written'));
      return;
    }
    if (chunks.length === 1) {
      socket.write(chunks[0]!, done);
    } else if (chunks.length > 1) {
      socket.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) socket.write(chunks[i]!);
      socket.write(chunks[last]!, done);
      socket.uncork();
    } else if (done) {
      done();
    }
    chunks.length = 0;
    this.afterFlush();
  };
}

/** One write callback that calls every command's callback (one closure per flush). */
function callbackOf(callbacks: WrittenCallback[]): WrittenCallback {
  if (callbacks.length === 1) return callbacks[0]!;
  return (err) => {
    for (let i = 0; i < callbacks.length; i++) callbacks[i]!(err);
  };
}
