/**
 * Errors raised by the client SDK. A broker or name server that answers with a failure code is
 * reported as {@link MQClientError} with code `BROKER_ERROR`, the numeric response code and the
 * server's remark, so programs can branch on `responseCode` and people can read the remark.
 */
import { SluiceError, type SluiceErrorCode } from '../common/errors.js';

/** Extra context attached to an {@link MQClientError}. */
export interface MQClientErrorDetails {
  /** Response code the server answered with, when the error came from a server. */
  responseCode?: number;
  /** The server's remark (its error text), when it sent one. */
  remark?: string;
  /** Address (`host:port`) of the server involved, when known. */
  addr?: string;
  /** Underlying error. */
  cause?: unknown;
}

/** An error raised by the Sluice client (Producer, consumers, Admin). */
export class MQClientError extends SluiceError {
  /** Response code the server answered with (`undefined` for local or network errors). */
  readonly responseCode: number | undefined;
  /** The server's remark, verbatim. */
  readonly remark: string | undefined;
  /** Server address involved, when known. */
  readonly addr: string | undefined;

  constructor(code: SluiceErrorCode, message: string, details: MQClientErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MQClientError';
    this.responseCode = details.responseCode;
    this.remark = details.remark;
    this.addr = details.addr;
  }
}

/**
 * Builds the error for a server answer with an unexpected response code.
 * @param operation what the client was doing, e.g. `"send to TopicA"`.
 */
export function responseError(
  operation: string,
  addr: string,
  responseCode: number,
  remark: string | undefined,
): MQClientError {
  const text = remark ? `: ${remark}` : '';
  return new MQClientError(
    'BROKER_ERROR',
    `${operation} failed at ${addr} with response code ${responseCode}${text}`,
    { responseCode, remark, addr },
  );
}

/** Wraps any error thrown by the transport (timeouts, closed connections) with context. */
export function wrapTransportError(operation: string, addr: string, err: unknown): MQClientError {
  if (err instanceof MQClientError) return err;
  const code: SluiceErrorCode =
    err instanceof SluiceError &&
    (err.code === 'TIMEOUT' || err.code === 'CONNECTION_CLOSED' || err.code === 'PROTOCOL_ERROR')
      ? err.code
      : 'CONNECTION_CLOSED';
  const text = err instanceof Error ? err.message : String(err);
  return new MQClientError(code, `${operation} via ${addr} failed: ${text}`, { addr, cause: err });
}
