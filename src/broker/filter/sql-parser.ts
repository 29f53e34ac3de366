/**
 * Recursive-descent parser of SQL92 subscription expressions into a small AST.
 *
 * ```
 * expr       := and (OR and)*
 * and        := not (AND not)*
 * not        := NOT not | primary
 * primary    := '(' expr ')' | predicate
 * predicate  := value ( op value
 *                     | IS [NOT] NULL
 *                     | [NOT] BETWEEN value AND value
 *                     | [NOT] IN '(' literal (',' literal)* ')' )?
 * value      := identifier | string | number | TRUE | FALSE
 * op         := = | <> | != | < | <= | > | >=
 * ```
 * A bare value is a predicate only when it is TRUE, FALSE or an identifier (whose value must be
 * the string `true`). Errors are {@link SqlFilterError}s naming the character position.
 */
import { SqlFilterError, tokenizeSql, type SqlToken, type SqlTokenKind } from './sql-lexer.js';

export { SqlFilterError } from './sql-lexer.js';

/** Deepest nesting of parentheses / NOTs accepted. */
export const SQL_MAX_DEPTH = 64;

/** A value in an expression. */
export type SqlValue =
  | { kind: 'prop'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean };

/** Comparison operators. */
export type SqlCompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** A parsed expression. */
export type SqlExpr =
  | { kind: 'and'; left: SqlExpr; right: SqlExpr }
  | { kind: 'or'; left: SqlExpr; right: SqlExpr }
  | { kind: 'not'; expr: SqlExpr }
  | { kind: 'compare'; op: SqlCompareOp; left: SqlValue; right: SqlValue }
  | { kind: 'isNull'; value: SqlValue; negated: boolean }
  | { kind: 'between'; value: SqlValue; low: SqlValue; high: SqlValue; negated: boolean }
  | { kind: 'in'; value: SqlValue; list: SqlValue[]; negated: boolean }
  | { kind: 'value'; value: SqlValue };

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: SqlToken[]) {}

  private peek(): SqlToken {
    return this.tokens[this.i]!;
  }

  private next(): SqlToken {
    const t = this.tokens[this.i]!;
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private accept(kind: SqlTokenKind): boolean {
    if (this.peek().kind !== kind) return false;
    this.i++;
    return true;
  }

  private expect(kind: SqlTokenKind, what: string): SqlToken {
    const t = this.peek();
    if (t.kind !== kind) throw new SqlFilterError(`expected ${what}, found ${describe(t)}`, t.pos);
    this.i++;
    return t;
  }

  parse(): SqlExpr {
    const expr = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') {
      throw new SqlFilterError(`unexpected ${describe(t)} after a complete expression`, t.pos);
    }
    return expr;
  }

  private enter(pos: number): void {
    if (++this.depth > SQL_MAX_DEPTH) {
      throw new SqlFilterError(`the expression nests deeper than ${SQL_MAX_DEPTH} levels`, pos);
    }
  }

  private or(): SqlExpr {
    let left = this.and();
    while (this.accept('OR')) left = { kind: 'or', left, right: this.and() };
    return left;
  }

  private and(): SqlExpr {
    let left = this.not();
    while (this.accept('AND')) left = { kind: 'and', left, right: this.not() };
    return left;
  }

  private not(): SqlExpr {
    const t = this.peek();
    if (t.kind === 'NOT') {
      this.i++;
      this.enter(t.pos);
      const expr: SqlExpr = { kind: 'not', expr: this.not() };
      this.depth--;
      return expr;
    }
    return this.primary();
  }

  private primary(): SqlExpr {
    const t = this.peek();
    if (t.kind === 'lparen') {
      this.i++;
      this.enter(t.pos);
      const expr = this.or();
      this.depth--;
      this.expect('rparen', "')'");
      return expr;
    }
    return this.predicate();
  }

  private value(): SqlValue {
    const t = this.next();
    switch (t.kind) {
      case 'ident':
        return { kind: 'prop', name: t.text };
      case 'string':
        return { kind: 'string', value: t.text };
      case 'number':
        return { kind: 'number', value: t.value };
      case 'TRUE':
        return { kind: 'bool', value: true };
      case 'FALSE':
        return { kind: 'bool', value: false };
      default:
        throw new SqlFilterError(
          `expected a property name or a literal, found ${describe(t)}`,
          t.pos,
        );
    }
  }

  private literal(): SqlValue {
    const t = this.peek();
    const v = this.value();
    if (v.kind === 'prop') {
      throw new SqlFilterError(`IN lists hold literals only, found property ${t.text}`, t.pos);
    }
    return v;
  }

  private predicate(): SqlExpr {
    const start = this.peek();
    const value = this.value();
    const t = this.peek();
    if (t.kind === 'op') {
      this.i++;
      return { kind: 'compare', op: t.text as SqlCompareOp, left: value, right: this.value() };
    }
    if (t.kind === 'IS') {
      this.i++;
      const negated = this.accept('NOT');
      this.expect('NULL', 'NULL after IS');
      return { kind: 'isNull', value, negated };
    }
    let negated = false;
    if (t.kind === 'NOT') {
      const after = this.tokens[this.i + 1]!;
      if (after.kind !== 'BETWEEN' && after.kind !== 'IN') {
        throw new SqlFilterError(
          `expected BETWEEN or IN after NOT, found ${describe(after)}`,
          after.pos,
        );
      }
      this.i++;
      negated = true;
    }
    if (this.accept('BETWEEN')) {
      const low = this.value();
      this.expect('AND', 'AND between the BETWEEN bounds');
      const high = this.value();
      return { kind: 'between', value, low, high, negated };
    }
    if (this.accept('IN')) {
      this.expect('lparen', "'(' after IN");
      const list: SqlValue[] = [this.literal()];
      while (this.accept('comma')) list.push(this.literal());
      this.expect('rparen', "')' closing the IN list");
      return { kind: 'in', value, list, negated };
    }
    if (value.kind === 'bool' || value.kind === 'prop') return { kind: 'value', value };
    throw new SqlFilterError(
      `a ${value.kind} literal is not a condition; compare it with something`,
      start.pos,
    );
  }
}

function describe(t: SqlToken): string {
  if (t.kind === 'eof') return 'the end of the expression';
  if (t.kind === 'string') return `string '${t.text}'`;
  if (t.kind === 'ident') return `property ${t.text}`;
  return `'${t.text}'`;
}

/**
 * Parses a SQL92 filter expression. Throws {@link SqlFilterError} (code `FILTER_INVALID`) with
 * the position of the problem for any malformed input; never throws anything else.
 */
export function parseSqlFilter(text: string): SqlExpr {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new SqlFilterError('the expression is empty', 0);
  }
  return new Parser(tokenizeSql(text)).parse();
}

/**
 * Property names that must be present for `expr` to be TRUE (a cheap pre-check: a message
 * lacking one of them cannot match).
 */
export function requiredProperties(expr: SqlExpr): Set<string> {
  switch (expr.kind) {
    case 'and': {
      const out = requiredProperties(expr.left);
      for (const name of requiredProperties(expr.right)) out.add(name);
      return out;
    }
    case 'or': {
      const left = requiredProperties(expr.left);
      const right = requiredProperties(expr.right);
      return new Set([...left].filter((name) => right.has(name)));
    }
    case 'not':
      return new Set();
    case 'isNull':
      return expr.negated && expr.value.kind === 'prop' ? new Set([expr.value.name]) : new Set();
    case 'compare':
      return propsOf([expr.left, expr.right]);
    case 'between':
      return propsOf([expr.value, expr.low, expr.high]);
    case 'in':
      return propsOf([expr.value]);
    case 'value':
      return propsOf([expr.value]);
  }
}

function propsOf(values: SqlValue[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) if (v.kind === 'prop') out.add(v.name);
  return out;
}
