/**
 * Settings of the comparison benchmark, read from SLUICE_BENCH_* environment variables, and the
 * interface every compared system implements.
 */

/** Durability class of a run: background flush, or durable before the publish is acknowledged. */
export type Durability = 'async' | 'sync';

/** Everything a run needs to know; see {@link readBenchSettings} for the variables. */
export interface BenchSettings {
  /** Messages published per cell in the throughput phase. */
  messagesPerCell: number;
  /** Topic counts (cells) to run. */
  topicCounts: number[];
  /** Message body size. */
  bodyBytes: number;
  /** Runs of each cell; the report shows the median. */
  runs: number;
  /** Systems to run, by key: sluice, nats, redis. */
  systems: string[];
  /** Durability classes to run. */
  durabilities: Durability[];
  /** Publishes outstanding at once (unacknowledged) in the throughput phase. */
  window: number;
  /**
   * Messages published (unmeasured) before the latency phase; at least one per topic is sent
   * whatever this says.
   */
  warmupMessages: number;
  /** Fixed publish rate of the latency phase. */
  latencyRatePerSec: number;
  /** Messages sent in the latency phase. */
  latencyMessages: number;
  /** Messages sent at the latency phase's rate just before it, not measured. */
  latencyLeadInMessages: number;
  /** Upper bound on each phase (publish, read) of a cell. */
  phaseTimeoutMs: number;
  /**
   * Freed malloc memory this process (every system's client) keeps instead of giving it back to
   * the kernel, as Sluice's broker does by default (`mallocRetainBytes`); 0 leaves malloc alone.
   */
  clientMallocRetainBytes: number;
  /** Folder for server data (must be on the disk under test, not tmpfs). */
  dataRoot: string;
  /** Folder the markdown report and SVG chart are written to. */
  resultsDir: string;
}

/** `text` as an integer of at least `min` (underscores may group digits), else undefined. */
function integerAtLeast(text: string, min: number): number | undefined {
  const value = Number(text.trim().replace(/_/g, ''));
  return Number.isInteger(value) && value >= min ? value : undefined;
}

function intList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw.split(',').map((part) => {
    const value = integerAtLeast(part, 1);
    if (value === undefined) {
      throw new Error(`${name} must be a comma-separated list of positive integers, got "${raw}"`);
    }
    return value;
  });
}

function int(name: string, fallback: number): number {
  return intList(name, [fallback])[0] ?? fallback;
}

function nonNegativeInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = integerAtLeast(raw, 0);
  if (value === undefined) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function words<T extends string>(name: string, allowed: readonly T[], fallback: T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const values = raw.split(',').map((part) => part.trim().toLowerCase());
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new Error(`${name} accepts ${allowed.join(', ')}; got "${value}"`);
    }
  }
  return values as T[];
}

/** `SLUICE_BENCH_QUICK=1`: smaller defaults for a look in minutes instead of hours. */
function isQuickRun(): boolean {
  const raw = (process.env.SLUICE_BENCH_QUICK ?? '').trim().toLowerCase();
  return raw !== '' && raw !== '0' && raw !== 'false' && raw !== 'no';
}

/**
 * Reads the settings:
 * - `SLUICE_BENCH_QUICK` (off): when set, the defaults become 20,000 messages and 1 run per cell
 *   (explicit SLUICE_BENCH_MESSAGES / SLUICE_BENCH_RUNS still win),
 * - `SLUICE_BENCH_MESSAGES` (200000) messages per cell,
 * - `SLUICE_BENCH_TOPICS` (1,100,1000,10000) topic counts,
 * - `SLUICE_BENCH_RUNS` (3), `SLUICE_BENCH_BODY_BYTES` (1024), `SLUICE_BENCH_WINDOW` (1024),
 * - `SLUICE_BENCH_SYSTEMS` (sluice,nats,redis), `SLUICE_BENCH_DURABILITY` (async,sync),
 * - `SLUICE_BENCH_WARMUP_MESSAGES` (5000, and at least one per topic),
 * - `SLUICE_BENCH_LATENCY_RATE` (1000 msgs/s), `SLUICE_BENCH_LATENCY_MESSAGES` (3000),
 * - `SLUICE_BENCH_LATENCY_LEAD_IN` (6000; 0 turns it off) unmeasured messages at that rate first,
 * - `SLUICE_BENCH_CLIENT_MALLOC_RETAIN` (268435456; 0 turns it off) freed malloc bytes the
 *   harness process keeps (see {@link BenchSettings.clientMallocRetainBytes}),
 * - `SLUICE_BENCH_PHASE_TIMEOUT_MS` (300000), `SLUICE_BENCH_DATA` (bench/results/tmp),
 *   `SLUICE_BENCH_RESULTS` (bench/results).
 */
export function readBenchSettings(repoRoot: string): BenchSettings {
  const quick = isQuickRun();
  return {
    messagesPerCell: int('SLUICE_BENCH_MESSAGES', quick ? 20_000 : 200_000),
    topicCounts: intList('SLUICE_BENCH_TOPICS', [1, 100, 1_000, 10_000]),
    bodyBytes: int('SLUICE_BENCH_BODY_BYTES', 1024),
    runs: int('SLUICE_BENCH_RUNS', quick ? 1 : 3),
    systems: words(
      'SLUICE_BENCH_SYSTEMS',
      ['sluice', 'nats', 'redis'],
      ['sluice', 'nats', 'redis'],
    ),
    durabilities: words<Durability>(
      'SLUICE_BENCH_DURABILITY',
      ['async', 'sync'],
      ['async', 'sync'],
    ),
    window: int('SLUICE_BENCH_WINDOW', 1024),
    warmupMessages: int('SLUICE_BENCH_WARMUP_MESSAGES', 5_000),
    latencyRatePerSec: int('SLUICE_BENCH_LATENCY_RATE', 1_000),
    latencyMessages: int('SLUICE_BENCH_LATENCY_MESSAGES', 3_000),
    latencyLeadInMessages: nonNegativeInt('SLUICE_BENCH_LATENCY_LEAD_IN', 6_000),
    phaseTimeoutMs: int('SLUICE_BENCH_PHASE_TIMEOUT_MS', 300_000),
    clientMallocRetainBytes: nonNegativeInt('SLUICE_BENCH_CLIENT_MALLOC_RETAIN', 256 * 1024 * 1024),
    dataRoot: process.env.SLUICE_BENCH_DATA ?? `${repoRoot}/bench/results/tmp`,
    resultsDir: process.env.SLUICE_BENCH_RESULTS ?? `${repoRoot}/bench/results`,
  };
}

/** Topic names of a cell, spelled the way each system names things. */
export function topicNames(prefix: string, separator: string, count: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(`${prefix}${separator}t${i}`);
  return names;
}

/** One started system, ready for the workload. */
export interface RunningSystem {
  /** Pid of the server process whose CPU time is measured. */
  readonly serverPid: number;
  /** Creates the topics (streams, keys) of the cell; not timed. */
  prepare(topicCount: number): Promise<void>;
  /**
   * Publishes `total` messages of `body`, message i to topic i % topicCount, in the system's
   * best publishing mode with at most `window` unacknowledged; resolves when all are acknowledged.
   */
  publishAll(total: number, body: Buffer, window: number, deadlineMs: number): Promise<void>;
  /** Publishes one message and resolves when it is acknowledged (latency phase). */
  publishOne(topicIndex: number, body: Buffer): Promise<void>;
  /** Reads every message of every topic back; resolves with the count read. */
  readAll(expected: number, deadlineMs: number): Promise<number>;
  /** What the server printed so far (for diagnosing a failed run). */
  serverOutput(): string;
  /** Closes the client and stops the server. */
  stop(): Promise<void>;
}

/** A system that can be compared. */
export interface ComparedSystem {
  /** Key used in SLUICE_BENCH_SYSTEMS. */
  readonly key: string;
  /** Display name. */
  readonly name: string;
  /** Undefined when it can run here; otherwise why not and how to fix it. */
  unavailableReason(): string | undefined;
  /** One line on how the system is configured for `durability`, for the report. */
  describe(durability: Durability): string;
  /**
   * Starts the server with its data in `dataDir` and connects a client; `topicCount` lets a
   * system provision its topics in its configuration before start.
   */
  start(durability: Durability, dataDir: string, topicCount: number): Promise<RunningSystem>;
}
