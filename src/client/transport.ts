/**
 * What the SDK needs from the TCP layer. `RemotingClient` from `src/net` satisfies it; tests
 * may pass a fake.
 */
import type { RemotingCommand } from '../protocol/remoting-command.js';

/** Handles a request sent by a server; returns the response to send, or nothing. */
export type ServerRequestHandler = (
  request: RemotingCommand,
) => RemotingCommand | void | Promise<RemotingCommand | void>;

/** A remoting connection pool. */
export interface RemotingTransport {
  /** Sends `request` to `address` and resolves with the response, or rejects after `timeoutMs`. */
  invoke(address: string, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand>;
  /** Sends `request` to `address` without waiting for an answer. */
  invokeOneway(address: string, request: RemotingCommand): Promise<void>;
  /** Installs the handler of server→client requests with `code`. */
  registerHandler(code: number, handler: ServerRequestHandler): void;
  /** Closes every connection. */
  close(): void;
}
