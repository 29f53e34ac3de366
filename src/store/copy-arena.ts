/**
 * `CopyArena`: reusable memory that a get copies scattered records into, so that a pull of many
 * small records, each somewhere else in the log (a queue of a topic among thousands), answers with
 * one buffer rather than a view, a segment hold and a socket-write chunk per record.
 *
 * Memory comes in slabs, handed out front to back, at most {@link COPY_SLABS_MAX} of them: copies
 * wait in memory until their answer is written, and a reader with many large answers in flight
 * (a consumer's first pulls of a thousand queues at once) would otherwise pile up copies of all
 * of them. When every slab is in use, runs are answered as views of the log (as long runs are).
 * A result that copied into a slab counts as one reference to it until released (for a pull: once
 * its answer is with the kernel). A slab no longer referenced is reused: the current one from its
 * start again, so that it stays warm in the CPU caches, the others from a free list (fresh memory
 * costs a page fault per page on first touch, and slabs are never given back).
 */
import { invariant } from '../common/errors.js';

/** Size of one slab. Copies are at most {@link COPY_RUN_MAX_BYTES}, so little is left unused. */
export const COPY_SLAB_BYTES = 256 * 1024;
/** Most slabs one arena allocates (16 MiB). */
export const COPY_SLABS_MAX = 64;

/**
 * Runs of records up to this size are copied, larger ones are answered as views of the log. One
 * view costs about as much as copying a few KiB (an object per record, a hold on its segment, a
 * chunk of the socket write with the stream's bookkeeping); beyond that the copy costs more.
 */
export const COPY_RUN_MAX_BYTES = 16 * 1024;

/** One slab of copy memory. */
export class CopySlab {
  readonly bytes: Buffer = Buffer.allocUnsafeSlow(COPY_SLAB_BYTES);
  /** Bytes handed out from the start. */
  used = 0;
  /** Results that copied into this slab and were not released yet. */
  refs = 0;
}

/** The slabs of one reader. */
export class CopyArena {
  private current: CopySlab | null = null;
  /** Slabs not referenced by any result, other than the current one. */
  private readonly free: CopySlab[] = [];
  private allocated = 0;

  /**
   * A slab with `len` bytes free at its `used` offset (the current one when it has room), or null
   * when all {@link COPY_SLABS_MAX} slabs are in use.
   */
  slabFor(len: number): CopySlab | null {
    invariant(len <= COPY_SLAB_BYTES, 'a copy larger than a slab');
    let slab = this.current;
    if (slab !== null && slab.refs === 0) slab.used = 0;
    if (slab === null || slab.used + len > COPY_SLAB_BYTES) {
      const next = this.free.pop() ?? this.allocate();
      if (next === null) return null;
      slab = next;
      slab.used = 0;
      this.current = slab;
    }
    return slab;
  }

  /** Drops one reference to `slab`; once unreferenced it is free for reuse. */
  unref(slab: CopySlab): void {
    invariant(slab.refs > 0, 'a copy slab released more often than referenced');
    slab.refs--;
    if (slab.refs === 0 && slab !== this.current) this.free.push(slab);
  }

  private allocate(): CopySlab | null {
    if (this.allocated >= COPY_SLABS_MAX) return null;
    this.allocated++;
    return new CopySlab();
  }
}
