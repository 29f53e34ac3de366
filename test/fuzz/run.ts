/**
 * Fuzz runner: runs each target under Jazzer.js (libFuzzer, coverage-guided) for a time box and
 * prints executions per target. Each target runs in its own child process (libFuzzer owns the
 * process and exits when done); new inputs go to a temp folder, the committed seed corpus under
 * `test/fuzz/corpus/<target>/` is only read.
 *
 *   node dist/test/fuzz/run.js                 a few seconds per target (SLUICE_FUZZ_SECONDS)
 *   node dist/test/fuzz/run.js --long          minutes per target (default 120 s each)
 *   node dist/test/fuzz/run.js --target frame  only the named target(s); `all` = multiplexer
 *   node dist/test/fuzz/run.js --write-seeds   (re)write the seed corpus from the encoders
 *
 * Exit code 1 when any target found a crash; the reproducer is kept under the printed path and
 * should become a file in `test/fuzz/regressions/<target>/`.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUZZ_TARGETS } from './targets.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root, found from dist/test/fuzz. */
export const REPO_ROOT = resolve(here, '../../..');
/** Committed seed corpus. */
export const CORPUS_DIR = join(REPO_ROOT, 'test/fuzz/corpus');
/** Committed crash reproducers, replayed by fuzz.test.ts. */
export const REGRESSIONS_DIR = join(REPO_ROOT, 'test/fuzz/regressions');

/** Result of one time-boxed Jazzer.js run. */
export interface JazzerRun {
  target: string;
  seconds: number;
  executions: number;
  /** libFuzzer's final edge coverage (`cov:`), 0 when not reported. */
  coverage: number;
  exitCode: number | null;
  /** Path of the crashing input, when libFuzzer wrote one. */
  crashInput: string | undefined;
  /** The tail of the child's output (for reports on failure). */
  outputTail: string;
}

/** Options of {@link runJazzer}. */
export interface RunJazzerOptions {
  target: string;
  seconds: number;
  /** Read-only seed folders. */
  seedDirs: string[];
  /** Folder for crash artifacts (kept); default: a temp folder. */
  artifactDir?: string;
  /** Per-input timeout before libFuzzer reports a hang. Default 5000 ms. */
  inputTimeoutMs?: number;
}

/** The files of a folder, or none when it does not exist. */
export function filesOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => join(dir, f));
}

/** Runs one target under Jazzer.js for `seconds`. */
export async function runJazzer(options: RunJazzerOptions): Promise<JazzerRun> {
  const require = createRequire(import.meta.url);
  const cli = join(dirname(require.resolve('@jazzer.js/core')), 'cli.js');
  const work = mkdtempSync(join(tmpdir(), `sluice-fuzz-${options.target}-`));
  const artifactDir = options.artifactDir ?? join(work, 'artifacts');
  mkdirSync(artifactDir, { recursive: true });
  const workCorpus = join(work, 'corpus');
  mkdirSync(workCorpus);
  const args = [
    '--import',
    join(here, 'addon-compat-hook.js'),
    cli,
    join(here, 'fuzz-entry.js'),
    workCorpus,
    ...options.seedDirs.filter((d) => existsSync(d)),
    '--sync',
    '--includes',
    '/dist/src/',
    '--excludes',
    'node_modules',
    '--timeout',
    String(options.inputTimeoutMs ?? 5000),
    '--',
    `-max_total_time=${options.seconds}`,
    `-artifact_prefix=${artifactDir}/`,
    '-print_final_stats=1',
    '-max_len=4096',
  ];
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: work,
    env: { ...process.env, SLUICE_FUZZ_TARGET: options.target },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 60) * 1000);
  // 'close', not 'exit': the final stats lines may still be in the pipes when the process exits.
  const exitCode = await new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  clearTimeout(killer);
  const runs =
    /Done (\d+) runs/.exec(output) ??
    /stat::number_of_executed_units:\s*(\d+)/.exec(output) ??
    /#(\d+)\s+DONE/.exec(output);
  const cov = [...output.matchAll(/cov: (\d+)/g)].pop();
  const crash = filesOf(artifactDir).find((f) => /(crash|timeout|oom)-/.test(f));
  if (options.artifactDir === undefined && !crash) rmSync(work, { recursive: true, force: true });
  else rmSync(workCorpus, { recursive: true, force: true });
  return {
    target: options.target,
    seconds: (Date.now() - started) / 1000,
    executions: runs ? Number(runs[1]) : 0,
    coverage: cov ? Number(cov[1]) : 0,
    exitCode,
    crashInput: crash,
    outputTail: output.slice(-4000),
  };
}

/**
 * Builds a seed folder for the `all` multiplexer: every committed seed and regression input,
 * prefixed with its target's index byte. Returns the folder (remove it after use).
 */
export function multiplexedSeeds(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fuzz-all-seeds-'));
  FUZZ_TARGETS.forEach((t, index) => {
    const files = [...filesOf(join(CORPUS_DIR, t.name)), ...filesOf(join(REGRESSIONS_DIR, t.name))];
    files.forEach((file, n) => {
      writeFileSync(
        join(dir, `${t.name}-${n}`),
        Buffer.concat([Buffer.of(index), readFileSync(file)]),
      );
    });
  });
  return dir;
}

async function writeSeeds(): Promise<void> {
  const { seedInputs } = await import('./seeds.js');
  for (const [target, inputs] of seedInputs()) {
    const dir = join(CORPUS_DIR, target);
    mkdirSync(dir, { recursive: true });
    inputs.forEach((input, n) => writeFileSync(join(dir, `seed-${n}`), input));
    console.log(`${target}: ${inputs.length} seeds in ${dir}`);
  }
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--write-seeds')) {
    await writeSeeds();
    return 0;
  }
  const long = argv.includes('--long');
  const seconds = Number(process.env.SLUICE_FUZZ_SECONDS ?? (long ? 120 : 4));
  const picked: string[] = [];
  argv.forEach((a, i) => {
    if (a === '--target' && argv[i + 1]) picked.push(argv[i + 1]!);
  });
  const names = picked.length > 0 ? picked : FUZZ_TARGETS.map((t) => t.name);
  console.log(`fuzzing ${names.length} target(s), ${seconds} s each`);
  console.log(
    `${'target'.padEnd(16)} ${pad('seconds', 8)} ${pad('executions', 11)} ${pad('exec/s', 8)} ${pad('cov', 6)}  result`,
  );
  let failed = false;
  let total = 0;
  for (const name of names) {
    const allSeeds = name === 'all' ? multiplexedSeeds() : undefined;
    const run = await runJazzer({
      target: name,
      seconds,
      seedDirs: allSeeds ? [allSeeds] : [join(CORPUS_DIR, name), join(REGRESSIONS_DIR, name)],
    });
    if (allSeeds) rmSync(allSeeds, { recursive: true, force: true });
    total += run.executions;
    const ok = run.exitCode === 0 && !run.crashInput;
    failed ||= !ok;
    const result = ok ? 'ok' : `FAILED (exit ${run.exitCode}) ${run.crashInput ?? ''}`;
    console.log(
      `${name.padEnd(16)} ${pad(run.seconds.toFixed(1), 8)} ${pad(run.executions, 11)} ${pad(Math.round(run.executions / Math.max(run.seconds, 0.001)), 8)} ${pad(run.coverage, 6)}  ${result}`,
    );
    if (!ok) console.log(run.outputTail);
  }
  console.log(`total executions: ${total}`);
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}
