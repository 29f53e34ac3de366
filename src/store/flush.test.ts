import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../common/wait-for.fixture.js';
import { FlushService, type FlushOptions } from './flush.js';
import { INLINE_FLUSH_LIMITS } from './inline-flush-policy.js';
import type { SegmentQueue } from './segment-queue.js';

/** Every flush on the thread pool. */
const POOL_ONLY = { ...INLINE_FLUSH_LIMITS, maxBytes: 0 };

const SYNC: FlushOptions = {
  flushMode: 'sync',
  flushIntervalMs: 500,
  flushLeastPages: 4,
  flushThoroughIntervalMs: 10_000,
  syncFlushTimeoutMs: 5_000,
};

/** One segment whose flushes finish only when the test says so. */
class ManualSegment {
  readonly startOffset = 0;
  readonly sizeBytes = 1 << 20;
  readonly closed = false;
  wrotePosition = 0;
  flushedPosition = 0;
  /** Flushes started and not finished yet, oldest first. */
  readonly pending: Array<() => void> = [];
  flushCalls = 0;
  /** `onThisThread` of each flush call. */
  readonly onThisThread: boolean[] = [];
  /** How long a flush on this thread blocks. */
  inlineBlockMs = 0;

  flush(onThisThread = false, upTo = Number.POSITIVE_INFINITY): Promise<number> {
    this.flushCalls++;
    this.onThisThread.push(onThisThread);
    const to = Math.min(this.wrotePosition, upTo);
    if (onThisThread) {
      const untilMs = performance.now() + this.inlineBlockMs;
      while (performance.now() < untilMs);
      if (to > this.flushedPosition) this.flushedPosition = to;
      return Promise.resolve(this.flushedPosition);
    }
    return new Promise((resolve) => {
      this.pending.push(() => {
        if (to > this.flushedPosition) this.flushedPosition = to;
        resolve(this.flushedPosition);
      });
    });
  }

  /** Finishes the oldest (or newest) pending flush and lets its continuations run. */
  async finish(which: 'oldest' | 'newest' = 'oldest'): Promise<void> {
    const finish = which === 'oldest' ? this.pending.shift() : this.pending.pop();
    assert.ok(finish, 'a flush is pending');
    finish();
    await new Promise((r) => setImmediate(r));
  }
}

function queueOf(seg: ManualSegment): SegmentQueue {
  const fake = {
    segments: [seg],
    get last() {
      return seg;
    },
    indexOf: (offset: number) => (offset >= 0 && offset < seg.sizeBytes ? 0 : -1),
  };
  return fake as unknown as SegmentQueue;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Finishes flushes as they start until `done()`. */
async function finishAllUntil(seg: ManualSegment, done: () => boolean): Promise<void> {
  for (let turns = 0; !done(); turns++) {
    assert.ok(turns < 100, 'settles within 100 turns');
    if (seg.pending.length > 0) await seg.finish();
    else await turn();
  }
}

test('sync flush: bytes a flush covered are durable when it ends, though appends came during it', async () => {
  const seg = new ManualSegment();
  const flusher = new FlushService(queueOf(seg), SYNC, 0, POOL_ONLY);
  seg.wrotePosition = 100;
  let firstDone = false;
  const first = flusher.waitDurable(100).then(() => (firstDone = true));
  await turn();
  assert.equal(seg.flushCalls, 1);
  // A record appended while that flush runs.
  seg.wrotePosition = 250;
  let secondDone = false;
  const second = flusher.waitDurable(250).then(() => (secondDone = true));
  await turn();
  await seg.finish();
  assert.equal(flusher.flushedOffset, 100, 'the first flush made its range durable');
  assert.ok(firstDone, 'its waiter resolved without waiting for another flush');
  assert.equal(secondDone, false, 'the later record is not durable yet');
  await finishAllUntil(seg, () => secondDone);
  await Promise.all([first, second]);
  assert.equal(flusher.flushedOffset, 250);
  flusher.stop();
});

test('sync flush: flushAll waits for every byte written before it', async () => {
  const seg = new ManualSegment();
  const flusher = new FlushService(queueOf(seg), SYNC, 0, POOL_ONLY);
  seg.wrotePosition = 40;
  const waiting = flusher.waitDurable(40);
  await turn();
  seg.wrotePosition = 90;
  let all = false;
  const flushed = flusher.flushAll().then(() => (all = true));
  await finishAllUntil(seg, () => all);
  await Promise.all([waiting, flushed]);
  assert.equal(flusher.flushedOffset, 90);
  flusher.stop();
});

test('sync flush: a record appended during a flush gets its own at once, up to two in flight', async () => {
  const seg = new ManualSegment();
  const flusher = new FlushService(queueOf(seg), SYNC, 0, POOL_ONLY);
  const done: number[] = [];
  const wait = (end: number): Promise<void> =>
    flusher.waitDurable(end).then(() => {
      done.push(end);
    });
  seg.wrotePosition = 100;
  const w1 = wait(100);
  await turn();
  seg.wrotePosition = 200;
  const w2 = wait(200);
  await turn();
  assert.equal(seg.flushCalls, 2, 'the second flush started while the first runs');
  seg.wrotePosition = 300;
  const w3 = wait(300);
  await turn();
  assert.equal(seg.flushCalls, 2, 'no third flush while two are in flight');
  // The second flush (0..200) ends first: both earlier records are durable.
  await seg.finish('newest');
  assert.deepEqual(done, [100, 200]);
  assert.equal(flusher.flushedOffset, 200);
  await turn();
  assert.equal(seg.flushCalls, 3, 'a flush for the third record started once one ended');
  await finishAllUntil(seg, () => done.length === 3);
  await Promise.all([w1, w2, w3]);
  assert.equal(flusher.flushedOffset, 300);
  flusher.stop();
});

test('sync flush: a small group commit with no flush under way runs on this thread', async () => {
  const seg = new ManualSegment();
  const flusher = new FlushService(queueOf(seg), SYNC, 0);
  seg.wrotePosition = 1_000;
  await flusher.waitDurable(1_000);
  assert.deepEqual(seg.onThisThread, [true]);
  assert.equal(flusher.flushedOffset, 1_000);
  assert.equal(flusher.inlineFlushCount, 1);
  flusher.stop();
});

test('sync flush: large groups and overlapping flushes go to the thread pool', async () => {
  const seg = new ManualSegment();
  const flusher = new FlushService(queueOf(seg), SYNC, 0);
  seg.wrotePosition = INLINE_FLUSH_LIMITS.maxBytes + 1;
  const big = flusher.waitDurable(seg.wrotePosition);
  await turn();
  assert.deepEqual(seg.onThisThread, [false], 'more bytes than the limit');
  seg.wrotePosition += 100;
  const small = flusher.waitDurable(seg.wrotePosition);
  await turn();
  assert.deepEqual(seg.onThisThread, [false, false], 'another flush was under way');
  await finishAllUntil(
    seg,
    () => seg.pending.length === 0 && flusher.flushedOffset === seg.wrotePosition,
  );
  await Promise.all([big, small]);
  flusher.stop();
});

test('sync flush: a disk with slow flushes gets them on the thread pool', async () => {
  const seg = new ManualSegment();
  const flusher = new FlushService(queueOf(seg), SYNC, 0);
  seg.inlineBlockMs = INLINE_FLUSH_LIMITS.maxAverageMs + 3;
  seg.wrotePosition = 100;
  await flusher.waitDurable(100);
  seg.wrotePosition = 200;
  const next = flusher.waitDurable(200);
  await turn();
  assert.deepEqual(seg.onThisThread, [true, false], 'the first flush was slow');
  await seg.finish();
  await next;
  flusher.stop();
});

test('sync flush: maxBytes 0 keeps every flush on the thread pool', async () => {
  const seg = new ManualSegment();
  const flusher = new FlushService(queueOf(seg), SYNC, 0, POOL_ONLY);
  seg.wrotePosition = 10;
  const w = flusher.waitDurable(10);
  await turn();
  assert.deepEqual(seg.onThisThread, [false]);
  await seg.finish();
  await w;
  assert.equal(flusher.inlineFlushCount, 0);
  flusher.stop();
});

/** Async flush with 64 KiB blocks, a background flush every 5 ms, the thorough one as given. */
function asyncFlusher(seg: ManualSegment, thoroughMs: number): FlushService {
  const options: FlushOptions = {
    ...SYNC,
    flushMode: 'async',
    flushIntervalMs: 5,
    flushThoroughIntervalMs: thoroughMs,
    wholeBlockBytes: 64 * 1024,
  };
  const flusher = new FlushService(queueOf(seg), options, 0, POOL_ONLY);
  flusher.start();
  return flusher;
}

function untilFlushCalls(seg: ManualSegment, calls: number): Promise<void> {
  return waitFor(`${calls} flush calls`, () => seg.flushCalls >= calls, 2_000);
}

test('async flush: background flushes end at the last whole block; flushAll goes to the end', async () => {
  const seg = new ManualSegment();
  const flusher = asyncFlusher(seg, 60_000);
  seg.wrotePosition = 3 * 64 * 1024 + 5_000;
  await untilFlushCalls(seg, 1);
  await seg.finish();
  assert.equal(seg.flushedPosition, 3 * 64 * 1024);
  assert.equal(flusher.flushedOffset, 3 * 64 * 1024);
  // The rest of the block is not due until the appends leave it.
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(seg.flushCalls, 1);
  seg.wrotePosition = 4 * 64 * 1024 + 100;
  await untilFlushCalls(seg, 2);
  await seg.finish();
  assert.equal(seg.flushedPosition, 4 * 64 * 1024);
  const all = flusher.flushAll();
  await untilFlushCalls(seg, 3);
  await seg.finish();
  await all;
  assert.equal(flusher.flushedOffset, 4 * 64 * 1024 + 100);
  flusher.stop();
});

test('async flush: the thorough flush goes to the end of the log', async () => {
  const seg = new ManualSegment();
  const flusher = asyncFlusher(seg, 1);
  seg.wrotePosition = 64 * 1024 + 5_000;
  await untilFlushCalls(seg, 1);
  await seg.finish();
  assert.equal(flusher.flushedOffset, 64 * 1024 + 5_000);
  flusher.stop();
});
