/**
 * Load phases of `bench:e2e`, all through Sluice's own SDK over TCP:
 *
 * - batched sends: `Producer.sendBatch` (one SEND_BATCH_MESSAGE per batch), N batches in flight;
 * - pipelined single sends: `Producer.send`, N sends in flight on the one broker connection;
 * - fixed-rate latency: sends started on a schedule (rate R), latency measured from the
 *   scheduled start or the actual send if later (so a stalled sender is charged, not hidden),
 *   in an HDR histogram;
 * - consume: pulls at known offsets over every queue, N in flight, until everything was read.
 */
import hdr from 'hdr-histogram-js';
import { performance } from 'node:perf_hooks';
import type { ClientApi } from '../../src/client/client-api.js';
import { messageQueue } from '../../src/client/message-queue.js';
import type { Message } from '../../src/client/message.js';
import type { Producer } from '../../src/client/producer.js';
import { decodeMessages } from '../../src/client/received-message.js';
import { plainPullHeader } from '../plain-pull.js';

/** Outcome of a throughput phase. */
export interface ThroughputResult {
  messages: number;
  seconds: number;
}

/** Outcome of the fixed-rate phase (latencies in microseconds). */
export interface LatencyResult extends ThroughputResult {
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

const SEND_TIMEOUT_MS = 30_000;
/** Period of the fixed-rate sender's timer. */
const TICK_MS = 1;
const PULL_TIMEOUT_MS = 30_000;

/** Sends `total` messages in batches of `batchSize`, `concurrency` batches in flight. */
export async function runBatched(
  producer: Producer,
  message: Message,
  total: number,
  batchSize: number,
  concurrency: number,
): Promise<ThroughputResult> {
  const batch: Message[] = Array.from({ length: batchSize }, () => message);
  let started = 0;
  const begin = performance.now();
  const worker = async (): Promise<void> => {
    while (started < total) {
      const n = Math.min(batchSize, total - started);
      started += n;
      await producer.sendBatch(n === batchSize ? batch : batch.slice(0, n), {
        timeoutMs: SEND_TIMEOUT_MS,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { messages: total, seconds: (performance.now() - begin) / 1000 };
}

/** Sends `total` messages one per request, `concurrency` requests in flight. */
export async function runPipelined(
  producer: Producer,
  message: Message,
  total: number,
  concurrency: number,
): Promise<ThroughputResult> {
  let started = 0;
  const begin = performance.now();
  const worker = async (): Promise<void> => {
    while (started < total) {
      started++;
      await producer.send(message, { timeoutMs: SEND_TIMEOUT_MS });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, () => worker()));
  return { messages: total, seconds: (performance.now() - begin) / 1000 };
}

/**
 * Sends at `ratePerSecond` for `seconds`. Each send is due at `begin + i / rate`. A 1 ms timer
 * drives the sender; each tick issues every send due before the next tick (so the timer's
 * granularity adds no delay of its own: issuing only the sends already due made them wait up
 * to a whole timer period). A send's latency counts from its due time or from when it was
 * actually issued, whichever is later: a sender that falls behind (a stalled event loop, GC) is
 * charged to the latency, a send issued a little early is not credited for it.
 */
export async function runFixedRate(
  producer: Producer,
  message: Message,
  ratePerSecond: number,
  seconds: number,
): Promise<LatencyResult> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const total = Math.floor(ratePerSecond * seconds);
  const intervalMs = 1000 / ratePerSecond;
  let issued = 0;
  let completed = 0;
  let failure: unknown;
  const begin = performance.now();
  await new Promise<void>((resolveAll, reject) => {
    const onDone = (fromMs: number): void => {
      histogram.recordValue(Math.max(1, Math.round((performance.now() - fromMs) * 1000)));
      completed++;
      if (completed === total) resolveAll();
    };
    const onError = (error: unknown): void => {
      if (failure === undefined) {
        failure = error;
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const tick = (): void => {
      if (failure !== undefined) return;
      const now = performance.now();
      const due = Math.min(total, Math.floor((now + TICK_MS - begin) / intervalMs) + 1);
      while (issued < due) {
        const fromMs = Math.max(begin + issued * intervalMs, now);
        issued++;
        producer.send(message, { timeoutMs: SEND_TIMEOUT_MS }).then(() => onDone(fromMs), onError);
      }
      if (issued < total) setTimeout(tick, TICK_MS);
    };
    if (total === 0) resolveAll();
    else tick();
  });
  const result: LatencyResult = {
    messages: total,
    seconds: (performance.now() - begin) / 1000,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
    p999Us: histogram.getValueAtPercentile(99.9),
    maxUs: histogram.maxValue,
  };
  histogram.destroy();
  return result;
}

/** Counts the records of a pull body by walking their size words (no decoding). */
function countRecords(body: Uint8Array | undefined): number {
  if (!body) return 0;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let count = 0;
  let pos = 0;
  while (pos + 4 <= body.length) {
    const size = view.getInt32(pos);
    if (size <= 0) throw new Error(`bad record size ${size} at ${pos} of a pull body`);
    pos += size;
    count++;
  }
  if (pos !== body.length) throw new Error('a pull body ends inside a record');
  return count;
}

/** Options of {@link runConsume}. */
export interface ConsumeOptions {
  api: ClientApi;
  brokerAddr: string;
  brokerName: string;
  topic: string;
  queues: number;
  group: string;
  pullBatch: number;
  concurrency: number;
  decode: boolean;
}

/** Waits until the ConsumeQueues (written behind the log) hold `expected` messages in all. */
export async function waitIndexed(
  o: ConsumeOptions,
  expected: number,
  timeoutMs: number,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const maxOffsets = await Promise.all(
      Array.from({ length: o.queues }, (_, q) =>
        o.api.getMaxOffset(o.brokerAddr, messageQueue(o.topic, o.brokerName, q), PULL_TIMEOUT_MS),
      ),
    );
    const sum = maxOffsets.reduce((a, b) => a + b, 0);
    if (sum >= expected || Date.now() > deadline) return maxOffsets;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads every message of every queue from offset 0 up to `maxOffsets[q]`. */
export async function runConsume(
  o: ConsumeOptions,
  maxOffsets: readonly number[],
): Promise<ThroughputResult> {
  const work: Array<{ queueId: number; offset: number; end: number }> = [];
  const longest = Math.max(0, ...maxOffsets);
  // Interleave queues so every queue is read concurrently.
  for (let offset = 0; offset < longest; offset += o.pullBatch) {
    for (let q = 0; q < maxOffsets.length; q++) {
      const max = maxOffsets[q]!;
      if (offset < max) work.push({ queueId: q, offset, end: Math.min(max, offset + o.pullBatch) });
    }
  }
  let cursor = 0;
  let count = 0;
  const begin = performance.now();
  const worker = async (): Promise<void> => {
    while (cursor < work.length) {
      const item = work[cursor++]!;
      let offset = item.offset;
      while (offset < item.end) {
        const r = await o.api.pullMessage(
          o.brokerAddr,
          plainPullHeader(o.group, o.topic, item.queueId, offset, item.end - offset),
          PULL_TIMEOUT_MS,
        );
        if (r.status !== 'FOUND') {
          throw new Error(`pull ${o.topic}:${item.queueId}@${offset} answered ${r.status}`);
        }
        count += o.decode
          ? decodeMessages(r.body, undefined, o.brokerName).length
          : countRecords(r.body);
        if (r.nextBeginOffset <= offset) throw new Error('a pull made no progress');
        offset = r.nextBeginOffset;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, () => worker()));
  return { messages: count, seconds: (performance.now() - begin) / 1000 };
}
