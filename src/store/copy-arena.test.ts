import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COPY_SLAB_BYTES, COPY_SLABS_MAX, CopyArena, type CopySlab } from './copy-arena.js';

/** A slab for `len` bytes, referenced and filled as a get would. */
function take(arena: CopyArena, len: number): CopySlab {
  const slab = arena.slabFor(len);
  assert.ok(slab !== null);
  slab.refs++;
  slab.used += len;
  return slab;
}

test('copy slabs: handed out front to back, rewound when unreferenced, reused after release', () => {
  const arena = new CopyArena();
  const a = take(arena, 1000);
  assert.equal(arena.slabFor(1000), a, 'room left: same slab');
  assert.equal(a.used, 1000, 'a referenced slab is not rewound');

  // Full while referenced: a fresh slab; the old one keeps its bytes until released.
  a.used = COPY_SLAB_BYTES - 10;
  const b = take(arena, 100);
  assert.notEqual(b, a);
  assert.equal(b.used, 100);

  // The current slab, no longer referenced, starts again at its beginning.
  arena.unref(b);
  assert.equal(arena.slabFor(100), b);
  assert.equal(b.used, 0);

  // A full slab released later is reused when the current one fills.
  arena.unref(a);
  b.refs++;
  b.used = COPY_SLAB_BYTES;
  assert.equal(arena.slabFor(1), a);
  assert.equal(a.used, 0);

  assert.throws(() => arena.unref(a), /released more often/);
  assert.throws(() => arena.slabFor(COPY_SLAB_BYTES + 1), /larger than a slab/);
});

test('copy slabs: at most COPY_SLABS_MAX in use; none to spare until one is released', () => {
  const arena = new CopyArena();
  const held: CopySlab[] = [];
  for (let i = 0; i < COPY_SLABS_MAX; i++) held.push(take(arena, COPY_SLAB_BYTES));
  assert.equal(new Set(held).size, COPY_SLABS_MAX);
  assert.equal(arena.slabFor(1), null);
  arena.unref(held[7]!);
  assert.equal(take(arena, 1), held[7]);
  assert.equal(arena.slabFor(COPY_SLAB_BYTES), null);
});
