/**
 * Dispatch benchmark for the store facade: `npm run build && node dist/bench/store-dispatch.js`.
 *
 * For 1, 100, 1000 and 10000 topics × 8 queues (round-robin), prints a Markdown table with
 * 1. end to end: `putMessage` (async flush) of every message, then wait until the dispatcher
 *    has written every ConsumeQueue entry (and index entry for the UNIQ_KEY) — messages/s;
 * 2. dispatch only: the ConsumeQueues, index and checkpoint are deleted and the store reopened,
 *    which re-dispatches the whole log synchronously — ConsumeQueue entries/s over the
 *    re-dispatch alone (log recovery excluded; files are created, buffers written at the end).
 *
 * Environment: SLUICE_BENCH_MESSAGES (per cell, default 200000), SLUICE_BENCH_BODY (bytes,
 * default 256), SLUICE_BENCH_BACKEND (mmap|file, default mmap when built), SLUICE_BENCH_TOPICS
 * (comma list), SLUICE_BENCH_DIR (data folder, default os.tmpdir(); deleted after).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeProperties } from '../src/common/codec/properties.js';
import { nativeAvailable } from '../src/store/io/native.js';
import { MessageStore } from '../src/store/message-store.js';
import type { MessageToStore, StoreBackend, StoreConfig } from '../src/store/types.js';

const QUEUES = 8;
const MESSAGES = Number(process.env.SLUICE_BENCH_MESSAGES ?? 200_000);
const BODY_BYTES = Number(process.env.SLUICE_BENCH_BODY ?? 256);
const BACKEND = (process.env.SLUICE_BENCH_BACKEND ??
  (nativeAvailable ? 'mmap' : 'file')) as StoreBackend;
const TOPICS = (process.env.SLUICE_BENCH_TOPICS ?? '1,100,1000,10000').split(',').map(Number);
const ROOT = process.env.SLUICE_BENCH_DIR ?? os.tmpdir();

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function config(dir: string): Partial<StoreConfig> {
  return {
    storePath: dir,
    backend: BACKEND,
    commitLogSegmentSizeBytes: 256 * 1024 * 1024,
    warmSegments: false,
    indexMaxHashSlots: 500_000,
    indexMaxEntries: 2_000_000,
    cleanResourceIntervalMs: 3_600_000,
  };
}

/** One reusable message per topic/queue slot; only UNIQ_KEY-free props to keep puts cheap. */
function messages(topics: number): MessageToStore[] {
  const body = Buffer.alloc(BODY_BYTES, 0x61);
  const props = encodeProperties({ TAGS: 'TagA', UNIQ_KEY: 'C0A8000100002A9F0000000000000000' });
  const out: MessageToStore[] = [];
  for (let t = 0; t < topics; t++) {
    for (let q = 0; q < QUEUES; q++) {
      out.push({
        topic: `BenchTopic${t}`,
        queueId: q,
        flag: 0,
        body,
        properties: props,
        sysFlag: 0,
        bornTimestamp: Date.now(),
        bornHost: { address: new Uint8Array([127, 0, 0, 1]), port: 1 },
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
      });
    }
  }
  return out;
}

async function cell(topics: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(ROOT, 'sluice-bench-dispatch-'));
  try {
    const msgs = messages(topics);
    const store = await MessageStore.open(config(dir));
    const t0 = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      const r = await store.putMessage(msgs[i % msgs.length]);
      if (r.status !== 'PUT_OK') throw new Error(`put failed: ${r.status}`);
    }
    const tPut = performance.now();
    await store.whenDispatched();
    const tEnd = performance.now();
    let queues = 0;
    for (const ids of store.listQueues().values()) queues += ids.length;
    await store.shutdown();

    // Dispatch only: rebuild every ConsumeQueue and the index from the log.
    for (const p of ['consumequeue', 'index', 'checkpoint']) {
      fs.rmSync(path.join(dir, p), { recursive: true, force: true });
    }
    const rebuilt = await MessageStore.open(config(dir));
    const redispatched = rebuilt.recovery.recordsRedispatched;
    const redispatchMs = rebuilt.recovery.redispatchMs;
    await rebuilt.shutdown();
    const putRate = MESSAGES / ((tPut - t0) / 1000);
    const e2eRate = MESSAGES / ((tEnd - t0) / 1000);
    const rebuildRate = redispatched / (redispatchMs / 1000);
    return `| ${BACKEND} | ${fmt(topics)} × ${QUEUES} (${fmt(queues)} queues) | ${fmt(putRate)} | ${fmt(e2eRate)} | ${fmt(rebuildRate)} |`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `\nStore dispatch: ${fmt(MESSAGES)} messages of ${BODY_BYTES} B per cell, async flush, TAGS + UNIQ_KEY indexed\n`,
);
console.log('| backend | topics | put msg/s | put + dispatched msg/s | re-dispatch CQ entries/s |');
console.log('|---|---|---|---|---|');
for (const t of TOPICS) console.log(await cell(t));
