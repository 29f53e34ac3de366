import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeProperties } from '../../common/codec/properties.js';
import { evaluateSql, matchesSql } from './sql-evaluator.js';
import { SqlMessageFilter } from './sql-message-filter.js';
import { SqlFilterError, parseSqlFilter, requiredProperties } from './sql-parser.js';

function matches(expr: string, props: Record<string, string>): boolean {
  return matchesSql(parseSqlFilter(expr), (name) => props[name]);
}

test('comparisons, IN, BETWEEN, IS NULL, booleans, AND/OR/NOT, parentheses', () => {
  const p = { a: '7', b: 'x', c: 'here', s: 'abc', f: 'true', n: '-2.5' };
  assert.ok(matches("a > 5 AND b IN ('x','y') AND c IS NOT NULL", p));
  assert.ok(!matches("a > 5 AND b IN ('z','y')", p));
  assert.ok(matches('a BETWEEN 7 AND 9', p));
  assert.ok(!matches('a NOT BETWEEN 7 AND 9', p));
  assert.ok(matches('missing IS NULL AND a >= 7 AND a <= 7 AND a <> 8 AND a < 8', p));
  assert.ok(matches("s = 'abc' AND s <> 'abd' AND b NOT IN ('q')", p));
  assert.ok(matches('n < -2 AND n > -3.0', p));
  assert.ok(matches('f = TRUE AND NOT (f = FALSE)', p));
  assert.ok(matches('TRUE', p));
  assert.ok(!matches('FALSE OR (a = 1)', p));
  assert.ok(matches("(a = 1 OR a = 7) and b = 'x'", p), 'keywords are case-insensitive');
  assert.ok(matches('f', p), 'a bare property holding true');
  assert.ok(matches("s = 'it''s'", { s: "it's" }), 'quote escape');
});

test('three-valued logic: missing or non-numeric values are UNKNOWN', () => {
  const expr = parseSqlFilter('a > 5');
  assert.equal(
    evaluateSql(expr, () => undefined),
    null,
  );
  assert.equal(
    evaluateSql(parseSqlFilter('NOT (a > 5)'), () => undefined),
    null,
  );
  assert.equal(
    evaluateSql(expr, () => 'abc'),
    null,
  );
  assert.equal(
    evaluateSql(parseSqlFilter('a > 5 OR TRUE'), () => undefined),
    true,
  );
  assert.equal(
    evaluateSql(parseSqlFilter('a > 5 AND FALSE'), () => undefined),
    false,
  );
  assert.equal(
    evaluateSql(parseSqlFilter("a IN ('x')"), () => undefined),
    null,
  );
});

test('bad expressions fail with the position of the problem', () => {
  const cases: [string, number][] = [
    ['a >', 3],
    ['a > 5 AND', 9],
    ["b IN ('x'", 9],
    ['(a = 1', 6],
    ["a = 'open", 4],
    ['a # 1', 2],
    ['5', 0],
    ['a = 1 b', 6],
    ['a NOT LIKE 1', 6],
    ['', 0],
  ];
  for (const [text, pos] of cases) {
    assert.throws(
      () => parseSqlFilter(text),
      (err: unknown) => {
        assert.ok(err instanceof SqlFilterError, `${text}: ${String(err)}`);
        assert.equal(err.code, 'FILTER_INVALID');
        assert.equal(err.position, pos, `${text}: ${err.message}`);
        assert.match(err.message, /position \d+/);
        return true;
      },
    );
  }
  assert.throws(() => parseSqlFilter('('.repeat(100) + 'a=1' + ')'.repeat(100)), /nests deeper/);
  assert.throws(() => parseSqlFilter('a = 1 OR '.repeat(1000) + 'a = 1'), /longer than/);
});

test('required properties: AND unions, OR intersects, NOT and IS NULL require nothing', () => {
  const names = (e: string): string[] => [...requiredProperties(parseSqlFilter(e))].sort();
  assert.deepEqual(names("a > 1 AND b = 'x'"), ['a', 'b']);
  assert.deepEqual(names('a > 1 OR (a < 0 AND b = 1)'), ['a']);
  assert.deepEqual(names('NOT a = 1'), []);
  assert.deepEqual(names('a IS NULL AND b IS NOT NULL'), ['b']);
});

test('the broker filter reads properties straight from the record bytes', () => {
  const filter = new SqlMessageFilter("region = 'eu' AND price >= 10");
  const props = Buffer.from(encodeProperties({ region: 'eu', price: '12', TAGS: 't' }));
  assert.ok(filter.isMatchedByTagsCode());
  assert.ok(filter.matchesProperties(props, 0, props.length));
  const cheap = Buffer.from(encodeProperties({ region: 'eu', price: '3' }));
  assert.ok(!filter.matchesProperties(cheap, 0, cheap.length));
  const other = Buffer.from(encodeProperties({ price: '50' }));
  assert.ok(!filter.matchesProperties(other, 0, other.length), 'skipped: region missing');
});
