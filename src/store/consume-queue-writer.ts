/**
 * The JS-thread side of the ConsumeQueue writer thread. The store's flusher hands it the
 * unwritten entries of each dirty queue ({@link ConsumeQueueWriter.write}: one memcpy into a
 * batch); {@link ConsumeQueueWriter.send} posts the batch to the thread, which opens, creates and
 * writes the files; when the thread reports the batch done, each queue learns how far its
 * entries are in the files. Until then the entries stay in the queue's buffer, from where reads
 * are served. A failed batch is logged and its queues re-posted by a later pass.
 *
 * {@link ConsumeQueueWriter.drainSync} waits (blocking, `Atomics.wait`) until the thread is idle:
 * for the rare synchronous paths (topic deletion, shutdown) that must not race its writes.
 */
import { Worker } from 'node:worker_threads';
import { SluiceError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { WriteBatchBuilder } from './consume-queue-write-batch.js';
import type { WriterBatch, WriterReply, WriterWorkerData } from './consume-queue-writer-worker.js';

const log = createLogger('store');

/** A file the writer can write (a ConsumeQueue's file). */
export interface WriterFile {
  readonly path: string;
  /** Id assigned by the writer (0: none yet). */
  writerId: number;
  lengthBytes: number;
  unsynced: boolean;
}

/** A queue the writer reports back to. */
export interface WriterQueue {
  /** Entries below `upTo` are in the files. */
  ackWritten(upTo: number): void;
  /** A batch with this queue's entries failed: post them again. */
  postFailed(): void;
}

/** What one batch will change once it is written. */
class BatchUpdates {
  queues: WriterQueue[] = [];
  upTo: number[] = [];
  files: WriterFile[] = [];
  fileEnds: number[] = [];
  constructor(readonly seq: number) {}
}

/** Longest a blocking drain waits for the writer thread before giving up. */
const DRAIN_TIMEOUT_MS = 60_000;

/** Batches ConsumeQueue writes to a writer thread. */
export class ConsumeQueueWriter {
  private worker: Worker | null;
  private readonly progress = new Int32Array(new SharedArrayBuffer(8));
  private readonly builder = new WriteBatchBuilder();
  private files: Array<[number, string]> = [];
  private forgets: number[] = [];
  private nextFileId = 1;
  /** Last posted batch. */
  private postedSeq = 0;
  /** Last batch whose outcome was applied. */
  private appliedSeq = 0;
  private current = new BatchUpdates(1);
  private readonly pending: BatchUpdates[] = [];
  private idleWaiters: Array<() => void> = [];
  /** Batches that failed (stats, tests). */
  failedBatches = 0;
  /** The last failure's message, if any. */
  lastError: string | null = null;

  constructor(maxOpenFiles: number) {
    const data: WriterWorkerData = { progress: this.progress, maxOpenFiles };
    const w = new Worker(new URL('./consume-queue-writer-worker.js', import.meta.url), {
      workerData: data,
    });
    w.on('message', (reply: WriterReply) => this.onReply(reply));
    w.on('error', (err) => {
      log.error('ConsumeQueue writer thread failed; entries are written on the JS thread', err);
      this.worker = null;
      this.failAllPending(String(err));
    });
    w.unref();
    this.worker = w;
  }

  /** False once the thread has died (the store then writes synchronously). */
  get alive(): boolean {
    return this.worker !== null;
  }

  /**
   * Adds a write of `src[from, from+len)` at byte `position` of `file`; once written, `queue`
   * hears that its entries below `upTo` are in the files.
   */
  write(
    queue: WriterQueue,
    file: WriterFile,
    position: number,
    src: Uint8Array,
    from: number,
    len: number,
    upTo: number,
  ): void {
    if (file.writerId === 0) {
      file.writerId = this.nextFileId++;
      this.files.push([file.writerId, file.path]);
    }
    this.builder.add(file.writerId, position, src, from, len);
    const u = this.current;
    u.queues.push(queue);
    u.upTo.push(upTo);
    u.files.push(file);
    u.fileEnds.push(position + len);
  }

  /** Tells the thread to close and forget `file` (deleted or truncated by the JS thread). */
  forget(file: WriterFile): void {
    if (file.writerId === 0) return;
    this.forgets.push(file.writerId);
    file.writerId = 0;
  }

  /** Posts what was added since the last call (nothing when there is nothing). */
  send(): void {
    const w = this.worker;
    if (w === null) {
      this.failBatch(this.current, 'the writer thread is gone');
      this.current = new BatchUpdates(this.current.seq);
      this.builder.take();
      return;
    }
    if (this.builder.sizeBytes === 0 && this.forgets.length === 0 && this.files.length === 0) {
      return;
    }
    const batch: WriterBatch = {
      seq: this.current.seq,
      files: this.files,
      forget: this.forgets,
      ops: this.builder.take(),
    };
    this.files = [];
    this.forgets = [];
    this.pending.push(this.current);
    this.postedSeq = batch.seq;
    this.current = new BatchUpdates(batch.seq + 1);
    w.ref();
    w.postMessage(batch, [batch.ops]);
  }

  /** Resolves once every batch posted so far is done. */
  idle(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Blocks until the thread has finished every posted batch. Their queues are then treated as
   * not written (their entries are posted again, or written by the caller's synchronous
   * flush), unless no batch failed.
   */
  drainSync(): void {
    if (this.pending.length === 0) return;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (Atomics.load(this.progress, 0) < this.postedSeq) {
      const left = deadline - Date.now();
      if (left <= 0 || this.worker === null) break;
      Atomics.wait(this.progress, 0, Atomics.load(this.progress, 0), Math.min(left, 100));
    }
    const done = Atomics.load(this.progress, 0);
    const anyFailed = Atomics.load(this.progress, 1) > this.appliedSeq;
    while (this.pending.length > 0 && this.pending[0].seq <= done) {
      const u = this.pending.shift()!;
      if (anyFailed) this.failBatch(u, null);
      else this.applyBatch(u);
      this.appliedSeq = u.seq;
    }
    if (this.pending.length > 0) {
      throw new SluiceError(
        'NATIVE_IO',
        `the ConsumeQueue writer thread did not finish within ${DRAIN_TIMEOUT_MS} ms; check the disk`,
      );
    }
    this.wakeIdle();
  }

  /** Finishes posted batches and stops the thread. */
  async close(): Promise<void> {
    if (this.worker === null) return;
    this.drainSync();
    const w = this.worker;
    this.worker = null;
    await w.terminate();
  }

  private onReply(reply: WriterReply): void {
    if (reply.seq <= this.appliedSeq) return; // already settled by drainSync
    const u = this.pending.shift();
    if (u === undefined || u.seq !== reply.seq) {
      log.error(`ConsumeQueue writer replied out of order (seq ${reply.seq})`);
      return;
    }
    this.appliedSeq = u.seq;
    if (reply.error !== undefined) this.failBatch(u, reply.error);
    else this.applyBatch(u);
    this.wakeIdle();
  }

  private applyBatch(u: BatchUpdates): void {
    for (let i = 0; i < u.files.length; i++) {
      const f = u.files[i];
      if (u.fileEnds[i] > f.lengthBytes) f.lengthBytes = u.fileEnds[i];
      f.unsynced = true;
      u.queues[i].ackWritten(u.upTo[i]);
    }
  }

  private failBatch(u: BatchUpdates, error: string | null): void {
    if (error !== null) {
      this.failedBatches++;
      if (this.lastError !== error) {
        log.error(`ConsumeQueue write failed: ${error}; the entries will be written again`);
      }
      this.lastError = error;
    }
    for (const q of u.queues) q.postFailed();
  }

  private failAllPending(error: string): void {
    while (this.pending.length > 0) {
      const u = this.pending.shift()!;
      this.appliedSeq = u.seq;
      this.failBatch(u, error);
    }
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (this.pending.length > 0) return;
    this.worker?.unref();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
