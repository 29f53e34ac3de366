/**
 * `RemotingClient`: the client side of the remoting protocol. Keeps one connection per address
 * (opened lazily, re-opened on the next call after it closes), multiplexes requests on it by
 * opaque, and answers server → client requests through registered handlers.
 */
import { connect, type Socket } from 'node:net';
import { SluiceError } from '../common/errors.js';
import { fitsBinaryHeader } from '../protocol/binary-header.js';
import type { SerializeType } from '../protocol/frame-codec.js';
import { FrameReader } from '../protocol/frame-reader.js';
import type { RemotingCommand } from '../protocol/remoting-command.js';
import { RemotingConnection, parseAddress, type ConnectionOptions } from './connection.js';
import {
  RequestDispatcher,
  type ErrorListener,
  type RequestHandler,
} from './request-dispatcher.js';

/** Options of {@link RemotingClient}. */
export interface RemotingClientOptions extends ConnectionOptions {
  /** Give up connecting after this long. Default 3000 ms. */
  connectTimeoutMs?: number;
  /** Called with errors of server → client request handlers. */
  onError?: ErrorListener;
  /**
   * Header serialization of the requests this client sends (the server answers in kind).
   * Default: each request's own (JSON unless it was created otherwise).
   */
  serializeType?: SerializeType;
}

/**
 * Remoting client. A timeout fails only the request that timed out; the shared connection stays
 * open (unlike ali-ons, which drops it).
 */
export class RemotingClient {
  private readonly dispatcher = new RequestDispatcher();
  private readonly options: RemotingClientOptions;
  private readonly connections = new Map<string, RemotingConnection>();
  private readonly connecting = new Map<string, Promise<RemotingConnection>>();
  private closed = false;

  constructor(options: RemotingClientOptions = {}) {
    this.options = options;
    this.dispatcher.onError = options.onError;
  }

  /** Registers a handler for requests the server sends to this client (e.g. code 39, 40). */
  registerHandler(code: number, handler: RequestHandler): void {
    this.dispatcher.register(code, handler);
  }

  /**
   * Sends `request` to `address` (`host:port`) and waits for the response.
   * @throws SluiceError `TIMEOUT`, `CONNECTION_CLOSED`, or `CONNECTION_CLOSED` when the
   *   connection cannot be opened.
   */
  invoke(address: string, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    this.applySerializeType(request);
    // Fast path: the connection is open, no extra promise or clock read.
    const live = this.connections.get(address);
    if (live !== undefined && !live.closed && !this.closed) return live.invoke(request, timeoutMs);
    return this.invokeAfterConnect(address, request, timeoutMs);
  }

  private async invokeAfterConnect(
    address: string,
    request: RemotingCommand,
    timeoutMs: number,
  ): Promise<RemotingCommand> {
    const started = Date.now();
    const conn = await this.getConnection(address, timeoutMs);
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    return conn.invoke(request, left);
  }

  /** Applies the configured serialization; a code the binary header cannot hold stays in JSON. */
  private applySerializeType(request: RemotingCommand): void {
    const serializeType = this.options.serializeType;
    if (serializeType !== undefined && fitsBinaryHeader(request.code)) {
      request.serializeType = serializeType;
    }
  }

  /** Sends a one-way request (the one-way flag is set; no response is awaited). */
  async invokeOneway(address: string, request: RemotingCommand): Promise<void> {
    this.applySerializeType(request);
    const conn = await this.getConnection(address, this.options.connectTimeoutMs ?? 3000);
    conn.invokeOneway(request);
  }

  /**
   * The live connection to `address`, opening it if needed (concurrent callers share one
   * attempt).
   */
  async getConnection(address: string, timeoutMs?: number): Promise<RemotingConnection> {
    if (this.closed) throw new SluiceError('CONNECTION_CLOSED', 'the remoting client is closed');
    const live = this.connections.get(address);
    if (live && !live.closed) return live;
    let attempt = this.connecting.get(address);
    if (!attempt) {
      attempt = this.open(
        address,
        Math.min(timeoutMs ?? Infinity, this.options.connectTimeoutMs ?? 3000),
      );
      this.connecting.set(address, attempt);
      attempt.then(
        () => this.connecting.delete(address),
        () => this.connecting.delete(address),
      );
    }
    return attempt;
  }

  /** Closes the connection to one address (the next call reconnects). */
  closeConnection(address: string): void {
    this.connections.get(address)?.close();
  }

  /** Closes every connection; later calls fail with `CONNECTION_CLOSED`. */
  close(): void {
    this.closed = true;
    for (const conn of this.connections.values()) conn.close();
    this.connections.clear();
  }

  private open(address: string, timeoutMs: number): Promise<RemotingConnection> {
    const { host, port } = parseAddress(address);
    return new Promise<RemotingConnection>((resolve, reject) => {
      const reader = new FrameReader({ maxFrameBytes: this.options.maxFrameBytes });
      const socket: Socket = connect({ host, port, onread: reader.onread });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new SluiceError(
            'CONNECTION_CLOSED',
            `could not connect to ${address} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(
          new SluiceError('CONNECTION_CLOSED', `could not connect to ${address}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        if (this.closed) {
          socket.destroy();
          reject(new SluiceError('CONNECTION_CLOSED', 'the remoting client is closed'));
          return;
        }
        const conn = new RemotingConnection(socket, this.dispatcher.dispatch, {
          ...this.options,
          pauseReadingWhenBacklogged: false,
          reader,
        });
        this.connections.set(address, conn);
        conn.once('close', () => {
          if (this.connections.get(address) === conn) this.connections.delete(address);
        });
        resolve(conn);
      });
    });
  }
}
