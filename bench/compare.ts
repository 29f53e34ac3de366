/**
 * Side-by-side benchmark of Sluice, NATS JetStream and Redis Streams (`npm run bench:compare`).
 *
 * For each durability class (batched, per-message) and each topic count, every available system
 * is started on loopback with its data on the work disk, measured (latency at a fixed rate,
 * publish throughput, read-back throughput, server CPU), stopped and wiped; each cell runs
 * several times and the report shows medians. Writes `bench/results/<date>.md` and `.svg`.
 * Settings come from SLUICE_BENCH_* variables (see bench/compare/config.ts). Not a test: it
 * prints a table and never fails a build on the numbers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCell } from './compare/cell.js';
import { renderChart } from './compare/chart.js';
import { readBenchSettings, type ComparedSystem } from './compare/config.js';
import { describeMachine, loadAverages, machineMarkdown } from './compare/machine.js';
import { natsSystem } from './compare/nats-system.js';
import { redisSystem } from './compare/redis-system.js';
import { consoleTable, renderReport } from './compare/report.js';
import { ResultTable } from './compare/results.js';
import { killAllServers } from './compare/server-process.js';
import { sluiceSystem } from './compare/sluice-system.js';
import { retainMallocMemory } from '../src/store/io/native.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const ALL_SYSTEMS: readonly ComparedSystem[] = [sluiceSystem, natsSystem, redisSystem];

function fmtInt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

/** How this process was started, with the script path relative to the repository. */
function commandLine(): string {
  const script = relative(repoRoot, process.argv[1] ?? 'dist/bench/compare.js');
  return ['node', ...process.execArgv, script].join(' ');
}

function isFullRun(settings: ReturnType<typeof readBenchSettings>): boolean {
  return (
    settings.messagesPerCell >= 200_000 &&
    settings.runs >= 3 &&
    [1, 100, 1_000, 10_000].every((t) => settings.topicCounts.includes(t)) &&
    settings.systems.length === 3 &&
    settings.durabilities.length === 2
  );
}

async function main(): Promise<void> {
  const startedMs = Date.now();
  const settings = readBenchSettings(repoRoot);
  const clientMallocRetained = retainMallocMemory(settings.clientMallocRetainBytes);
  const machine = describeMachine(settings.dataRoot);
  process.stdout.write(`Sluice comparison benchmark\n${machineMarkdown(machine).join('\n')}\n\n`);

  const systems: ComparedSystem[] = [];
  const skipped: string[] = [];
  for (const system of ALL_SYSTEMS) {
    if (!settings.systems.includes(system.key)) continue;
    const reason = system.unavailableReason();
    if (reason === undefined) systems.push(system);
    else {
      skipped.push(`${system.name}: ${reason}`);
      process.stdout.write(`skipping ${system.name}: ${reason}\n`);
    }
  }
  if (systems.length === 0) {
    process.stdout.write('nothing to run\n');
    return;
  }

  const table = new ResultTable();
  const totalRuns =
    settings.durabilities.length * settings.topicCounts.length * settings.runs * systems.length;
  let done = 0;
  for (const durability of settings.durabilities) {
    // Each round runs every topic count and every system once: a slow drift of the machine's
    // speed then hits every cell of a comparison alike, between systems and between topic
    // counts (the 10,000 ÷ 1 topic ratio) rather than landing on one topic count's runs.
    for (let run = 1; run <= settings.runs; run++) {
      for (const topics of settings.topicCounts) {
        for (const system of systems) {
          done++;
          const cell = table.cell(system.key, system.name, durability, topics);
          const label = `[${done}/${totalRuns}] ${system.name}, ${durability}, ${fmtInt(topics)} topics, run ${run}`;
          process.stdout.write(`${label} ...\n`);
          const cellStartMs = Date.now();
          try {
            const sample = await runCell(system, durability, topics, run, settings);
            cell.samples.push(sample);
            process.stdout.write(
              `    publish ${fmtInt(sample.publishMsgsPerSec)} msgs/s (${sample.publishMBPerSec.toFixed(1)} MB/s), read ${fmtInt(sample.readMsgsPerSec)} msgs/s, p50 ${sample.latencyP50Ms.toFixed(2)} ms, p99 ${sample.latencyP99Ms.toFixed(2)} ms, cpu ${sample.publishCpuSecPer100k.toFixed(2)} s/100k, ${fmtInt(sample.publishFaultsPer100k)} page faults/100k, topics created in ${sample.prepareSec.toFixed(2)} s; cell ${((Date.now() - cellStartMs) / 1000).toFixed(0)} s\n`,
            );
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            cell.failures.push(message.split('\n')[0] ?? message);
            process.stdout.write(`    failed: ${message}\n`);
          }
        }
      }
    }
  }

  const date = new Date().toISOString().slice(0, 10);
  const baseName = isFullRun(settings) ? date : `${date}-partial`;
  mkdirSync(settings.resultsDir, { recursive: true });
  const chartFile = `${baseName}.svg`;
  writeFileSync(
    join(settings.resultsDir, chartFile),
    renderChart(
      table,
      systems,
      settings.durabilities,
      settings.topicCounts,
      `Publish throughput vs topic count (${fmtInt(settings.messagesPerCell)} × ${fmtInt(settings.bodyBytes)} B, median of ${settings.runs})`,
    ),
  );
  const envPart = Object.entries(process.env)
    .filter(([key]) => key.startsWith('SLUICE_BENCH_'))
    .map(([key, value]) => `${key}=${value ?? ''}`)
    .join(' ');
  const report = renderReport({
    date,
    command: `${envPart === '' ? '' : `${envPart} `}${commandLine()}`,
    settings,
    machine,
    systems,
    skipped,
    table,
    chartFile,
    elapsedSec: (Date.now() - startedMs) / 1000,
    loadAtEnd: loadAverages(),
    clientMallocRetained,
  });
  const reportPath = join(settings.resultsDir, `${baseName}.md`);
  writeFileSync(reportPath, report + '\n');
  process.stdout.write(`\n${consoleTable(table, settings)}\n\nreport: ${reportPath}\n`);
}

main().then(
  () => killAllServers(),
  (error: unknown) => {
    process.stderr.write(
      `comparison failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    killAllServers();
    process.exitCode = 1;
  },
);
