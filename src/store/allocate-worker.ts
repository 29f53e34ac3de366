/**
 * Worker thread that pre-faults freshly allocated CommitLog segments so the JS thread does not
 * take the page faults when it starts writing into them. It maps each file itself (a mapped
 * buffer is never posted between threads: Node would copy all of it) and reads one byte per
 * page, which is safe even if the main thread already writes into the same segment.
 *
 * Messages in: `{ path: string, sizeBytes: number }`. Messages out:
 * `{ path, ok: true, durationMs }` or `{ path, ok: false, error }`.
 */
import { parentPort } from 'node:worker_threads';
import { closeSync, constants, openSync } from 'node:fs';
import * as native from './io/native.js';

interface WarmRequest {
  path: string;
  sizeBytes: number;
}

/** Touches every page of `path` through a private mapping of its own. */
function warm(req: WarmRequest): number {
  const started = performance.now();
  const fd = openSync(req.path, constants.O_RDWR);
  let ab: ArrayBuffer;
  try {
    ab = native.map(fd, req.sizeBytes, 0);
  } finally {
    closeSync(fd);
  }
  try {
    const u8 = new Uint8Array(ab);
    const page = native.PAGE_SIZE;
    let sink = 0;
    for (let i = 0; i < req.sizeBytes; i += page) sink |= u8[i];
    if (sink === 0x1ff) console.log('unreachable');
  } finally {
    native.unmap(ab);
  }
  return performance.now() - started;
}

parentPort?.on('message', (req: WarmRequest) => {
  try {
    const durationMs = warm(req);
    parentPort?.postMessage({ path: req.path, ok: true, durationMs });
  } catch (err) {
    parentPort?.postMessage({ path: req.path, ok: false, error: String(err) });
  }
});
