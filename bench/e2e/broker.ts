/**
 * The broker under test: `sluice start` in its own process (name server + broker, async flush,
 * default 1 GiB segments), with the benchmark topic provisioned in `config/topics.json` before
 * start so no auto-creation or registration round trips happen during the measurement.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  processCpuSeconds,
  startServer,
  type ServerProcess,
} from '../compare/server-process.js';

const USER_HZ = 100;
const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, found from dist/bench/e2e. */
const CLI_PATH = resolve(here, '../../src/cli/main.js');

/** A running broker process. */
export interface BrokerUnderTest {
  readonly pid: number;
  readonly namesrvAddr: string;
  readonly brokerAddr: string;
  /** User + system CPU seconds the broker process used so far. */
  cpuSeconds(): number;
  /** The same split: user and system (kernel) CPU seconds. */
  cpuSplitSeconds(): { user: number; system: number };
  /** CPU seconds per thread (`name/tid` from /proc/PID/task), for finding who burns the CPU. */
  threadCpuSeconds(): Map<string, number>;
  /** Minor and major page faults of the process so far (fields 10 and 12 of /proc/PID/stat). */
  pageFaults(): { minor: number; major: number };
  /**
   * Waits until the broker uses less than 5% of a core over 500 ms (a fresh broker pre-faults
   * its next 1 GiB segment in a worker for several CPU-seconds), at most `timeoutMs`.
   * @returns the milliseconds waited.
   */
  waitIdle(timeoutMs: number): Promise<number>;
  /** Stops the process (SIGTERM: it flushes, and writes its profile if asked) and removes its data. */
  stop(): Promise<void>;
  output(): string;
}

/** Options of {@link startBroker}. */
export interface StartBrokerOptions {
  topic: string;
  queues: number;
  dataDir: string | undefined;
  cpuProfileDir: string | undefined;
  extraArgs: readonly string[];
  /** Node flags put before the CLI path (e.g. `--trace-gc`). */
  nodeArgs?: readonly string[];
}

/**
 * utime and stime of /proc/PID/stat (fields 14 and 15), in seconds, from one read. Linux reports
 * them in USER_HZ, 100 per second on every mainstream architecture.
 */
function cpuSplit(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / USER_HZ, system: Number(fields[12]) / USER_HZ };
}

function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name}/${tid}`, (Number(fields[11]) + Number(fields[12])) / USER_HZ);
    } catch {
      // the thread ended
    }
  }
  return out;
}

function provisionTopic(dataDir: string, topic: string, queues: number): void {
  const configDir = join(dataDir, 'config');
  mkdirSync(configDir, { recursive: true });
  const topicConfigTable = {
    [topic]: {
      topicName: topic,
      readQueueNums: queues,
      writeQueueNums: queues,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
      attributes: {},
    },
  };
  writeFileSync(
    join(configDir, 'topics.json'),
    JSON.stringify({
      topicConfigTable,
      dataVersion: { stateVersion: 0, timestamp: Date.now(), counter: 1 },
    }),
  );
}

/** Starts `sluice start` on free loopback ports and waits for "Sluice is ready". */
export async function startBroker(options: StartBrokerOptions): Promise<BrokerUnderTest> {
  const ownData = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-bench-e2e-'));
  provisionTopic(dataDir, options.topic, options.queues);
  const nsPort = await freePort();
  const port = await freePort();
  const nodeArgs: string[] = [...(options.nodeArgs ?? [])];
  if (options.cpuProfileDir !== undefined) {
    mkdirSync(options.cpuProfileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProfileDir)}`);
  }
  let server: ServerProcess;
  try {
    server = await startServer({
      name: 'sluice',
      command: process.execPath,
      args: [
        ...nodeArgs,
        CLI_PATH,
        'start',
        '--namesrv-port',
        String(nsPort),
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--http-port',
        '0',
        '--data',
        dataDir,
        '--flush',
        'async',
        ...options.extraArgs,
      ],
      readyText: 'Sluice is ready',
    });
  } catch (error) {
    if (ownData) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    pid: server.pid,
    namesrvAddr: `127.0.0.1:${nsPort}`,
    brokerAddr: `127.0.0.1:${port}`,
    cpuSeconds: () => processCpuSeconds(server.pid),
    cpuSplitSeconds: () => cpuSplit(server.pid),
    threadCpuSeconds: () => threadCpu(server.pid),
    pageFaults: () => {
      const stat = readFileSync(`/proc/${server.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { minor: Number(fields[7]), major: Number(fields[9]) };
    },
    async waitIdle(timeoutMs) {
      const started = Date.now();
      let before = processCpuSeconds(server.pid);
      while (Date.now() - started < timeoutMs) {
        await new Promise((r) => setTimeout(r, 500));
        const now = processCpuSeconds(server.pid);
        if (now - before < 0.025) break;
        before = now;
      }
      return Date.now() - started;
    },
    output: () => server.output(),
    async stop() {
      await server.stop(30_000);
      if (ownData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
