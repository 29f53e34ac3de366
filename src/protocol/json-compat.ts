/**
 * JSON as RocketMQ (fastjson) writes it. Two departures from standard JSON occur in bodies:
 *
 * - integer map keys are written unquoted: `{"brokerAddrs":{0:"127.0.0.1:10911"}}`;
 * - maps keyed by an object (e.g. `MessageQueue` in ConsumeStats) write the key as an object:
 *   `{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{...}}}`.
 *
 * {@link parseLenientJson} accepts standard JSON plus both forms (a number key becomes its
 * decimal text; an object/array key becomes its `JSON.stringify` text). {@link stringifyCompat}
 * writes standard JSON, or the fastjson form on request.
 */
import { SluiceError } from '../common/errors.js';

function fail(text: string, pos: number, what: string): never {
  const near = text.slice(Math.max(0, pos - 20), pos + 20).replace(/\s+/g, ' ');
  throw new SluiceError('PROTOCOL_ERROR', `malformed JSON body at ${pos} (${what}) near '${near}'`);
}

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

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
    const t = this.text;
    const c = t[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    if (t.startsWith('true', this.pos)) return ((this.pos += 4), true);
    if (t.startsWith('false', this.pos)) return ((this.pos += 5), false);
    if (t.startsWith('null', this.pos)) return ((this.pos += 4), null);
    return fail(t, this.pos, 'unexpected character');
  }

  object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    while (true) {
      this.skipWs();
      const c = this.text[this.pos];
      let key: string;
      if (c === '"') key = this.string();
      else if (c === '{' || c === '[') key = JSON.stringify(this.value());
      else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) key = String(this.number());
      else return fail(this.text, this.pos, 'expected an object key');
      this.skipWs();
      if (this.text[this.pos] !== ':') fail(this.text, this.pos, "expected ':'");
      this.pos++;
      out[key] = this.value();
      this.skipWs();
      const sep = this.text[this.pos++];
      if (sep === '}') return out;
      if (sep !== ',') fail(this.text, this.pos - 1, "expected ',' or '}'");
    }
  }

  array(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    while (true) {
      out.push(this.value());
      this.skipWs();
      const sep = this.text[this.pos++];
      if (sep === ']') return out;
      if (sep !== ',') fail(this.text, this.pos - 1, "expected ',' or ']'");
    }
  }

  string(): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 1;
    let escaped = false;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c === 92) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c === 34) break;
      i++;
    }
    if (i >= t.length) fail(t, start, 'unterminated string');
    this.pos = i + 1;
    const raw = t.slice(start, i + 1);
    if (!escaped) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      return fail(t, start, 'bad string escape');
    }
  }

  number(): number {
    const t = this.text;
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(t.slice(this.pos, this.pos + 40));
    if (!m) return fail(t, this.pos, 'bad number');
    this.pos += m[0].length;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) {
      fail(t, this.pos, `integer ${m[0]} exceeds 2^53 and cannot be represented exactly`);
    }
    return n;
  }
}

/**
 * Parses standard JSON or fastjson output (unquoted integer keys, object keys).
 * @throws SluiceError `PROTOCOL_ERROR` with the position on malformed input.
 */
export function parseLenientJson(text: string | Buffer): unknown {
  const s = typeof text === 'string' ? text : text.toString('utf8');
  const p = new Parser(s);
  const v = p.value();
  p.skipWs();
  if (p.pos !== s.length) fail(s, p.pos, 'trailing characters');
  return v;
}

/** Options of {@link stringifyCompat}. */
export interface StringifyCompatOptions {
  /** Write integer-looking object keys unquoted, as fastjson does. Default false. */
  fastjsonIntegerKeys?: boolean;
}

const INTEGER_KEY = /^-?\d+$/;

/**
 * Serializes to JSON. `Map` values become objects whose keys may be strings, numbers (written
 * unquoted) or objects (written as JSON objects: fastjson's `MessageQueue`-keyed maps). With
 * `fastjsonIntegerKeys`, integer-looking keys of plain objects are also written unquoted.
 */
export function stringifyCompat(value: unknown, options: StringifyCompatOptions = {}): string {
  const unquote = options.fastjsonIntegerKeys ?? false;
  const write = (v: unknown): string | undefined => {
    if (v === null) return 'null';
    if (v instanceof Map) {
      const parts: string[] = [];
      for (const [k, item] of v) {
        const s = write(item);
        if (s === undefined) continue;
        let key: string;
        if (typeof k === 'number') key = String(k);
        else if (typeof k === 'string') key = JSON.stringify(k);
        else key = write(k) ?? 'null';
        parts.push(`${key}:${s}`);
      }
      return `{${parts.join(',')}}`;
    }
    if (Array.isArray(v)) return `[${v.map((x) => write(x) ?? 'null').join(',')}]`;
    if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64'));
    if (typeof v === 'object') {
      const parts: string[] = [];
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const s = write(item);
        if (s === undefined) continue;
        parts.push(`${unquote && INTEGER_KEY.test(k) ? k : JSON.stringify(k)}:${s}`);
      }
      return `{${parts.join(',')}}`;
    }
    if (typeof v === 'bigint') return v.toString();
    return JSON.stringify(v);
  };
  return write(value) ?? 'null';
}
