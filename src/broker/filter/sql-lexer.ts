/**
 * Tokens of SQL92 subscription expressions (RocketMQ's property filter dialect):
 * identifiers (`[A-Za-z_$][A-Za-z0-9_$.]*`), keywords (case-insensitive AND OR NOT IN IS NULL
 * BETWEEN TRUE FALSE), string literals in single quotes (`''` escapes a quote), numbers
 * (`12`, `-3`, `1.5`, `2e3`), comparison operators `= <> != < <= > >=`, parentheses and commas.
 */
import { SluiceError } from '../../common/errors.js';

/** Longest expression accepted (characters). */
export const SQL_MAX_LENGTH = 4096;

/** Token kinds. */
export type SqlTokenKind =
  | 'ident'
  | 'string'
  | 'number'
  | 'op'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'AND'
  | 'OR'
  | 'NOT'
  | 'IN'
  | 'IS'
  | 'NULL'
  | 'BETWEEN'
  | 'TRUE'
  | 'FALSE'
  | 'eof';

/** One token; `pos` is its 0-based character position in the expression. */
export interface SqlToken {
  kind: SqlTokenKind;
  /** Identifier name, string value, operator text or number text. */
  text: string;
  /** Numeric value of number tokens. */
  value: number;
  pos: number;
}

const KEYWORDS: ReadonlySet<string> = new Set([
  'AND',
  'OR',
  'NOT',
  'IN',
  'IS',
  'NULL',
  'BETWEEN',
  'TRUE',
  'FALSE',
]);

/** A syntax error in a filter expression, with the character position it was found at. */
export class SqlFilterError extends SluiceError {
  /** 0-based character position. */
  readonly position: number;

  constructor(message: string, position: number) {
    super('FILTER_INVALID', `SQL92 filter error at position ${position}: ${message}`);
    this.name = 'SqlFilterError';
    this.position = position;
  }
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 46;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** End index of the number literal starting at `i` (digits, fraction, exponent, type suffix). */
function scanNumber(text: string, i: number): number {
  const n = text.length;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  if (i < n && text.charCodeAt(i) === 46) {
    i++;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
  }
  if (i < n && (text.charCodeAt(i) === 101 || text.charCodeAt(i) === 69)) {
    let j = i + 1;
    if (j < n && (text.charCodeAt(j) === 43 || text.charCodeAt(j) === 45)) j++;
    if (j < n && isDigit(text.charCodeAt(j))) {
      i = j;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
    }
  }
  // A Java type suffix (L, D, F) is accepted and ignored.
  if (i < n && 'lLdDfF'.includes(text[i]!)) i++;
  if (i < n && isIdentStart(text.charCodeAt(i))) {
    throw new SqlFilterError(`unexpected character '${text[i]}' after a number`, i);
  }
  return i;
}

/** Text (without type suffix), position and value of the number in `[start, end)`. */
function numberToken(text: string, start: number, end: number): [string, number, number] {
  let numText = text.slice(start, end);
  if ('lLdDfF'.includes(numText[numText.length - 1]!)) numText = numText.slice(0, -1);
  const value = Number(numText);
  if (!Number.isFinite(value)) throw new SqlFilterError(`bad number "${numText}"`, start);
  return [numText, start, value];
}

/** Splits an expression into tokens (the last one is `eof`). */
export function tokenizeSql(text: string): SqlToken[] {
  if (typeof text !== 'string') throw new SqlFilterError('the expression is not a string', 0);
  if (text.length > SQL_MAX_LENGTH) {
    throw new SqlFilterError(`the expression is longer than ${SQL_MAX_LENGTH} characters`, 0);
  }
  const out: SqlToken[] = [];
  let i = 0;
  const n = text.length;
  const push = (kind: SqlTokenKind, t: string, pos: number, value = 0): void => {
    out.push({ kind, text: t, value, pos });
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      const word = text.slice(start, i);
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) push(upper as SqlTokenKind, upper, start);
      else push('ident', word, start);
      continue;
    }
    if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(text.charCodeAt(i + 1)))) {
      i = scanNumber(text, i);
      push('number', ...numberToken(text, start, i));
      continue;
    }
    if (c === 39) {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new SqlFilterError('unterminated string literal', start);
        const q = text.indexOf("'", i);
        if (q < 0) throw new SqlFilterError('unterminated string literal', start);
        value += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 39) {
          value += "'";
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      push('string', value, start);
      continue;
    }
    if (c === 40) {
      push('lparen', '(', start);
      i++;
      continue;
    }
    if (c === 41) {
      push('rparen', ')', start);
      i++;
      continue;
    }
    if (c === 44) {
      push('comma', ',', start);
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '<>' || two === '!=' || two === '<=' || two === '>=' || two === '==') {
      push('op', two === '!=' ? '<>' : two === '==' ? '=' : two, start);
      i += 2;
      continue;
    }
    if (c === 61 || c === 60 || c === 62) {
      push('op', text[i]!, start);
      i++;
      continue;
    }
    if (c === 45 || c === 43) {
      // A sign belongs to the number that follows (e.g. `a > -5`).
      let j = i + 1;
      while (j < n && text.charCodeAt(j) === 32) j++;
      const d = j < n ? text.charCodeAt(j) : 0;
      if (isDigit(d) || (d === 46 && j + 1 < n && isDigit(text.charCodeAt(j + 1)))) {
        i = scanNumber(text, j);
        const [numText, , value] = numberToken(text, j, i);
        push('number', (c === 45 ? '-' : '') + numText, start, c === 45 ? -value : value);
        continue;
      }
      throw new SqlFilterError(`'${text[i]}' must be followed by a number`, start);
    }
    throw new SqlFilterError(`unexpected character '${text[i]}'`, start);
  }
  push('eof', '', n);
  return out;
}
