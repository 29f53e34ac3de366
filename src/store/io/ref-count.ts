/**
 * A reference count with an owner reference: the resource is released once the owner has
 * closed it and no holder remains. Used by segments so that memory handed to a socket is
 * never unmapped while still in use.
 */
import { SluiceError } from '../../common/errors.js';

export class RefCount {
  private count = 1;
  private closing = false;
  private released = false;

  /** @param onZero runs once, when the owner has closed and the last holder released. */
  constructor(
    private readonly what: string,
    private readonly onZero: () => void,
  ) {}

  /** True once `onZero` has run. */
  get isReleased(): boolean {
    return this.released;
  }

  /** True once the owner called {@link RefCount.close}. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Current number of references (owner included while open). */
  get references(): number {
    return this.count;
  }

  /** Takes a reference; false when the resource is closing or gone. */
  hold(): boolean {
    if (this.closing) return false;
    this.count++;
    return true;
  }

  /** Drops a reference taken by {@link RefCount.hold}. */
  release(): void {
    if (this.count <= 0) return;
    this.count--;
    if (this.count === 0) this.finish();
  }

  /** Drops the owner's reference (idempotent). */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.release();
  }

  /** Throws SEGMENT_CLOSED when the resource is gone. */
  check(): void {
    if (this.released) {
      throw new SluiceError(
        'SEGMENT_CLOSED',
        `${this.what} is closed (unmapped or deleted): re-read through the CommitLog`,
      );
    }
  }

  private finish(): void {
    if (this.released) return;
    this.released = true;
    this.onZero();
  }
}
