/**
 * `PendingTable`: the requests of one connection that wait for their response, keyed by opaque.
 * A hash table with chaining through preallocated arrays: bucket heads, and per entry slot its
 * key, value and the next slot of its chain; free slots form a stack. The arrays are allocated
 * once and only ever grow.
 *
 * Why not a `Map`: a connection's map goes from empty to one entry and back with every request
 * at a moderate rate, and V8 gives a `Map` a new backing table each time a removal leaves it
 * less than a quarter full (and when a table full of removed entries is rehashed). A replaced
 * table keeps its entries and a pointer to its successor; once one of them has reached the old
 * generation, the scavenger keeps whatever it points to until the next full GC. A client at
 * 1,000 sends/s after a burst of 5,000 left ~13,400 such tables (2 MB) as garbage in the old
 * generation over 23,000 sends, and allocated ~110 bytes per send in `Map.prototype.delete`
 * (V8 object statistics at a full GC, `--trace-gc-object-stats`; sampling heap profile). Here
 * the arrays stay put and a removed entry's slot is cleared, so nothing outlives its request.
 *
 * Why chaining rather than open addressing: keys are the requests' opaques, numbered in
 * sequence, so the in-flight window fills consecutive buckets. With linear probing that is one
 * long run of occupied slots, and a removal by backward shift walked the rest of the run: with
 * 1,024 sends outstanding that was ~1,000 slots per response, 22 % of a publishing client's CPU.
 * Here a removal walks only its own chain (one entry, unless a request outlives a full turn of
 * the opaques over the buckets).
 */

/** Entry slots (and buckets) of a new table; both double whenever the slots are all in use. */
const INITIAL_CAPACITY = 64;
/** End of a chain / an empty bucket. */
const NONE = -1;

export class PendingTable<V> {
  /** First slot of each bucket's chain. */
  private heads: Int32Array;
  /** Next slot in the chain, per slot. */
  private next: Int32Array;
  private keys: Float64Array;
  private values: (V | undefined)[];
  /** Free slots (a stack: `free[0, freeCount)`). */
  private free: Int32Array;
  private freeCount: number;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    let capacity = 8;
    while (capacity < initialCapacity) capacity *= 2;
    this.heads = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.free = new Int32Array(capacity);
    this.freeCount = 0;
    this.mask = capacity - 1;
    this.resetFree();
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Entry slots allocated (for tests: the table grows, never shrinks). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Adds or replaces the entry of `key` (an integer). `value` must not be undefined. */
  set(key: number, value: V): void {
    if (!Number.isInteger(key)) throw new RangeError(`pending-table key ${key} is not an integer`);
    if (value === undefined) throw new RangeError('pending-table value must not be undefined');
    const i = this.find(key);
    if (i !== NONE) {
      this.values[i] = value;
      return;
    }
    if (this.freeCount === 0) this.grow();
    this.insert(key, value);
    this.count++;
  }

  /** The entry of `key`, or undefined. */
  get(key: number): V | undefined {
    const i = this.find(key);
    return i !== NONE ? this.values[i] : undefined;
  }

  /** Removes the entry of `key` and returns its value (undefined when there was none). */
  take(key: number): V | undefined {
    const { heads, next, keys, values } = this;
    const b = key & this.mask;
    let prev = NONE;
    for (let i = heads[b]!; i !== NONE; prev = i, i = next[i]!) {
      if (keys[i] !== key) continue;
      if (prev === NONE) heads[b] = next[i]!;
      else next[prev] = next[i]!;
      const value = values[i];
      values[i] = undefined;
      this.free[this.freeCount++] = i;
      this.count--;
      return value;
    }
    return undefined;
  }

  /** Calls `fn` for every entry, in no particular order; `fn` must not change the table. */
  forEach(fn: (value: V, key: number) => void): void {
    const { keys, values } = this;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== undefined) fn(v, keys[i]!);
    }
  }

  /** Removes every entry (the arrays keep their size). */
  clear(): void {
    this.values.fill(undefined);
    this.heads.fill(NONE);
    this.count = 0;
    this.resetFree();
  }

  private resetFree(): void {
    const free = this.free;
    // Highest slot at the bottom, so that slot 0 is used first.
    for (let i = 0; i < free.length; i++) free[i] = free.length - 1 - i;
    this.freeCount = free.length;
  }

  private find(key: number): number {
    const { next, keys } = this;
    for (let i = this.heads[key & this.mask]!; i !== NONE; i = next[i]!) {
      if (keys[i] === key) return i;
    }
    return NONE;
  }

  private insert(key: number, value: V): void {
    const i = this.free[--this.freeCount]!;
    const b = key & this.mask;
    this.keys[i] = key;
    this.values[i] = value;
    this.next[i] = this.heads[b]!;
    this.heads[b] = i;
  }

  private grow(): void {
    const { keys, values } = this;
    const capacity = (this.mask + 1) * 2;
    this.heads = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.free = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.resetFree();
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== undefined) this.insert(keys[i]!, v);
    }
    // The dropped array may already be in the old generation: left holding the entries, it
    // would keep them (and what they reference) through scavenges after they are removed.
    values.fill(undefined);
  }
}
