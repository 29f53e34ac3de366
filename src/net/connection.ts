/**
 * `RemotingConnection`: one TCP connection speaking the remoting protocol, used by both the
 * server and the client. It frames and decodes incoming bytes, matches responses to pending
 * requests by opaque, hands requests to a callback, writes commands (header + zero-copy body
 * slices, corked), applies back-pressure and closes itself when idle.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { SluiceError } from '../common/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, type RawFrame } from '../protocol/frame-codec.js';
import type { FrameReader } from '../protocol/frame-reader.js';
import {
  FLAG_ONEWAY,
  decodeCommand,
  isResponse,
  type RemotingCommand,
} from '../protocol/remoting-command.js';
import { OutputBatch, type WrittenCallback } from './output-batch.js';
import { PendingTable } from './pending-table.js';

/** Tuning shared by server and client connections. */
export interface ConnectionOptions {
  /** Largest accepted incoming frame. Default 16 MiB. */
  maxFrameBytes?: number;
  /**
   * Stop reading from the socket while more than this many bytes wait in its write buffer;
   * resume on 'drain'. Default 4 MiB.
   */
  highWaterMarkBytes?: number;
  /** Close the connection after this long without traffic; 0 disables. Default 0. */
  idleTimeoutMs?: number;
  /**
   * Apply back-pressure by pausing reads (default true: a server stops taking requests from a
   * peer that does not read its responses). Clients pass false: a client that stopped reading
   * responses while its requests back up would deadlock with a server doing the same.
   */
  pauseReadingWhenBacklogged?: boolean;
  /**
   * The frame reader the socket was created with (`net.connect({ onread: reader.onread })`):
   * reads then land in the reader's buffers instead of arriving as 'data' chunks.
   */
  reader?: FrameReader;
}

/** Called with each incoming request (not responses). */
export type IncomingRequestListener = (conn: RemotingConnection, request: RemotingCommand) => void;

export type { WrittenCallback } from './output-batch.js';

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  /** `Date.now()` after which the request fails with TIMEOUT. */
  deadlineMs: number;
  /** Request code, for the timeout message. */
  code: number;
  timeoutMs: number;
}

/** Default back-pressure threshold. */
export const DEFAULT_HIGH_WATER_MARK_BYTES = 4 * 1024 * 1024;

let nextConnectionId = 1;

/**
 * A remoting connection. Emits `'close'` (with the error that caused it, if any) exactly once.
 */
export class RemotingConnection extends EventEmitter {
  /** Process-unique id, handy as a map key. */
  readonly id = nextConnectionId++;
  /** Peer address as `host:port`. */
  readonly remoteAddress: string;
  /** Free slot for the owner (e.g. the broker's client record). */
  context: unknown = undefined;

  private readonly socket: Socket;
  /** Decodes 'data' chunks (sockets without a {@link ConnectionOptions.reader}). */
  private readonly decoder: FrameDecoder | null;
  private readonly pending = new PendingTable<Pending>();
  private readonly highWaterMarkBytes: number;
  private readonly onRequest: IncomingRequestListener;
  private pausedForBackPressure = false;
  private closedFlag = false;
  /** What this turn of the event loop writes; leaves in one socket write after the poll phase. */
  private readonly output: OutputBatch;
  /** One timer for every pending request: armed at the earliest deadline. */
  private timeoutTimer: NodeJS.Timeout | undefined;
  private timeoutTimerDueMs = Infinity;

  /**
   * @param socket a connected socket; the connection owns it from now on.
   * @param onRequest receives each incoming request.
   */
  constructor(socket: Socket, onRequest: IncomingRequestListener, options: ConnectionOptions = {}) {
    super();
    this.socket = socket;
    this.onRequest = onRequest;
    this.highWaterMarkBytes =
      options.pauseReadingWhenBacklogged === false
        ? Infinity
        : (options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES);
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    const reader = options.reader;
    if (reader === undefined) {
      this.decoder = new FrameDecoder(this.handleFrame, {
        maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      });
      socket.on('data', this.handleData);
    } else {
      this.decoder = null;
      reader.attach(this.handleFrame, (err) => this.destroy(err));
    }
    this.output = new OutputBatch(socket, this.checkBackPressure);
    socket.setNoDelay(true);
    const idle = options.idleTimeoutMs ?? 0;
    if (idle > 0) {
      socket.setTimeout(idle, () => {
        this.destroy(
          new SluiceError('CONNECTION_CLOSED', `connection idle for ${idle} ms, closed`),
        );
      });
    }
    socket.on('drain', this.handleDrain);
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.finish(undefined));
  }

  /** True once the connection is closed or closing. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Requests sent on this connection still waiting for their response. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** True while reading is paused because the write buffer is above the high-water mark. */
  get readingPaused(): boolean {
    return this.pausedForBackPressure;
  }

  /** Bytes waiting in the socket's write buffer. */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  /**
   * Writes `cmd` (at the end of this turn of the event loop, batched with everything else this
   * connection writes). The body is `bodySlices` when given (`cmd.body` is then ignored), else
   * `cmd.body`; slices and large bodies are written as they are, small bodies copied.
   * `onWritten` fires once the bytes were handed to the kernel, or with an error if the
   * connection closed first: the caller may then release the slices.
   * @returns false when the connection is already closed (`onWritten` still fires, with an error).
   */
  send(
    cmd: RemotingCommand,
    bodySlices?: readonly Uint8Array[],
    onWritten?: WrittenCallback,
  ): boolean {
    if (this.closedFlag) {
      if (onWritten) {
        const err = new SluiceError(
          'CONNECTION_CLOSED',
          `connection to ${this.remoteAddress} is closed`,
        );
        queueMicrotask(() => onWritten(err));
      }
      return false;
    }
    this.output.add(cmd, bodySlices, onWritten);
    return true;
  }

  /** After each flush: stop reading while the peer does not take our output. */
  private readonly checkBackPressure = (): void => {
    const socket = this.socket;
    if (!this.pausedForBackPressure && socket.writableLength > this.highWaterMarkBytes) {
      this.pausedForBackPressure = true;
      socket.pause();
    }
  };

  /**
   * Sends a request and waits for its response.
   * @throws SluiceError `TIMEOUT` after `timeoutMs` (the connection stays open; a late response
   *   is dropped), `CONNECTION_CLOSED` if the connection closes first.
   */
  invoke(request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.closedFlag) {
      return Promise.reject(
        new SluiceError('CONNECTION_CLOSED', `connection to ${this.remoteAddress} is closed`),
      );
    }
    return new Promise<RemotingCommand>((resolve, reject) => {
      const deadlineMs = Date.now() + timeoutMs;
      // Field by field, not a literal: see createRequest() in protocol/remoting-command.ts.
      const p = {} as Pending;
      p.resolve = resolve;
      p.reject = reject;
      p.deadlineMs = deadlineMs;
      p.code = request.code;
      p.timeoutMs = timeoutMs;
      this.pending.set(request.opaque, p);
      if (deadlineMs < this.timeoutTimerDueMs) this.armTimeoutTimer(deadlineMs);
      this.send(request);
    });
  }

  private armTimeoutTimer(dueMs: number): void {
    if (this.timeoutTimer !== undefined) clearTimeout(this.timeoutTimer);
    this.timeoutTimerDueMs = dueMs;
    this.timeoutTimer = setTimeout(this.expirePending, Math.max(0, dueMs - Date.now()));
  }

  /** Fails the requests whose deadline passed and re-arms the timer for the next deadline. */
  private readonly expirePending = (): void => {
    this.timeoutTimer = undefined;
    this.timeoutTimerDueMs = Infinity;
    const now = Date.now();
    let next = Infinity;
    const expired: number[] = [];
    this.pending.forEach((p, opaque) => {
      if (p.deadlineMs <= now) expired.push(opaque);
      else if (p.deadlineMs < next) next = p.deadlineMs;
    });
    for (const opaque of expired) {
      const p = this.pending.take(opaque)!;
      p.reject(
        new SluiceError(
          'TIMEOUT',
          `no response from ${this.remoteAddress} to request code ${p.code} (opaque ${opaque}) within ${p.timeoutMs} ms`,
        ),
      );
    }
    if (next !== Infinity && !this.closedFlag) this.armTimeoutTimer(next);
  };

  /** Sends a request with the one-way flag; no response is expected. */
  invokeOneway(request: RemotingCommand): boolean {
    request.flag |= FLAG_ONEWAY;
    return this.send(request);
  }

  /** Closes the connection, failing pending requests with `CONNECTION_CLOSED`. */
  close(): void {
    this.destroy(undefined);
  }

  private destroy(err: Error | undefined): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.finish(err);
  }

  private finish(err: Error | undefined): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (this.timeoutTimer !== undefined) clearTimeout(this.timeoutTimer);
    this.timeoutTimer = undefined;
    this.timeoutTimerDueMs = Infinity;
    const pending = this.pending;
    const failed: [number, Pending][] = [];
    pending.forEach((p, opaque) => failed.push([opaque, p]));
    pending.clear();
    for (const [opaque, p] of failed) {
      p.reject(
        new SluiceError(
          'CONNECTION_CLOSED',
          `connection to ${this.remoteAddress} closed before the response to opaque ${opaque} arrived`,
          { cause: err },
        ),
      );
    }
    this.emit('close', err);
  }

  private readonly handleData = (chunk: Buffer): void => {
    if (this.closedFlag) return;
    try {
      this.decoder!.push(chunk);
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  };

  private readonly handleDrain = (): void => {
    if (this.pausedForBackPressure && !this.closedFlag) {
      this.pausedForBackPressure = false;
      this.socket.resume();
    }
  };

  private readonly handleFrame = (frame: RawFrame): void => {
    if (this.closedFlag) return;
    const cmd = decodeCommand(frame);
    if (isResponse(cmd)) {
      const p = this.pending.take(cmd.opaque);
      if (p) p.resolve(cmd);
      return;
    }
    this.onRequest(this, cmd);
  };
}

/** Formats an address as `host:port` (`[v6]:port` for IPv6). */
export function formatAddress(host: string | undefined, port: number | undefined): string {
  const h = host ?? 'unknown';
  return h.includes(':') ? `[${h}]:${port ?? 0}` : `${h}:${port ?? 0}`;
}

/**
 * Splits `host:port` (or `[v6]:port`).
 * @throws SluiceError `INVALID_ARGUMENT` when the port is missing or invalid.
 */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535 || host.length === 0) {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      `'${address}' is not a valid address; use host:port, e.g. 127.0.0.1:9876`,
    );
  }
  return { host, port };
}
