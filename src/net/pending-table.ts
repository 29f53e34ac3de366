/**
 * `PendingTable`: the requests of one connection that wait for their response, keyed by opaque.
 * An open-addressing hash table (linear probing, deletion by backward shift) over two arrays
 * that are allocated once and only ever grow.
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
 * Keys are the requests' opaques, which a client numbers in sequence: `key & mask` puts the
 * in-flight window in consecutive slots.
 */

/** Slots of a new table; it doubles whenever it would be more than half full. */
const INITIAL_CAPACITY = 64;

export class PendingTable<V> {
  private keys: Float64Array;
  private values: (V | undefined)[];
  private mask: number;
  private count = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    let capacity = 8;
    while (capacity < initialCapacity) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Slots allocated (for tests: the table grows, never shrinks). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Adds or replaces the entry of `key` (an integer). `value` must not be undefined. */
  set(key: number, value: V): void {
    if (!Number.isInteger(key)) throw new RangeError(`pending-table key ${key} is not an integer`);
    if (value === undefined) throw new RangeError('pending-table value must not be undefined');
    const i = this.find(key);
    if (i >= 0) {
      this.values[i] = value;
      return;
    }
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    this.insert(key, value);
    this.count++;
  }

  /** The entry of `key`, or undefined. */
  get(key: number): V | undefined {
    const i = this.find(key);
    return i >= 0 ? this.values[i] : undefined;
  }

  /** Removes the entry of `key` and returns its value (undefined when there was none). */
  take(key: number): V | undefined {
    const i = this.find(key);
    if (i < 0) return undefined;
    const value = this.values[i];
    this.removeAt(i);
    this.count--;
    return value;
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
    this.count = 0;
  }

  private find(key: number): number {
    const { keys, values, mask } = this;
    for (let i = key & mask; ; i = (i + 1) & mask) {
      if (values[i] === undefined) return -1;
      if (keys[i] === key) return i;
    }
  }

  private insert(key: number, value: V): void {
    const { keys, values, mask } = this;
    let i = key & mask;
    while (values[i] !== undefined) i = (i + 1) & mask;
    keys[i] = key;
    values[i] = value;
  }

  /**
   * Empties slot `hole` and moves later entries of its probe run back into the gap, so that every
   * entry stays reachable from its home slot without tombstones.
   */
  private removeAt(hole: number): void {
    const { keys, values, mask } = this;
    values[hole] = undefined;
    for (let j = (hole + 1) & mask; values[j] !== undefined; j = (j + 1) & mask) {
      const home = keys[j]! & mask;
      // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      keys[hole] = keys[j]!;
      values[hole] = values[j];
      values[j] = undefined;
      hole = j;
    }
  }

  private grow(): void {
    const { keys, values } = this;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Float64Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== undefined) this.insert(keys[i]!, v);
    }
    // The dropped array may already be in the old generation: left holding the entries, it
    // would keep them (and what they reference) through scavenges after they are removed.
    values.fill(undefined);
  }
}
