/**
 * A tolerant JSON reader for bodies from Java RocketMQ servers. fastjson writes maps with
 * non-string keys as-is: `{0:"127.0.0.1:10911"}` (integer keys) and
 * `{{"brokerName":"b","queueId":0,"topic":"T"}:{…}}` (object keys, e.g. topic stats). Standard
 * JSON is a subset, so Sluice's own bodies parse too.
 *
 * Non-string keys become strings: numbers as their decimal text, objects/arrays as their
 * canonical `JSON.stringify` text (parse them back with {@link parseKeyObject}). Integers beyond
 * 2^53 are rejected rather than silently rounded.
 */
import { SluiceError } from '../common/errors.js';

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new SluiceError(
      'PROTOCOL_ERROR',
      `malformed JSON body at character ${this.pos}: ${what}`,
    );
  }

  skipWs(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  value(): unknown {
    this.skipWs();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't' && this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (c === 'f' && this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (c === 'n' && this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    return this.fail(`unexpected ${c === undefined ? 'end' : `'${c}'`}`);
  }

  number(): number {
    const m = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const found = m.exec(this.text);
    if (!found) return this.fail('bad number');
    this.pos += found[0].length;
    const n = Number(found[0]);
    if (found[1] === undefined && found[2] === undefined && !Number.isSafeInteger(n)) {
      this.fail(`integer ${found[0]} does not fit in 2^53`);
    }
    return n;
  }

  string(): string {
    const start = this.pos;
    const t = this.text;
    let i = start + 1;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) i++;
      i++;
    }
    if (i >= t.length) this.fail('unterminated string');
    this.pos = i + 1;
    return JSON.parse(t.slice(start, i + 1)) as string;
  }

  key(): string {
    this.skipWs();
    const c = this.text[this.pos];
    if (c === '"') return this.string();
    const v = this.value();
    return typeof v === 'object' && v !== null ? canonicalJson(v) : String(v);
  }

  object(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      const k = this.key();
      this.skipWs();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      out[k] = this.value();
      this.skipWs();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
  }

  array(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipWs();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }
}

/** JSON text with object keys sorted, so equal objects give equal keys. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Parses a JSON body that may use fastjson's non-string map keys.
 * @throws SluiceError `PROTOCOL_ERROR` on malformed text.
 */
export function parseRelaxedJson(input: string | Uint8Array | undefined): unknown {
  if (input === undefined) return undefined;
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  const reader = new Reader(text);
  const value = reader.value();
  reader.skipWs();
  if (reader.pos !== text.length) reader.fail('trailing characters');
  return value;
}

/** Parses a map key produced from an object key, or `undefined` if it is not JSON. */
export function parseKeyObject(key: string): Record<string, unknown> | undefined {
  if (!key.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(key) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
