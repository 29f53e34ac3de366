/**
 * `GetSlices`: what one get returns, in log order — views of runs of records in the log (each
 * holding its segment) and regions of a {@link CopyArena} slab that scattered records were copied
 * into — released together.
 */
import { type CopyArena, type CopySlab } from './copy-arena.js';
import type { LogSlices } from './types.js';

export class GetSlices implements LogSlices {
  buffers: Uint8Array[] = [];
  totalBytes = 0;
  private holds: LogSlices[] = [];
  private slabs: CopySlab[] = [];
  private released = false;
  /** The slab region being filled by copies (not yet in {@link buffers}). */
  private region: CopySlab | null = null;
  private regionStart = 0;
  private regionBytes = 0;

  constructor(private readonly arena: CopyArena) {}

  /** Adds views of the log (holding what they hold until {@link release}). */
  add(slices: LogSlices): void {
    this.closeRegion();
    this.holds.push(slices);
    for (const b of slices.buffers) {
      const last = this.buffers[this.buffers.length - 1];
      if (
        last !== undefined &&
        last.buffer === b.buffer &&
        last.byteOffset + last.length === b.byteOffset
      ) {
        // Contiguous in the same segment: one larger view, one socket write later.
        this.buffers[this.buffers.length - 1] = new Uint8Array(
          last.buffer,
          last.byteOffset,
          last.length + b.length,
        );
      } else {
        this.buffers.push(b);
      }
      this.totalBytes += b.length;
    }
  }

  /**
   * Where the next `len` copied bytes go: the returned slab's `bytes` at its `used` offset. Call
   * {@link copied} once they are there (or not at all, when the copy turned out unusable). Null
   * when the arena has no room: add views instead.
   */
  copyTarget(len: number): CopySlab | null {
    const slab = this.arena.slabFor(len);
    if (slab === null) return null;
    if (slab !== this.region || slab.used !== this.regionStart + this.regionBytes) {
      this.closeRegion();
      this.region = slab;
      this.regionStart = slab.used;
      if (!this.slabs.includes(slab)) {
        slab.refs++;
        this.slabs.push(slab);
      }
    }
    return slab;
  }

  /** Counts `len` bytes copied into the slab of the last {@link copyTarget} call. */
  copied(len: number): void {
    this.region!.used += len;
    this.regionBytes += len;
    this.totalBytes += len;
  }

  private closeRegion(): void {
    const slab = this.region;
    if (slab === null) return;
    if (this.regionBytes > 0) {
      this.buffers.push(
        new Uint8Array(
          slab.bytes.buffer,
          slab.bytes.byteOffset + this.regionStart,
          this.regionBytes,
        ),
      );
    }
    this.region = null;
    this.regionBytes = 0;
  }

  /** Empties the accumulator (nothing held). */
  reset(): void {
    this.buffers = [];
    this.holds = [];
    this.slabs = [];
    this.region = null;
    this.regionBytes = 0;
    this.totalBytes = 0;
    this.released = false;
  }

  /** Hands what was added to the caller as a result of its own; the accumulator is emptied. */
  take(): LogSlices {
    this.closeRegion();
    const out = new GetSlices(this.arena);
    out.buffers = this.buffers;
    out.holds = this.holds;
    out.slabs = this.slabs;
    out.totalBytes = this.totalBytes;
    this.reset();
    return out;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const h of this.holds) h.release();
    for (const s of this.slabs) this.arena.unref(s);
  }
}
