/**
 * Checked field access for parsed JSON bodies (route data, heartbeats, …). Every accessor
 * throws `PROTOCOL_ERROR` naming the offending field, so a malformed body becomes a clear
 * response remark rather than a crash deeper in.
 */
import { SluiceError } from '../common/errors.js';
import { parseLenientJson } from './json-compat.js';

/** A parsed JSON object. */
export type JsonObject = Record<string, unknown>;

/** The error for a malformed body. */
export function bodyError(what: string): SluiceError {
  return new SluiceError('PROTOCOL_ERROR', `malformed body: ${what}`);
}

/** `v` as an object, else throws. */
export function asObject(v: unknown, what: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw bodyError(`${what} is not an object`);
  }
  return v as JsonObject;
}

/** `v` as an array; `undefined`/`null` count as empty. */
export function asArray(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bodyError(`${what} is not an array`);
  return v;
}

/** Parses a non-empty body (standard or fastjson JSON) that must be an object. */
export function parseObjectBody(body: Buffer | string | undefined, what: string): JsonObject {
  if (body === undefined || body.length === 0) throw bodyError(`${what} body is empty`);
  return asObject(parseLenientJson(body), what);
}

/** String field; `fallback` when absent (required when no fallback is given). */
export function stringField(o: JsonObject, key: string, what: string, fallback?: string): string {
  const v = o[key];
  if (typeof v === 'string') return v;
  if (v === undefined && fallback !== undefined) return fallback;
  throw bodyError(`${what}.${key} is not a string`);
}

/** Safe-integer field (numbers or decimal strings). */
export function intField(o: JsonObject, key: string, what: string, fallback?: number): number {
  const v = o[key];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))) {
    return Number(v);
  }
  if (v === undefined && fallback !== undefined) return fallback;
  throw bodyError(`${what}.${key} is not an integer`);
}

/** Finite number field (numbers or numeric strings). */
export function numberField(o: JsonObject, key: string, what: string, fallback?: number): number {
  const v = o[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (v === undefined && fallback !== undefined) return fallback;
  throw bodyError(`${what}.${key} is not a number`);
}

/** Boolean field (`true`/`false` or their strings); `fallback` otherwise. */
export function boolField(o: JsonObject, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fallback;
}

/** An object whose values must all be strings; `undefined`/`null` count as empty. */
export function stringMap(v: unknown, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  for (const [k, item] of Object.entries(asObject(v, what))) {
    if (typeof item !== 'string') throw bodyError(`${what}.${k} is not a string`);
    out[k] = item;
  }
  return out;
}
