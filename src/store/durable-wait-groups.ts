/**
 * Group commit per task for sync flush: the puts of one synchronous run of the event loop (a
 * socket read of many SEND frames, say) share one flush waiter, for the run's highest end
 * offset, instead of one waiter, promise and async frame each. Every put of the run is in the
 * log before that waiter is registered (a microtask after the run), and a flush counts only
 * bytes written before it starts, so the shared waiter settles only once all of them are
 * durable. Measured: the sync-flush broker allocated ~3.5 KB per put against ~1.7 KB with async
 * flush, and spent 4.5 times as long in GC.
 */
export class DurableWaitGroups {
  private endOffset = 0;
  private group: Promise<void> | null = null;
  private resolveGroup: () => void = noop;
  private rejectGroup: (err: unknown) => void = noop;

  /** `waitDurable(end)` resolves once the log is durable up to `end` (the flush service's). */
  constructor(private readonly waitDurable: (endOffset: number) => Promise<void>) {}

  /** Settles once the log is durable up to `endOffset`; shared by the run's other waits. */
  wait(endOffset: number): Promise<void> {
    if (endOffset > this.endOffset) this.endOffset = endOffset;
    if (this.group === null) {
      this.group = new Promise<void>((resolve, reject) => {
        this.resolveGroup = resolve;
        this.rejectGroup = reject;
      });
      queueMicrotask(this.closeGroup);
    }
    return this.group;
  }

  private readonly closeGroup = (): void => {
    const resolve = this.resolveGroup;
    const reject = this.rejectGroup;
    const endOffset = this.endOffset;
    this.group = null;
    this.resolveGroup = noop;
    this.rejectGroup = noop;
    this.waitDurable(endOffset).then(resolve, reject);
  };
}

function noop(): void {}
