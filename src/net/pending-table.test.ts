import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingTable } from './pending-table.js';

function entriesOf(table: PendingTable<string>): [number, string][] {
  const out: [number, string][] = [];
  table.forEach((v, k) => out.push([k, v]));
  return out.sort((a, b) => a[0] - b[0]);
}

test('set, get and take by key', () => {
  const t = new PendingTable<string>();
  t.set(1, 'a');
  t.set(2, 'b');
  assert.equal(t.size, 2);
  assert.equal(t.get(1), 'a');
  assert.equal(t.take(1), 'a');
  assert.equal(t.take(1), undefined);
  assert.equal(t.get(2), 'b');
  assert.equal(t.size, 1);
  t.set(2, 'b2');
  assert.equal(t.size, 1, 'replacing keeps the count');
  assert.equal(t.take(2), 'b2');
  assert.equal(t.size, 0);
});

test('keys that share a home slot, across the wrap-around, stay reachable after removals', () => {
  const t = new PendingTable<string>(8);
  const cap = t.capacity;
  // Home slot cap-1 for all three: the run wraps to slots 0 and 1.
  const keys = [cap - 1, 2 * cap - 1, 3 * cap - 1];
  for (const k of keys) t.set(k, `v${k}`);
  t.set(cap, `v${cap}`); // home slot 0, pushed behind the wrapped run
  assert.equal(t.take(keys[0]!), `v${keys[0]}`);
  for (const k of [keys[1]!, keys[2]!, cap]) assert.equal(t.get(k), `v${k}`);
  assert.equal(t.take(keys[1]!), `v${keys[1]}`);
  assert.equal(t.get(keys[2]!), `v${keys[2]}`);
  assert.equal(t.get(cap), `v${cap}`);
  assert.deepEqual(entriesOf(t), [
    [cap, `v${cap}`],
    [keys[2]!, `v${keys[2]}`],
  ]);
});

test('agrees with a Map over a random mix of sets and takes, negative keys included', () => {
  const t = new PendingTable<string>(8);
  const model = new Map<number, string>();
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let step = 0; step < 20_000; step++) {
    const key = rand(300) - 100;
    if (rand(3) === 0) {
      assert.equal(t.take(key), model.get(key), `take ${key} at step ${step}`);
      model.delete(key);
    } else {
      const value = `s${step}`;
      t.set(key, value);
      model.set(key, value);
    }
    assert.equal(t.size, model.size);
  }
  for (const [k, v] of model) assert.equal(t.get(k), v);
  assert.deepEqual(
    entriesOf(t),
    [...model].sort((a, b) => a[0] - b[0]),
  );
});

test('grows to hold a burst and keeps its size after it (no reallocation per request)', () => {
  const t = new PendingTable<number>(8);
  for (let k = 1; k <= 5000; k++) t.set(k, k);
  assert.equal(t.size, 5000);
  const grown = t.capacity;
  assert.ok(grown >= 5000, `capacity ${grown} holds the burst`);
  for (let k = 1; k <= 5000; k++) assert.equal(t.take(k), k);
  assert.equal(t.size, 0);
  for (let k = 5001; k <= 6000; k++) {
    t.set(k, k);
    assert.equal(t.take(k), k);
  }
  assert.equal(t.capacity, grown);
});

test('a request that outlives many turns of the opaques over the buckets stays reachable', () => {
  const t = new PendingTable<number>(8);
  const held = 3;
  t.set(held, -1);
  // A window of 6 in flight moving past the held key's bucket again and again.
  for (let k = 4; k < 4000; k++) {
    t.set(k, k);
    if (k - 6 > held) assert.equal(t.take(k - 6), k - 6);
    assert.equal(t.get(held), -1);
  }
  assert.equal(t.capacity, 8, 'never more than 8 in flight');
  assert.equal(t.take(held), -1);
  assert.equal(t.size, 6);
});

test('clear empties the table; bad keys and values are refused', () => {
  const t = new PendingTable<string>();
  t.set(7, 'x');
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.get(7), undefined);
  assert.throws(() => t.set(1.5, 'x'), RangeError);
  assert.throws(() => t.set(Number.NaN, 'x'), RangeError);
  assert.throws(() => t.set(1, undefined as unknown as string), RangeError);
});
