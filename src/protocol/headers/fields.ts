/**
 * Typed access to a command's `extFields` (all strings on the wire). Decoders use these to turn
 * a header into a typed object; a missing or malformed required field throws
 * {@link HeaderFieldError}, whose message is meant to be sent back as the response remark.
 */
import { SluiceError } from '../../common/errors.js';

/** A request header field is missing or malformed. `code` is `PROTOCOL_ERROR`. */
export class HeaderFieldError extends SluiceError {
  /** Name of the offending field. */
  readonly field: string;

  constructor(field: string, message: string) {
    super('PROTOCOL_ERROR', message);
    this.name = 'HeaderFieldError';
    this.field = field;
  }
}

/** extFields as they arrive: string values keyed by field name. */
export type ExtFields = Record<string, string>;

const INTEGER_PATTERN = /^-?\d+$/;

function missing(name: string): HeaderFieldError {
  return new HeaderFieldError(name, `the request header field '${name}' is required but missing`);
}

/** Required string field. */
export function reqString(ext: ExtFields, name: string): string {
  const value = ext[name];
  if (value === undefined) throw missing(name);
  return value;
}

/** Optional string field. */
export function optString(ext: ExtFields, name: string): string | undefined {
  return ext[name];
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  const trimmed = value.trim();
  if (!INTEGER_PATTERN.test(trimmed)) {
    throw new HeaderFieldError(name, `header field '${name}' must be an integer, got '${value}'`);
  }
  const n = Number(trimmed);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HeaderFieldError(
      name,
      `header field '${name}' = ${trimmed} is out of range [${min}, ${max}]`,
    );
  }
  return n;
}

/** Required int32 field. */
export function reqInt(ext: ExtFields, name: string): number {
  return parseInteger(name, reqString(ext, name), -0x80000000, 0x7fffffff);
}

/** Optional int32 field. */
export function optInt(ext: ExtFields, name: string): number | undefined {
  const v = ext[name];
  return v === undefined ? undefined : parseInteger(name, v, -0x80000000, 0x7fffffff);
}

/**
 * Required int64 field as a `number`; throws when the value is not a safe integer (beyond 2^53
 * a `number` would silently lose precision).
 */
export function reqLong(ext: ExtFields, name: string): number {
  return parseInteger(name, reqString(ext, name), Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** Optional int64 field (checked like {@link reqLong}). */
export function optLong(ext: ExtFields, name: string): number | undefined {
  const v = ext[name];
  return v === undefined
    ? undefined
    : parseInteger(name, v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

function parseBool(name: string, value: string): boolean {
  const lower = value.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new HeaderFieldError(name, `header field '${name}' must be true or false, got '${value}'`);
}

/** Required boolean field (`"true"`/`"false"`). */
export function reqBool(ext: ExtFields, name: string): boolean {
  return parseBool(name, reqString(ext, name));
}

/** Optional boolean field. */
export function optBool(ext: ExtFields, name: string): boolean | undefined {
  const v = ext[name];
  return v === undefined ? undefined : parseBool(name, v);
}

/**
 * Builds extFields from a typed header: `undefined` values are left out, everything else is
 * turned into its string form.
 */
export function toExtFields(
  fields: Record<string, string | number | boolean | undefined>,
): ExtFields {
  const out: ExtFields = {};
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) out[key] = String(value);
  }
  return out;
}
