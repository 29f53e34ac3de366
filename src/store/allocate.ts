/**
 * Pre-allocation of the next CommitLog segment (RocketMQ's AllocateMappedFileService): the file
 * is created at full size with fallocate before the active segment fills up, and — when
 * `warmSegments` is on and the backend is mmap — its pages are pre-faulted by a worker thread.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { StoreBackend } from './types.js';
import { openSegmentFile } from './io/segment-file.js';
import { nativeAvailable } from './io/native.js';

interface WarmReply {
  path: string;
  ok: boolean;
  durationMs?: number;
  error?: string;
}

/** Creates next segments ahead of time and warms them off the JS thread. */
export class SegmentAllocator {
  private worker: Worker | null = null;
  private readonly pending = new Map<string, Array<() => void>>();
  /** Durations of completed warm-ups (ms), newest last; for diagnostics and benchmarks. */
  readonly warmDurationsMs: number[] = [];
  /** Last warm-up error, if any (warming is best effort). */
  lastError: string | null = null;

  constructor(
    private readonly backend: StoreBackend,
    private readonly sizeBytes: number,
    private readonly warm: boolean,
  ) {}

  /** Creates `path` at full size if it does not exist yet, then warms it in the background. */
  prepare(path: string, startOffset: number): void {
    if (existsSync(path)) return;
    const seg = openSegmentFile(this.backend, path, startOffset, this.sizeBytes, true);
    seg.close();
    if (this.warm && this.backend === 'mmap' && nativeAvailable) this.startWarm(path);
  }

  /** Resolves once no warm-up for `path` is running (immediately when none). */
  whenWarm(path: string): Promise<void> {
    if (!this.pending.has(path)) return Promise.resolve();
    return new Promise((resolve) => this.pending.get(path)?.push(resolve));
  }

  /** Resolves once every running warm-up has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((p) => this.whenWarm(p)));
  }

  /** Stops the worker (after running warm-ups finish). */
  async close(): Promise<void> {
    await this.idle();
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
  }

  private startWarm(path: string): void {
    if (this.pending.has(path)) return;
    const w = this.ensureWorker();
    this.pending.set(path, []);
    w.ref();
    w.postMessage({ path, sizeBytes: this.sizeBytes });
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const w = new Worker(new URL('./allocate-worker.js', import.meta.url));
    w.on('message', (reply: WarmReply) => this.onReply(reply));
    w.on('error', (err) => {
      this.lastError = String(err);
      this.worker = null;
      for (const path of [...this.pending.keys()]) this.onReply({ path, ok: false });
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private onReply(reply: WarmReply): void {
    if (reply.ok && reply.durationMs !== undefined) this.warmDurationsMs.push(reply.durationMs);
    if (!reply.ok && reply.error !== undefined) this.lastError = reply.error;
    const waiters = this.pending.get(reply.path) ?? [];
    this.pending.delete(reply.path);
    if (this.pending.size === 0) this.worker?.unref();
    for (const resolve of waiters) resolve();
  }
}
