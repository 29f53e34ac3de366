/**
 * Small helpers over node:http for the dashboard server: JSON answers, JSON request bodies with
 * a size limit, and an error type carrying the HTTP status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../common/errors.js';

/** Largest JSON request body accepted. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** An error answered with `status` and `{error: message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Writes `value` as JSON. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answers an error: HttpError keeps its status, SluiceError NOT_FOUND is 404, others 400/500. */
export function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) {
    sendJson(res, error.status, { error: error.message });
    return;
  }
  if (error instanceof SluiceError) {
    const status =
      error.code === 'NOT_FOUND'
        ? 404
        : error.code === 'INVALID_ARGUMENT' || error.code === 'TOPIC_ILLEGAL'
          ? 400
          : 502;
    sendJson(res, status, { error: `${error.code}: ${error.message}` });
    return;
  }
  sendJson(res, 500, { error: (error as Error)?.message ?? String(error) });
}

/** Reads a JSON object body (content-type must be application/json). */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new HttpError(415, 'send the request body as application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** A required string field of a JSON body or query. */
export function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new HttpError(400, `'${name}' is required (a non-empty string)`);
  }
  return value;
}

/** An optional integer field (number or numeric string). */
export function optionalInt(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new HttpError(400, `'${name}' must be an integer`);
  return n;
}
