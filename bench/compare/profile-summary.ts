/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. a Sluice server run with
 * `SLUICE_BENCH_CPU_PROF=DIR`): self time per function, highest first.
 *
 * Usage: `node dist/bench/compare/profile-summary.js FILE.cpuprofile [TOP]`
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One row of the summary. */
export interface SelfTimeRow {
  /** `file:function:line` (file relative to the repository when possible). */
  where: string;
  selfMs: number;
  percent: number;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const cleaned = url.replace(/^file:\/\//, '');
  const marker = cleaned.indexOf('/dist/');
  return marker >= 0 ? cleaned.slice(marker + 1) : cleaned.replace(/^node:/, 'node:');
}

/** Self time per function of a profile, sorted by time. */
export function summariseProfile(profile: CpuProfile): SelfTimeRow[] {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const delta = profile.timeDeltas[i] ?? 0;
    if (node === undefined) continue;
    const frame = node.callFrame;
    const key = `${shortUrl(frame.url)}:${frame.functionName || '(anonymous)'}:${frame.lineNumber + 1}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    totalUs += delta;
  }
  return [...selfUs.entries()]
    .map(([where, us]) => ({ where, selfMs: us / 1000, percent: (us / totalUs) * 100 }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

function main(argv: string[]): void {
  const file = argv[2];
  if (file === undefined) {
    process.stderr.write('usage: profile-summary FILE.cpuprofile [TOP]\n');
    process.exitCode = 2;
    return;
  }
  const top = Number(argv[3] ?? 30);
  const rows = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  for (const row of rows.slice(0, top)) {
    process.stdout.write(
      `${row.percent.toFixed(1).padStart(5)}%  ${row.selfMs.toFixed(0).padStart(7)} ms  ${row.where}\n`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv);
