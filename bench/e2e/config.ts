/**
 * Settings of `npm run bench:e2e`, read from the environment so a run can be scaled down (CI, a
 * busy machine) or pointed at a profile folder without editing code.
 *
 * | variable                         | default | meaning                                          |
 * |----------------------------------|---------|--------------------------------------------------|
 * | SLUICE_E2E_BODY_BYTES            | 1024    | message body size                                |
 * | SLUICE_E2E_QUEUES                | 8       | queues of the benchmark topic                    |
 * | SLUICE_E2E_BATCH_MESSAGES        | 500000  | messages sent in SEND_BATCH requests             |
 * | SLUICE_E2E_BATCH_SIZE            | 50      | messages per SEND_BATCH request                  |
 * | SLUICE_E2E_BATCH_CONCURRENCY     | 16      | batch requests in flight                         |
 * | SLUICE_E2E_SINGLE_MESSAGES       | 200000  | messages sent one per request                    |
 * | SLUICE_E2E_SINGLE_CONCURRENCY    | 256     | single sends in flight (pipelined on 1 socket)   |
 * | SLUICE_E2E_RATE                  | 20000   | fixed send rate of the latency phase (msgs/s)    |
 * | SLUICE_E2E_LATENCY_SECONDS       | 5       | length of the latency phase (after 1 s unrecorded) |
 * | SLUICE_E2E_PULL_CONCURRENCY      | 32      | pulls in flight while reading back               |
 * | SLUICE_E2E_PULL_BATCH            | 32      | messages asked per pull                          |
 * | SLUICE_E2E_DECODE                | 0       | 1: decode every pulled message (client CPU)      |
 * | SLUICE_E2E_PHASES                | all     | comma list of batch,single,latency,consume       |
 * | SLUICE_E2E_CPU_PROF              | (none)  | folder: the broker writes a .cpuprofile there    |
 * | SLUICE_E2E_DATA                  | tmp dir | data folder of the broker (removed afterwards)   |
 * | SLUICE_E2E_BROKER_ARGS           | (none)  | extra CLI arguments, space separated             |
 * | SLUICE_E2E_BROKER_NODE_ARGS      | (none)  | extra node flags of the broker (`--trace-gc`)    |
 * | SLUICE_E2E_BROKER_OUTPUT         | (none)  | file: the broker's whole output, written at end  |
 */

/** Phases the benchmark can run. */
export type Phase = 'batch' | 'single' | 'latency' | 'consume';

/** Resolved settings of one run. */
export interface E2eConfig {
  bodyBytes: number;
  queues: number;
  batchMessages: number;
  batchSize: number;
  batchConcurrency: number;
  singleMessages: number;
  singleConcurrency: number;
  ratePerSecond: number;
  latencySeconds: number;
  pullConcurrency: number;
  pullBatch: number;
  decode: boolean;
  phases: ReadonlySet<Phase>;
  cpuProfileDir: string | undefined;
  dataDir: string | undefined;
  brokerArgs: string[];
  brokerNodeArgs: string[];
  brokerOutputFile: string | undefined;
}

const ALL_PHASES: readonly Phase[] = ['batch', 'single', 'latency', 'consume'];

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name}=${raw}: expected a non-negative integer`);
  }
  return value;
}

function phasesOf(raw: string | undefined): Set<Phase> {
  if (raw === undefined || raw === '' || raw === 'all') return new Set(ALL_PHASES);
  const out = new Set<Phase>();
  for (const part of raw.split(',')) {
    const p = part.trim() as Phase;
    if (!ALL_PHASES.includes(p)) {
      throw new Error(`SLUICE_E2E_PHASES: unknown phase '${part}'; use ${ALL_PHASES.join(',')}`);
    }
    out.add(p);
  }
  return out;
}

/** Reads the settings from `env`. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): E2eConfig {
  const optional = (name: string): string | undefined =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];
  return {
    bodyBytes: positiveInt(env, 'SLUICE_E2E_BODY_BYTES', 1024),
    queues: Math.max(1, positiveInt(env, 'SLUICE_E2E_QUEUES', 8)),
    batchMessages: positiveInt(env, 'SLUICE_E2E_BATCH_MESSAGES', 500_000),
    batchSize: Math.max(1, positiveInt(env, 'SLUICE_E2E_BATCH_SIZE', 50)),
    batchConcurrency: Math.max(1, positiveInt(env, 'SLUICE_E2E_BATCH_CONCURRENCY', 16)),
    singleMessages: positiveInt(env, 'SLUICE_E2E_SINGLE_MESSAGES', 200_000),
    singleConcurrency: Math.max(1, positiveInt(env, 'SLUICE_E2E_SINGLE_CONCURRENCY', 256)),
    ratePerSecond: Math.max(1, positiveInt(env, 'SLUICE_E2E_RATE', 20_000)),
    latencySeconds: positiveInt(env, 'SLUICE_E2E_LATENCY_SECONDS', 5),
    pullConcurrency: Math.max(1, positiveInt(env, 'SLUICE_E2E_PULL_CONCURRENCY', 32)),
    pullBatch: Math.max(1, positiveInt(env, 'SLUICE_E2E_PULL_BATCH', 32)),
    decode: env.SLUICE_E2E_DECODE === '1',
    phases: phasesOf(env.SLUICE_E2E_PHASES),
    cpuProfileDir: optional('SLUICE_E2E_CPU_PROF'),
    dataDir: optional('SLUICE_E2E_DATA'),
    brokerArgs: (optional('SLUICE_E2E_BROKER_ARGS') ?? '').split(' ').filter((s) => s !== ''),
    brokerOutputFile: optional('SLUICE_E2E_BROKER_OUTPUT'),
    brokerNodeArgs: (optional('SLUICE_E2E_BROKER_NODE_ARGS') ?? '')
      .split(' ')
      .filter((s) => s !== ''),
  };
}
