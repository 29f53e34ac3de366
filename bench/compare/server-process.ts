/**
 * Server processes of the comparison: spawn on loopback, wait for the "ready" line, read the
 * process's CPU time from /proc, and kill every started server on exit, Ctrl-C or error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A server started by the benchmark. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** Everything the process printed so far (stdout and stderr), for diagnostics. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

/** Installs once: kills every live server on process exit, SIGINT, SIGTERM and fatal errors. */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping every server the benchmark started\n`);
      killAllNow();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`benchmark failed: ${error.stack ?? String(error)}\n`);
    killAllNow();
    process.exit(1);
  });
}

/** Kills every server that is still running (used before exit). */
export function killAllServers(): void {
  killAllNow();
}

/** Options for {@link startServer}. */
export interface StartServerOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** Text whose appearance in stdout or stderr means "listening". */
  readyText: string;
  readyTimeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts a server process and resolves once it printed `readyText`. */
export async function startServer(options: StartServerOptions): Promise<ServerProcess> {
  installHooks();
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let text = '';
  const maxKeptChars = 64 * 1024;
  const onChunk = (chunk: string): void => {
    text += chunk;
    if (text.length > maxKeptChars * 2) text = text.slice(-maxKeptChars);
  };
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      live.delete(child);
      resolveExit();
    });
  });
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  await new Promise<void>((resolveReady, reject) => {
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      if (error) reject(error);
      else resolveReady();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(
        new Error(
          `${options.name} did not print "${options.readyText}" in ${timeoutMs} ms:\n${text}`,
        ),
      );
    }, timeoutMs);
    const poll = setInterval(() => {
      if (text.includes(options.readyText)) finish();
    }, 20);
    child.once('error', (error) => finish(new Error(`${options.name}: ${error.message}`)));
    void exited.then(() =>
      finish(new Error(`${options.name} exited before it was ready:\n${text}`)),
    );
  });
  if (child.pid === undefined) throw new Error(`${options.name}: no pid`);
  const pid = child.pid;
  return {
    name: options.name,
    pid,
    output: () => text,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('could not get a free port'));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

let clockTicksPerSecond: number | undefined;

function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(out.stdout?.trim());
    clockTicksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return clockTicksPerSecond;
}

/**
 * The fields of /proc/PID/stat as numbers, indexed by their proc(5) field number (1-based; the
 * command name, field 2, may itself contain spaces, so counting starts after it).
 */
function statFields(pid: number): (n: number) => number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The text after ") " starts with field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (n) => Number(fields[n - 3]);
}

/** User + system CPU seconds the process has used so far (utime and stime: fields 14, 15). */
export function processCpuSeconds(pid: number): number {
  const field = statFields(pid);
  return (field(14) + field(15)) / ticksPerSecond();
}

/** Minor page faults the process has taken so far (minflt: field 10). */
export function processMinorFaults(pid: number): number {
  return statFields(pid)(10);
}

/** Full path of `binary` on PATH (also /usr/sbin, /usr/local/sbin), or undefined. */
export function findBinary(binary: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = `${dir}/${binary}`;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
