/**
 * Routes incoming requests to handlers registered per request code and sends what they return.
 * Shared by {@link RemotingServer} (client → server requests) and {@link RemotingClient}
 * (server → client requests such as CHECK_TRANSACTION_STATE).
 */
import { SluiceError } from '../common/errors.js';
import { HeaderFieldError } from '../protocol/headers/fields.js';
import { createResponse, isOneway, type RemotingCommand } from '../protocol/remoting-command.js';
import { requestCodeName } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { RemotingConnection } from './connection.js';

/**
 * Handles one request. Return the response to send it, or nothing (or null) when there is none
 * yet: the handler then answers later itself with `conn.send(...)` (long polling, zero-copy
 * bodies) or the request was one-way. Throwing (or rejecting) answers SYSTEM_ERROR with the error's
 * message as the remark.
 */
export type RequestHandler = (
  request: RemotingCommand,
  conn: RemotingConnection,
) => RemotingCommand | null | void | Promise<RemotingCommand | null | void>;

/**
 * Receives errors worth logging: handler failures (with the request and connection) and
 * listener errors (without them).
 */
export type ErrorListener = (
  err: unknown,
  request?: RemotingCommand,
  conn?: RemotingConnection,
) => void;

/** Request-code → handler table plus the reply logic. */
export class RequestDispatcher {
  private readonly handlers = new Map<number, RequestHandler>();
  private defaultHandler: RequestHandler | undefined;
  /** Called with handler errors; by default they are only turned into responses. */
  onError: ErrorListener | undefined;

  /** Registers (or replaces) the handler of `code`. */
  register(code: number, handler: RequestHandler): void {
    this.handlers.set(code, handler);
  }

  /** Handler for codes with no registered handler (default: REQUEST_CODE_NOT_SUPPORTED). */
  setDefault(handler: RequestHandler | undefined): void {
    this.defaultHandler = handler;
  }

  /** Dispatches one request. Never throws. */
  readonly dispatch = (conn: RemotingConnection, request: RemotingCommand): void => {
    const handler = this.handlers.get(request.code) ?? this.defaultHandler;
    if (!handler) {
      if (!isOneway(request)) {
        const name = requestCodeName(request.code);
        conn.send(
          createResponse(
            request,
            ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
            `request code ${request.code}${name ? ` (${name})` : ''} is not supported by Sluice`,
          ),
        );
      }
      return;
    }
    let result: ReturnType<RequestHandler>;
    try {
      result = handler(request, conn);
    } catch (err) {
      this.fail(conn, request, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.reply(conn, request, response),
        (err: unknown) => this.fail(conn, request, err),
      );
    } else {
      this.reply(conn, request, result);
    }
  };

  private reply(
    conn: RemotingConnection,
    request: RemotingCommand,
    response: RemotingCommand | null | void,
  ): void {
    if (response && !isOneway(request)) conn.send(response);
  }

  private fail(conn: RemotingConnection, request: RemotingCommand, err: unknown): void {
    this.onError?.(err, request, conn);
    if (isOneway(request)) return;
    conn.send(createResponse(request, ResponseCode.SYSTEM_ERROR, describeError(err)));
  }
}

/** The remark sent for a failed request: the message of a Sluice error, else a generic text. */
export function describeError(err: unknown): string {
  if (err instanceof HeaderFieldError) return `bad request header: ${err.message}`;
  if (err instanceof SluiceError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `internal error: ${err.message}`;
  return `internal error: ${String(err)}`;
}
