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

/**
 * Parses a decimal integer field. Plain digits (the usual case) are summed char by char without
 * allocating; anything else (spaces, a plus sign, leading zeros with signs...) takes the checked
 * slow path with the same result and errors.
 */
function parseInteger(name: string, value: string, min: number, max: number): number {
  const length = value.length;
  if (length > 0 && length <= 15) {
    let i = value.charCodeAt(0) === 45 ? 1 : 0;
    if (i < length) {
      let n = 0;
      for (; i < length; i++) {
        const digit = value.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) break;
        n = n * 10 + digit;
      }
      if (i === length) {
        if (value.charCodeAt(0) === 45) n = -n;
        if (n >= min && n <= max) return n;
      }
    }
  }
  return parseIntegerSlow(name, value, min, max);
}

function parseIntegerSlow(name: string, value: string, min: number, max: number): number {
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

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Required string value of field `name` (already looked up). */
export function reqStringValue(name: string, value: string | undefined): string {
  if (value === undefined) throw missing(name);
  return value;
}

/** Optional int32 value of field `name` (already looked up). */
export function intValue(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseInteger(name, value, INT32_MIN, INT32_MAX);
}

/** Required int32 value of field `name` (already looked up). */
export function reqIntValue(name: string, value: string | undefined): number {
  return parseInteger(name, reqStringValue(name, value), INT32_MIN, INT32_MAX);
}

/** Optional int64 value of field `name`, checked to be a safe integer. */
export function longValue(name: string, value: string | undefined): number | undefined {
  return value === undefined
    ? undefined
    : parseInteger(name, value, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** Required int64 value of field `name`, checked to be a safe integer. */
export function reqLongValue(name: string, value: string | undefined): number {
  return parseInteger(
    name,
    reqStringValue(name, value),
    Number.MIN_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
  );
}

/** Optional boolean value of field `name` (`"true"`/`"false"`, any case). */
export function boolValue(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'false') return false;
  if (value === 'true') return true;
  return parseBool(name, value);
}

/** Required int32 field. */
export function reqInt(ext: ExtFields, name: string): number {
  return reqIntValue(name, ext[name]);
}

/** Optional int32 field. */
export function optInt(ext: ExtFields, name: string): number | undefined {
  return intValue(name, ext[name]);
}

/**
 * Required int64 field as a `number`; throws when the value is not a safe integer (beyond 2^53
 * a `number` would silently lose precision).
 */
export function reqLong(ext: ExtFields, name: string): number {
  return reqLongValue(name, ext[name]);
}

/** Optional int64 field (checked like {@link reqLong}). */
export function optLong(ext: ExtFields, name: string): number | undefined {
  return longValue(name, ext[name]);
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
  return boolValue(name, ext[name]);
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
