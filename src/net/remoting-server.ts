/**
 * `RemotingServer`: TCP listener for the remoting protocol. Accepts many connections, dispatches
 * requests to handlers registered per code, and lets the owner send responses (with zero-copy
 * body slices) and server → client requests.
 */
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SluiceError } from '../common/errors.js';
import type { RemotingCommand } from '../protocol/remoting-command.js';
import { RemotingConnection, type ConnectionOptions, type WrittenCallback } from './connection.js';
import {
  RequestDispatcher,
  type ErrorListener,
  type RequestHandler,
} from './request-dispatcher.js';

/** Options of {@link RemotingServer}. */
export interface RemotingServerOptions extends ConnectionOptions {
  /** Close connections silent for this long. Default 120 000 ms; 0 disables. */
  idleTimeoutMs?: number;
  /** Called with errors of handlers and sockets (for logging). */
  onError?: ErrorListener;
}

/** Where a server listens. */
export interface ListenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

/**
 * Remoting TCP server. Events: `'connection'` (conn) when a client connects, `'close'`
 * (conn, err?) when one goes away — use it to drop the client's registrations.
 */
export class RemotingServer extends EventEmitter {
  private readonly dispatcher = new RequestDispatcher();
  private readonly options: RemotingServerOptions;
  private readonly live = new Set<RemotingConnection>();
  private server: Server | undefined;

  constructor(options: RemotingServerOptions = {}) {
    super();
    this.options = { idleTimeoutMs: 120_000, ...options };
    this.dispatcher.onError = options.onError;
  }

  /** Registers the handler of a request code (replacing any previous one). */
  registerHandler(code: number, handler: RequestHandler): void {
    this.dispatcher.register(code, handler);
  }

  /** Handler for unregistered codes (default: answer REQUEST_CODE_NOT_SUPPORTED). */
  setDefaultHandler(handler: RequestHandler | undefined): void {
    this.dispatcher.setDefault(handler);
  }

  /** Starts listening. Resolves with the bound address (useful with port 0). */
  async listen(options: ListenOptions): Promise<{ host: string; port: number }> {
    if (this.server) throw new SluiceError('INVALID_ARGUMENT', 'the server is already listening');
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      this.server = undefined;
      throw new SluiceError(
        'CONFIG_INVALID',
        `cannot listen on ${host}:${options.port}: ${String(err)}`,
        {
          cause: err,
        },
      );
    });
    server.on('error', (err) => this.options.onError?.(err));
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  /** The bound address, or undefined before {@link listen}. */
  address(): { host: string; port: number } | undefined {
    const addr = this.server?.address();
    if (!addr || typeof addr === 'string') return undefined;
    return { host: addr.address, port: addr.port };
  }

  /** Live connections. */
  connections(): IterableIterator<RemotingConnection> {
    return this.live.values();
  }

  /**
   * Sends a command (usually a response) on `conn`; see {@link RemotingConnection.send}.
   * `onWritten` fires when the bytes are with the kernel, so mapped slices can be released.
   */
  send(
    conn: RemotingConnection,
    command: RemotingCommand,
    bodySlices?: readonly Uint8Array[],
    onWritten?: WrittenCallback,
  ): boolean {
    return conn.send(command, bodySlices, onWritten);
  }

  /** Sends a server → client request and waits for the answer (typed TIMEOUT on expiry). */
  invoke(
    conn: RemotingConnection,
    request: RemotingCommand,
    timeoutMs: number,
  ): Promise<RemotingCommand> {
    return conn.invoke(request, timeoutMs);
  }

  /** Sends a server → client request without waiting (ali-ons never answers them anyway). */
  invokeOneway(conn: RemotingConnection, request: RemotingCommand): boolean {
    return conn.invokeOneway(request);
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const conn of this.live) conn.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const conn = new RemotingConnection(socket, this.dispatcher.dispatch, this.options);
    this.live.add(conn);
    conn.once('close', (err?: Error) => {
      this.live.delete(conn);
      this.emit('close', conn, err);
    });
    this.emit('connection', conn);
  }
}
