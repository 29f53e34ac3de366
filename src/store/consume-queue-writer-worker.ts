/**
 * The ConsumeQueue writer thread: performs the file writes of ConsumeQueue entries that the JS
 * thread batches up, so that opening, creating and writing tens of thousands of small files
 * (10,000 topics × 8 queues) costs the JS thread nothing but a memcpy per entry.
 *
 * Messages in: `{ seq, files: [id, path][], forget: id[], ops: ArrayBuffer }` (layout in
 * `consume-queue-write-batch.ts`); batches are handled strictly in order. After each batch the
 * thread stores `seq` into slot 0 of the shared Int32Array (and, if it failed, into slot 1),
 * wakes any `Atomics.wait`er and replies `{ seq, error? }`. A failed batch stops at the failing
 * write; the JS thread writes those entries again later.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { forEachOp } from './consume-queue-write-batch.js';
import { writeFullySync } from './io/positional-io.js';

/** What the JS thread passes as `workerData`. */
export interface WriterWorkerData {
  /** Int32Array over a SharedArrayBuffer: [0] last finished seq, [1] last failed seq. */
  progress: Int32Array;
  maxOpenFiles: number;
}

/** One batch from the JS thread. */
export interface WriterBatch {
  seq: number;
  files: Array<[number, string]>;
  forget: number[];
  ops: ArrayBuffer;
}

/** The reply to a batch. */
export interface WriterReply {
  seq: number;
  error?: string;
}

const OPEN_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;

const { progress, maxOpenFiles } = workerData as WriterWorkerData;
const paths = new Map<number, string>();
/** Open descriptors by file id, least recently used first. */
const open = new Map<number, number>();

function fdOf(id: number): number {
  const fd = open.get(id);
  if (fd !== undefined) {
    open.delete(id);
    open.set(id, fd);
    return fd;
  }
  const p = paths.get(id);
  if (p === undefined) throw new Error(`ConsumeQueue file id ${id} was never registered`);
  while (open.size >= maxOpenFiles) {
    const [oldId, oldFd] = open.entries().next().value as [number, number];
    open.delete(oldId);
    fs.closeSync(oldFd);
  }
  const newFd = fs.openSync(p, OPEN_FLAGS, 0o644);
  open.set(id, newFd);
  return newFd;
}

function forget(id: number): void {
  const fd = open.get(id);
  if (fd !== undefined) {
    open.delete(id);
    fs.closeSync(fd);
  }
  paths.delete(id);
}

function write(fileId: number, position: number, data: Uint8Array): void {
  writeFullySync(fdOf(fileId), data, 0, data.length, position);
}

parentPort!.on('message', (batch: WriterBatch) => {
  let error: string | undefined;
  try {
    for (const id of batch.forget) forget(id);
    for (const [id, p] of batch.files) paths.set(id, p);
    forEachOp(batch.ops, write);
  } catch (err) {
    error = (err as Error).message;
    Atomics.store(progress, 1, batch.seq);
  }
  Atomics.store(progress, 0, batch.seq);
  Atomics.notify(progress, 0);
  const reply: WriterReply = error === undefined ? { seq: batch.seq } : { seq: batch.seq, error };
  parentPort!.postMessage(reply);
});
