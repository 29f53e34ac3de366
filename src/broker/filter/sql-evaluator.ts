/**
 * Evaluation of parsed SQL92 filters over message properties, with SQL's three-valued logic: a
 * missing property is NULL, any comparison with NULL is UNKNOWN, and only TRUE matches.
 *
 * Property values are strings. Against a number literal (or in BETWEEN with number bounds) a
 * value is read as a number; a value that is not a number makes the comparison UNKNOWN.
 * Against a string literal comparison is by string. Between two properties: numeric when both
 * are numbers, else by string. TRUE/FALSE compare with the strings `true`/`false`.
 */
import type { SqlCompareOp, SqlExpr, SqlValue } from './sql-parser.js';

/** Looks a property up by name; undefined when the message does not have it. */
export type PropertyLookup = (name: string) => string | undefined;

/** TRUE, FALSE or UNKNOWN (null). */
export type Tristate = boolean | null;

type Scalar = string | number | boolean | null;

function resolve(v: SqlValue, lookup: PropertyLookup): Scalar {
  switch (v.kind) {
    case 'prop':
      return lookup(v.name) ?? null;
    case 'string':
    case 'number':
    case 'bool':
      return v.value;
  }
}

function toNumber(s: Scalar): number | null {
  if (typeof s === 'number') return s;
  if (typeof s !== 'string' || s.trim() === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

function toBool(s: Scalar): boolean | null {
  if (typeof s === 'boolean') return s;
  if (typeof s === 'string') {
    const lower = s.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return null;
}

function order(op: SqlCompareOp, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/** Compares two resolved scalars (null when UNKNOWN). */
function compareScalars(a: Scalar, b: Scalar): number | null {
  if (a === null || b === null) return null;
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const x = toBool(a);
    const y = toBool(b);
    if (x === null || y === null) return null;
    return x === y ? 0 : x ? 1 : -1;
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toNumber(a);
    const y = toNumber(b);
    if (x === null || y === null) return null;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two property values: numerically when both are numbers. */
function compareProps(a: string, b: string): number {
  const x = toNumber(a);
  const y = toNumber(b);
  if (x !== null && y !== null) return x < y ? -1 : x > y ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compare(op: SqlCompareOp, l: SqlValue, r: SqlValue, lookup: PropertyLookup): Tristate {
  const a = resolve(l, lookup);
  const b = resolve(r, lookup);
  if (a === null || b === null) return null;
  const c =
    l.kind === 'prop' && r.kind === 'prop'
      ? compareProps(a as string, b as string)
      : compareScalars(a, b);
  return c === null ? null : order(op, c);
}

function not(t: Tristate): Tristate {
  return t === null ? null : !t;
}

/** Evaluates `expr` for one message. */
export function evaluateSql(expr: SqlExpr, lookup: PropertyLookup): Tristate {
  switch (expr.kind) {
    case 'and': {
      const left = evaluateSql(expr.left, lookup);
      if (left === false) return false;
      const right = evaluateSql(expr.right, lookup);
      if (right === false) return false;
      return left === null || right === null ? null : true;
    }
    case 'or': {
      const left = evaluateSql(expr.left, lookup);
      if (left === true) return true;
      const right = evaluateSql(expr.right, lookup);
      if (right === true) return true;
      return left === null || right === null ? null : false;
    }
    case 'not':
      return not(evaluateSql(expr.expr, lookup));
    case 'compare':
      return compare(expr.op, expr.left, expr.right, lookup);
    case 'isNull': {
      const isNull = resolve(expr.value, lookup) === null;
      return expr.negated ? !isNull : isNull;
    }
    case 'between': {
      const v = resolve(expr.value, lookup);
      const lo = compareScalars(v, resolve(expr.low, lookup));
      const hi = compareScalars(v, resolve(expr.high, lookup));
      if (lo === null || hi === null) return null;
      const inside = lo >= 0 && hi <= 0;
      return expr.negated ? !inside : inside;
    }
    case 'in': {
      const v = resolve(expr.value, lookup);
      if (v === null) return null;
      let unknown = false;
      for (const item of expr.list) {
        const c = compareScalars(v, resolve(item, lookup));
        if (c === 0) return !expr.negated;
        if (c === null) unknown = true;
      }
      if (unknown) return null;
      return expr.negated;
    }
    case 'value':
      return toBool(resolve(expr.value, lookup));
  }
}

/** True when `expr` is TRUE for the given properties. */
export function matchesSql(expr: SqlExpr, lookup: PropertyLookup): boolean {
  return evaluateSql(expr, lookup) === true;
}
