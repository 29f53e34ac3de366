/**
 * CommitLog benchmark: `npm run bench:store`.
 *
 * Prints Markdown tables:
 * 1. async-flush appends of 1 KiB bodies for 1, 100, 1000 and 10000 topics × 8 queues
 *    (round-robin) on the mmap and file backends: appends/s, MB/s, and MB/s as a fraction of
 *    the raw baselines below;
 * 2. sync-flush (group commit) appends/s with 1, 16 and 256 concurrent writers;
 * 3. baselines: sequential `fs.writeSync` of 1 MiB blocks + fsync, and memcpy of 1 MiB blocks
 *    into an already-faulted mapping;
 * 4. the store with dispatch included: `MessageStore.putMessageNow` (async flush) of the same
 *    messages, each carrying its topic slot as the broker's do, until every ConsumeQueue and
 *    key-index entry is written behind the log — puts/s and CPU-seconds per million puts (whole
 *    process, and main thread alone).
 *
 * Each message carries its own UNIQ_KEY (as every RocketMQ producer sets one), so the key index
 * writes to random hash slots as it does in a broker. Each async cell first writes a lead-in of
 * {@link LEAD_IN_BYTES}, not measured: the JIT compiles the put path and the heap settles
 * (the first ~64 MiB of puts ran at a third of the later rate).
 *
 * Environment:
 * - SLUICE_BENCH_BYTES: record bytes appended per cell (default 2 GiB);
 * - SLUICE_BENCH_SYNC_MS: duration of each sync-flush cell (default 3000);
 * - SLUICE_BENCH_DIR: folder for the data (default: os.tmpdir()); everything is deleted after.
 * - SLUICE_BENCH_TOPICS: comma list overriding the topic counts (e.g. "1,100").
 *
 * Hook: {@link EXTRA_COLUMNS} is where the store facade adds its dispatch column (records
 * indexed per second behind the log) without touching the rest of this file.
 */
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CommitLog, type QueueOffsetAssigner } from '../src/store/commit-log.js';
import type { TopicSlot } from '../src/store/topic-slot.js';
import { MessageStore } from '../src/store/message-store.js';
import * as native from '../src/store/io/native.js';
import {
  DEFAULT_STORE_CONFIG,
  type MessageToStore,
  type StoreBackend,
  type StoreConfig,
} from '../src/store/types.js';

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;
const BODY_BYTES = 1024;
const QUEUES = 8;
const CELL_BYTES = Number(process.env.SLUICE_BENCH_BYTES ?? 2 * GIB);
const SYNC_MS = Number(process.env.SLUICE_BENCH_SYNC_MS ?? 3000);
const ROOT = process.env.SLUICE_BENCH_DIR ?? tmpdir();
const TOPIC_COUNTS = (process.env.SLUICE_BENCH_TOPICS ?? '1,100,1000,10000').split(',').map(Number);
const BACKENDS: StoreBackend[] = native.nativeAvailable ? ['mmap', 'file'] : ['file'];
/** Written before an async cell's measured bytes, not counted (see the header). */
const LEAD_IN_BYTES = 128 * MIB;
/** Distinct messages (and UNIQ_KEYs) each cell cycles through, at least one per queue. */
const MESSAGE_POOL = 65_536;
/** Appends per event-loop turn (the flusher and worker replies run in between). */
const APPENDS_PER_TURN = 8192;

/** What one async-append cell measured; passed to extra columns. */
export interface CellResult {
  backend: StoreBackend;
  topics: number;
  appends: number;
  recordBytes: number;
  seconds: number;
  log: CommitLog;
  dir: string;
}

/**
 * Extra columns for the async-append table, computed after the cell's appends while the log is
 * still open. The store facade's author adds the dispatch column here.
 */
export const EXTRA_COLUMNS: Array<{ name: string; measure(cell: CellResult): Promise<string> }> =
  [];

/** Queue offsets without per-message allocation: topic → offsets per queue id. */
class ArrayAssigner implements QueueOffsetAssigner {
  private readonly map = new Map<string, number[]>();
  next(slot: TopicSlot, queueId: number, count: number): number {
    let q = this.map.get(slot.topic);
    if (q === undefined) {
      q = new Array<number>(QUEUES).fill(0);
      this.map.set(slot.topic, q);
    }
    const v = q[queueId];
    q[queueId] = v + count;
    return v;
  }
}

function config(dir: string, backend: StoreBackend, over: Partial<StoreConfig> = {}): StoreConfig {
  return {
    ...DEFAULT_STORE_CONFIG,
    storePath: dir,
    backend,
    commitLogSegmentSizeBytes: GIB,
    warmSegments: true,
    ...over,
  };
}

/**
 * One message per topic and queue. With `slotOf`, each carries its topic's store slot, set in
 * the literal as the broker sets it (a copy made with `{ ...m, slot }` instead was measured at
 * ~1.8× the main-thread CPU per put at 10,000 topics: V8's object spread did not give the copies
 * one shared shape, so the put path's property reads went megamorphic).
 */
function messages(topics: number, slotOf?: (topic: string) => TopicSlot): MessageToStore[] {
  const body = Buffer.alloc(BODY_BYTES, 0x61);
  const out: MessageToStore[] = [];
  const slots = new Map<string, TopicSlot | undefined>();
  const count = Math.max(topics * QUEUES, MESSAGE_POOL);
  for (let k = 0; k < count; k++) {
    // Round-robin over the topics, then over the queues.
    const topic = `BenchTopic_${k % topics}`;
    if (!slots.has(topic)) slots.set(topic, slotOf?.(topic));
    const uniqKey = `7F000001${k.toString(16).toUpperCase().padStart(24, '0')}`;
    out.push({
      topic,
      queueId: Math.floor(k / topics) % QUEUES,
      flag: 0,
      body,
      properties: `TAGS\u0001bench\u0002UNIQ_KEY\u0001${uniqKey}\u0002`,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      bornHost: { address: new Uint8Array([127, 0, 0, 1]), port: 40000 },
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      slot: slots.get(topic),
    });
  }
  return out;
}

/**
 * CPU seconds used so far by the calling (main) thread, from /proc/thread-self/stat; NaN when
 * unavailable. The machine is shared, so appends per CPU-second is steadier than wall time.
 */
function threadCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime (fields 14 and 15 of the full line), in ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

/**
 * The unmeasured lead-in of an async cell: {@link LEAD_IN_BYTES} of records of `recordBytes`,
 * `put(j)` for each, in turns of {@link APPENDS_PER_TURN} as the measured phase runs.
 */
async function leadIn(recordBytes: number, put: (j: number) => void): Promise<void> {
  const count = Math.floor(LEAD_IN_BYTES / recordBytes);
  for (let j = 0; j < count;) {
    const stop = Math.min(count, j + APPENDS_PER_TURN);
    for (; j < stop; j++) put(j);
    await yieldToLoop();
  }
}

async function asyncCell(
  backend: StoreBackend,
  topics: number,
  rawWriteMBs: number,
  memcpyMBs: number,
): Promise<string> {
  const dir = mkdtempSync(join(ROOT, 'sluice-bench-'));
  try {
    const log = await CommitLog.open(config(dir, backend), new ArrayAssigner());
    log.recover(0);
    const msgs = messages(topics);
    // Warm-up: the first segment is not pre-faulted by the allocator; let the worker catch up.
    const first = log.append(msgs[0]);
    const recordBytes = first.sizeBytes;
    const total = Math.max(1, Math.floor(CELL_BYTES / recordBytes));
    await leadIn(recordBytes, (j) => log.append(msgs[j % msgs.length]));
    await log.segmentQueue.allocator.idle();
    global.gc?.();
    let i = 1;
    const cpu0 = threadCpuSeconds();
    const t0 = process.hrtime.bigint();
    while (i < total) {
      const stop = Math.min(total, i + APPENDS_PER_TURN);
      for (; i < stop; i++) log.append(msgs[i % msgs.length]);
      await yieldToLoop();
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpuSeconds = threadCpuSeconds() - cpu0;
    const appends = total - 1;
    const mbs = (appends * recordBytes) / MIB / seconds;
    const extra: string[] = [];
    for (const c of EXTRA_COLUMNS) {
      extra.push(await c.measure({ backend, topics, appends, recordBytes, seconds, log, dir }));
    }
    await log.close();
    return (
      `| ${backend} | ${fmt(topics)} × ${QUEUES} | ${fmt(appends / seconds)} | ` +
      `${fmt(appends / cpuSeconds)} | ${fmt(mbs)} | ` +
      `${fmt(mbs / rawWriteMBs, 2)} | ${fmt(mbs / memcpyMBs, 2)} |` +
      extra.map((e) => ` ${e} |`).join('')
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function syncCell(backend: StoreBackend, writers: number): Promise<string> {
  const dir = mkdtempSync(join(ROOT, 'sluice-bench-'));
  try {
    const log = await CommitLog.open(
      config(dir, backend, { flushMode: 'sync', commitLogSegmentSizeBytes: 256 * MIB }),
      new ArrayAssigner(),
    );
    log.recover(0);
    const msgs = messages(1);
    let acked = 0;
    let running = true;
    const t0 = performance.now();
    const stopAt = t0 + SYNC_MS;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        let n = w;
        while (running) {
          const r = log.append(msgs[n++ % msgs.length]);
          await log.waitDurable(r.physicalOffset + r.sizeBytes);
          acked++;
          if (performance.now() >= stopAt) running = false;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const flushes = log.flusher.flushCount;
    await log.close();
    return `| ${backend} | ${writers} | ${fmt(acked / seconds)} | ${fmt(acked / Math.max(1, flushes), 1)} |`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Puts through the store facade, dispatch included (async flush). */
async function storeCell(backend: StoreBackend, topics: number): Promise<string> {
  const dir = mkdtempSync(join(ROOT, 'sluice-bench-'));
  try {
    const store = await MessageStore.open({
      ...config(dir, backend),
      indexMaxHashSlots: 5_000_000,
      cleanResourceIntervalMs: 3_600_000,
    });
    // Each message carries its topic's slot, as the broker's sends do.
    const msgs = messages(topics, (topic) => store.topicSlot(topic));
    // Every queue once (creates them), then let the first segment's warm-up finish.
    let recordBytes = 0;
    for (const m of msgs.slice(0, topics * QUEUES)) {
      const r = store.putMessageNow(m);
      if (!('then' in r)) recordBytes = r.appended[0].sizeBytes;
      else recordBytes = (await r).appended[0].sizeBytes;
    }
    await leadIn(recordBytes, (j) => void store.putMessageNow(msgs[j % msgs.length]));
    await store.whenDispatched();
    await store.warmedUp();
    global.gc?.();
    const total = Math.max(1, Math.floor(CELL_BYTES / recordBytes));
    const cpu0 = process.cpuUsage();
    const thread0 = threadCpuSeconds();
    const t0 = process.hrtime.bigint();
    let i = 0;
    let pending: Promise<unknown> | null = null;
    while (i < total) {
      const stop = Math.min(total, i + APPENDS_PER_TURN);
      for (; i < stop; i++) {
        const r = store.putMessageNow(msgs[i % msgs.length]);
        if ('then' in r) pending = r;
      }
      await yieldToLoop();
    }
    if (pending !== null) await pending;
    await store.whenDispatched();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const processCpu = (cpu.user + cpu.system) / 1e6;
    const threadCpu = threadCpuSeconds() - thread0;
    await store.shutdown();
    const perMillion = (s: number): string => fmt(s / (total / 1e6), 2);
    return (
      `| ${backend} | ${fmt(topics)} × ${QUEUES} | ${fmt(total / seconds)} | ` +
      `${perMillion(processCpu)} | ${perMillion(threadCpu)} |`
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sequential 1 MiB writeSync + final fsync; returns MB/s. */
function rawWrite(bytes: number): number {
  const dir = mkdtempSync(join(ROOT, 'sluice-bench-'));
  try {
    const fd = openSync(join(dir, 'raw'), 'w');
    const block = Buffer.alloc(MIB, 0x62);
    const blocks = Math.max(1, Math.floor(bytes / MIB));
    const t0 = performance.now();
    for (let i = 0; i < blocks; i++) writeSync(fd, block, 0, MIB, i * MIB);
    fsyncSync(fd);
    const seconds = (performance.now() - t0) / 1000;
    closeSync(fd);
    return blocks / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** memcpy of 1 MiB blocks into a mapping whose pages were faulted in first; returns MB/s. */
function rawMemcpy(bytes: number): number {
  if (!native.nativeAvailable) return NaN;
  const dir = mkdtempSync(join(ROOT, 'sluice-bench-'));
  try {
    const size = Math.min(GIB, Math.max(MIB, Math.floor(bytes / MIB) * MIB));
    const fd = openSync(join(dir, 'map'), 'w+');
    native.fallocate(fd, 0, size);
    const ab = native.map(fd, size, 0);
    closeSync(fd);
    const u8 = new Uint8Array(ab);
    u8.fill(0); // fault every page in (warm)
    const block = Buffer.alloc(MIB, 0x63);
    const rounds = Math.max(1, Math.round(bytes / size));
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) for (let p = 0; p < size; p += MIB) u8.set(block, p);
    const seconds = (performance.now() - t0) / 1000;
    native.unmap(ab);
    return (rounds * size) / MIB / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(
    `# Sluice store benchmark\n\nload average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ` +
      `${availableParallelism()} cores; Node ${process.version}, ${fmt(CELL_BYTES / MIB)} MiB per ` +
      `async cell, 1 GiB segments, ${BODY_BYTES}-byte bodies, data in ${ROOT}\n`,
  );
  const rawWriteMBs = rawWrite(Math.min(CELL_BYTES, GIB));
  const memcpyMBs = rawMemcpy(Math.min(CELL_BYTES, GIB));
  console.log('## Baselines\n');
  console.log('| baseline | MB/s |\n|---|---|');
  console.log(`| sequential fs.writeSync 1 MiB blocks + fsync | ${fmt(rawWriteMBs)} |`);
  console.log(`| memcpy 1 MiB blocks into a warm mapping | ${fmt(memcpyMBs)} |\n`);

  console.log('## Async flush appends\n');
  const extraHead = EXTRA_COLUMNS.map((c) => ` ${c.name} |`).join('');
  const extraSep = EXTRA_COLUMNS.map(() => '---|').join('');
  console.log(
    `| backend | topics × queues | appends/s | appends per main-thread CPU-s | MB/s | ` +
      `÷ raw write | ÷ memcpy |${extraHead}\n` +
      `|---|---|---|---|---|---|---|${extraSep}`,
  );
  for (const topics of TOPIC_COUNTS) {
    for (const backend of BACKENDS) {
      console.log(await asyncCell(backend, topics, rawWriteMBs, memcpyMBs));
    }
  }

  console.log('\n## Store: puts with dispatch (ConsumeQueue + key index), async flush\n');
  console.log(
    '| backend | topics × queues | puts/s (until dispatched) | CPU-s per million (process) | ' +
      'CPU-s per million (main thread) |\n|---|---|---|---|---|',
  );
  for (const topics of TOPIC_COUNTS) {
    for (const backend of BACKENDS) console.log(await storeCell(backend, topics));
  }

  console.log('\n## Sync flush (group commit), 1 topic\n');
  console.log(
    '| backend | concurrent writers | appends/s | appends per flush |\n|---|---|---|---|',
  );
  for (const backend of BACKENDS) {
    for (const writers of [1, 16, 256]) console.log(await syncCell(backend, writers));
  }
}

await main();
