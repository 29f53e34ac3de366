/**
 * Pre-allocation of the next CommitLog segment (RocketMQ's AllocateMappedFileService): the file
 * is created at full size with fallocate and opened before the active segment fills up, so a
 * roll costs nothing on the append path. With `warmSegments` on the mmap backend it is then
 * warmed off the JS thread in two steps:
 * 1. a worker thread maps the file itself (a mapped buffer is never posted between threads:
 *    Node would copy all of it) and reads one byte per page, pulling every page into the page
 *    cache;
 * 2. the segment's own mapping is pre-faulted for writing on the libuv thread pool
 *    (`prefaultAsync`: MADV_POPULATE_WRITE, in 1 MiB steps), so the JS thread's stores into it
 *    take no page fault at all. A read-only pre-fault is not enough: the first store to each
 *    page of a shared file mapping then still takes a write-protect fault, which cost ~0.25 µs
 *    per 1 KiB record here. The pages become dirty zeros (as RocketMQ's warm-up makes them);
 *    appends overwrite them long before the kernel's 30 s writeback would write them.
 * With sync flush, warming stops when the segment starts being written: an msync of a mapping
 * that is being pre-faulted was seen to stall for ~100 ms. With async flush no put waits for an
 * msync, so warming goes on ahead of the appends (`warmWhileWriting`), and the active segment
 * found at startup is warmed from its write position too. (No MADV_WILLNEED, for the same
 * reason.)
 */
import { Worker } from 'node:worker_threads';
import type { StoreBackend } from './types.js';
import { openSegmentFile, type SegmentFile } from './io/segment-file.js';
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
  private readonly replies = new Map<string, (reply: WarmReply) => void>();
  private readonly running = new Set<Promise<void>>();
  /** Durations of completed page-cache warm-ups in the worker (ms), newest last. */
  readonly warmDurationsMs: number[] = [];
  /** Last warm-up error, if any (warming is best effort). */
  lastError: string | null = null;

  constructor(
    private readonly backend: StoreBackend,
    private readonly sizeBytes: number,
    private readonly warm: boolean,
    /** Keep warming a segment once appends have begun (async flush). */
    private readonly warmWhileWriting = false,
  ) {}

  /** Creates (or opens, if present) the segment file at `path` and starts warming it. */
  allocate(path: string, startOffset: number): SegmentFile {
    const seg = openSegmentFile(this.backend, path, startOffset, this.sizeBytes, true);
    this.warmUp(seg, true);
    return seg;
  }

  /**
   * Warms `seg` in the background (mmap + warmSegments only). `viaWorker` adds the page-cache
   * pass in the worker first; skip it for a segment that is already being written.
   */
  warmUp(seg: SegmentFile, viaWorker: boolean): void {
    if (!this.warm || this.backend !== 'mmap' || !nativeAvailable) return;
    if (!seg.hold()) return;
    const p = (async () => {
      try {
        if (viaWorker) await this.warmInWorker(seg.path);
        if (!seg.closed) await seg.prefault(this.warmWhileWriting);
      } catch (err) {
        this.lastError = String(err);
      } finally {
        seg.release();
      }
    })();
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Resolves once every running warm-up has finished. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Stops the worker (after running warm-ups finish). */
  async close(): Promise<void> {
    await this.idle();
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
  }

  private warmInWorker(path: string): Promise<void> {
    const w = this.ensureWorker();
    return new Promise((resolve) => {
      this.replies.set(path, (reply) => {
        if (reply.ok && reply.durationMs !== undefined) this.warmDurationsMs.push(reply.durationMs);
        if (!reply.ok && reply.error !== undefined) this.lastError = reply.error;
        resolve();
      });
      w.ref();
      w.postMessage({ path, sizeBytes: this.sizeBytes });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const w = new Worker(new URL('./allocate-worker.js', import.meta.url));
    w.on('message', (reply: WarmReply) => this.onReply(reply));
    w.on('error', (err) => {
      this.lastError = String(err);
      this.worker = null;
      for (const path of [...this.replies.keys()]) this.onReply({ path, ok: false });
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private onReply(reply: WarmReply): void {
    const done = this.replies.get(reply.path);
    this.replies.delete(reply.path);
    if (this.replies.size === 0) this.worker?.unref();
    done?.(reply);
  }
}
