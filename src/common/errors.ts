/**
 * Typed errors shared by every layer. Each error carries a stable `code` (for programs) and a
 * message that says what happened and what to do about it (for people).
 */

/** Stable error codes. Add new ones here; never reuse or rename an existing code. */
export type SluiceErrorCode =
  | 'INVALID_ARGUMENT'
  | 'MESSAGE_ILLEGAL'
  | 'MESSAGE_TOO_LARGE'
  | 'PROPERTIES_TOO_LARGE'
  | 'TOPIC_ILLEGAL'
  | 'DISK_FULL'
  | 'FLUSH_TIMEOUT'
  | 'STORE_CLOSED'
  | 'STORE_CORRUPT'
  | 'SEGMENT_CLOSED'
  | 'NATIVE_IO'
  | 'CONFIG_INVALID'
  | 'PROTOCOL_ERROR'
  | 'FRAME_TOO_LARGE'
  | 'TIMEOUT'
  | 'CONNECTION_CLOSED'
  | 'NOT_FOUND'
  | 'BROKER_ERROR'
  | 'NO_ROUTE'
  | 'CLIENT_STATE'
  | 'FILTER_INVALID'
  | 'INVARIANT';

export class SluiceError extends Error {
  readonly code: SluiceErrorCode;

  constructor(code: SluiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceError';
    this.code = code;
  }
}

/** Throws an `INVARIANT` error when `condition` is false: a bug in Sluice, not bad input. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SluiceError('INVARIANT', `internal invariant violated: ${message}`);
}
