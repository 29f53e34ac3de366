/**
 * Starts a real `sluice start` process (name server + broker in one process) on free loopback
 * ports with its data in a temporary folder, for end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, found from dist/test/support. */
export const CLI_PATH = resolve(here, '../../src/cli/main.js');

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

export interface SluiceProcessOptions {
  /** broker.conf lines (`key=value`) merged into the generated config file. */
  brokerConf?: Record<string, string | number | boolean>;
  /** Reuse an existing data folder (restart); a new temp folder otherwise. */
  dataDir?: string;
  /** Reuse ports (restart). */
  namesrvPort?: number;
  brokerPort?: number;
  env?: NodeJS.ProcessEnv;
  /** Dashboard / metrics port (0 = off, the default; read the address from the banner). */
  httpPort?: number;
}

export interface SluiceProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly namesrvPort: number;
  readonly brokerPort: number;
  readonly namesrvAddr: string;
  readonly brokerAddr: string;
  /** Everything the process printed, for assertions and diagnostics. */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Removes the data folder (after stop). */
  cleanup(): void;
}

/** Small segments and short intervals so tests exercise roll-over and timers quickly. */
export const TEST_BROKER_CONF: Record<string, string | number | boolean> = {
  mappedFileSizeCommitLog: 4 * 1024 * 1024 + 4096 * 16,
  mappedFileSizeConsumeQueueEntries: 10_000,
  maxMessageSize: 1024 * 1024,
  warmMappedFileEnable: false,
  registerNameServerPeriod: 1_000,
  flushConsumerOffsetInterval: 500,
  // Delay levels 1..18 as 100 ms steps, so retries (level 3 and up) come back in a few hundred ms.
  messageDelayLevel: Array.from({ length: 18 }, (_, i) => `${(i + 1) * 100}ms`).join(' '),
};

export async function startSluice(options: SluiceProcessOptions = {}): Promise<SluiceProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  const namesrvPort = options.namesrvPort ?? (await freePort());
  const brokerPort = options.brokerPort ?? (await freePort());
  const conf = { ...TEST_BROKER_CONF, ...(options.brokerConf ?? {}) };
  const confPath = join(dataDir, 'broker.conf');
  writeFileSync(
    confPath,
    Object.entries(conf)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join('\n') + '\n',
  );
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      'start',
      '--config',
      confPath,
      '--namesrv-port',
      String(namesrvPort),
      '--port',
      String(brokerPort),
      '--host',
      '127.0.0.1',
      '--http-port',
      String(options.httpPort ?? 0),
      '--data',
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(options.env ?? {}) } },
  );
  let text = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => (text += chunk));
  child.stderr?.on('data', (chunk: string) => (text += chunk));
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => resolveExit(code)),
  );

  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sluice did not start in 20 s:\n${text}`)),
      20_000,
    );
    const onData = (): void => {
      if (text.includes('Sluice is ready')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolveReady();
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sluice exited with ${code} before it was ready:\n${text}`));
    });
  });

  return {
    child,
    dataDir,
    namesrvPort,
    brokerPort,
    namesrvAddr: `127.0.0.1:${namesrvPort}`,
    brokerAddr: `127.0.0.1:${brokerPort}`,
    output: () => text,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
