/**
 * The markdown report and console table of a comparison run.
 */
import type { BenchSettings, ComparedSystem, Durability } from './config.js';
import { machineMarkdown, type MachineInfo } from './machine.js';
import { medianSample, ratio, type ResultTable } from './results.js';

const DURABILITY_TITLE: Record<Durability, string> = {
  async: 'Batched durability (background flush)',
  sync: 'Per-message durability (flushed before the acknowledgement)',
};

function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function fmtRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}

/** Rows of the main table for one durability class. */
function cellTable(
  table: ResultTable,
  systems: readonly ComparedSystem[],
  durability: Durability,
  topicCounts: readonly number[],
): string[] {
  const lines = [
    '| topics | system | publish msgs/s | publish MB/s | read msgs/s | p50 ms | p99 ms | server CPU s / 100k (publish) | server CPU s / 100k (read) | Sluice ÷ system (publish) | Sluice ÷ system (read) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const topics of topicCounts) {
    const sluiceCell = table.find('sluice', durability, topics);
    const sluice = sluiceCell ? medianSample(sluiceCell) : undefined;
    for (const system of systems) {
      const cell = table.find(system.key, durability, topics);
      if (cell === undefined) continue;
      const m = medianSample(cell);
      if (m === undefined) {
        lines.push(
          `| ${fmt(topics)} | ${system.name} | failed: ${cell.failures[0] ?? 'no run'} | | | | | | | | |`,
        );
        continue;
      }
      const partial =
        m.readCount < m.expectedCount
          ? ` (read ${fmt(m.readCount)} of ${fmt(m.expectedCount)})`
          : '';
      const isSluice = system.key === 'sluice';
      lines.push(
        [
          '',
          fmt(topics),
          system.name,
          fmt(m.publishMsgsPerSec),
          fmt(m.publishMBPerSec, 1),
          fmt(m.readMsgsPerSec) + partial,
          fmt(m.latencyP50Ms, 2),
          fmt(m.latencyP99Ms, 2),
          fmt(m.publishCpuSecPer100k, 2),
          fmt(m.readCpuSecPer100k, 2),
          isSluice ? '' : fmtRatio(ratio(sluice?.publishMsgsPerSec, m.publishMsgsPerSec)),
          isSluice ? '' : fmtRatio(ratio(sluice?.readMsgsPerSec, m.readMsgsPerSec)),
          '',
        ]
          .join(' | ')
          .trim(),
      );
    }
  }
  return lines;
}

/** Lines saying whether the goals were met: Sluice ahead everywhere, flat topic curve. */
function verdict(
  table: ResultTable,
  systems: readonly ComparedSystem[],
  settings: BenchSettings,
): string[] {
  const lines: string[] = [];
  for (const durability of settings.durabilities) {
    const behind: string[] = [];
    let compared = 0;
    for (const topics of settings.topicCounts) {
      const sluiceCell = table.find('sluice', durability, topics);
      const sluice = sluiceCell ? medianSample(sluiceCell) : undefined;
      for (const system of systems) {
        if (system.key === 'sluice') continue;
        const cell = table.find(system.key, durability, topics);
        const peer = cell ? medianSample(cell) : undefined;
        if (sluice === undefined || peer === undefined) continue;
        compared++;
        for (const [what, a, b] of [
          ['publish', sluice.publishMsgsPerSec, peer.publishMsgsPerSec],
          ['read', sluice.readMsgsPerSec, peer.readMsgsPerSec],
        ] as const) {
          if (a < b)
            behind.push(`${what} at ${fmt(topics)} topics vs ${system.name} (${fmtRatio(a / b)})`);
        }
      }
    }
    lines.push(
      compared === 0
        ? `- ${durability}: no cell with both Sluice and a peer was measured.`
        : behind.length === 0
          ? `- ${durability}: Sluice is ahead of every peer in every measured cell.`
          : `- ${durability}: Sluice is behind in: ${behind.join('; ')}.`,
    );
    const lowest = Math.min(...settings.topicCounts);
    const highest = Math.max(...settings.topicCounts);
    const low = table.find('sluice', durability, lowest);
    const high = table.find('sluice', durability, highest);
    const lowM = low ? medianSample(low) : undefined;
    const highM = high ? medianSample(high) : undefined;
    if (lowM && highM && lowest !== highest) {
      const r = highM.publishMsgsPerSec / lowM.publishMsgsPerSec;
      lines.push(
        `- ${durability}: Sluice publish throughput at ${fmt(highest)} topics is ${fmtRatio(r)} its ${fmt(lowest)}-topic throughput (goal ≥ 0.90×: ${r >= 0.9 ? 'met' : 'not met'}).`,
      );
    }
  }
  return lines;
}

/** Inputs of {@link renderReport}. */
export interface ReportInput {
  date: string;
  command: string;
  settings: BenchSettings;
  machine: MachineInfo;
  systems: readonly ComparedSystem[];
  skipped: string[];
  table: ResultTable;
  chartFile: string;
  elapsedSec: number;
  /** Load averages when the run ended. */
  loadAtEnd: string;
  /** Whether this process kept freed malloc memory (settings.clientMallocRetainBytes). */
  clientMallocRetained: boolean;
}

/**
 * Seconds each system took to create a cell's topics before it was measured (median): for
 * Sluice, UPDATE_AND_CREATE_TOPIC per topic over the wire; streams and subjects of the peers
 * need no creation.
 */
function prepareTable(
  table: ResultTable,
  systems: readonly ComparedSystem[],
  settings: BenchSettings,
): string[] {
  const lines = [
    '## Topic creation (before the measured phases)',
    '',
    `| durability | topics | ${systems.map((s) => `${s.name} s`).join(' | ')} |`,
    `|---|---:|${systems.map(() => '---:').join('|')}|`,
  ];
  for (const durability of settings.durabilities) {
    for (const topics of settings.topicCounts) {
      const cells = systems.map((system) => {
        const cell = table.find(system.key, durability, topics);
        const m = cell ? medianSample(cell) : undefined;
        return m === undefined ? '–' : fmt(m.prepareSec, 2);
      });
      lines.push(`| ${durability} | ${fmt(topics)} | ${cells.join(' | ')} |`);
    }
  }
  return lines;
}

/** The full markdown report. */
export function renderReport(input: ReportInput): string {
  const { settings, systems, table } = input;
  const out: string[] = [
    `# Sluice vs NATS JetStream vs Redis Streams — ${input.date}`,
    '',
    `Command: \`${input.command}\` (total ${fmt(input.elapsedSec / 60, 1)} min).`,
    '',
    '## Machine',
    '',
    ...machineMarkdown(input.machine),
    `- Load average (1 / 5 / 15 min) at the end: ${input.loadAtEnd}`,
    '',
    '## Workload',
    '',
    `- ${fmt(settings.messagesPerCell)} messages of ${fmt(settings.bodyBytes)} bytes per cell, message i to topic i mod N (round-robin), at most ${fmt(settings.window)} publishes unacknowledged; then every message is read back (the warm-up and latency-phase messages too).`,
    `- Warm-up (not measured): ${fmt(settings.warmupMessages)} messages, and at least one to every topic, published like the throughput phase; then the harness waits for an idle server.`,
    `- Latency: ${fmt(settings.latencyMessages)} messages at a fixed ${fmt(settings.latencyRatePerSec)} msgs/s after the warm-up and before the throughput phase, each timed from its scheduled send time to its acknowledgement; right before them, ${fmt(settings.latencyLeadInMessages)} messages at the same rate, not measured (the single-send path's own warm-up).`,
    `- Each cell runs ${settings.runs} time(s) on a fresh server and a fresh data folder (${settings.dataRoot}, same disk for every system); the tables show medians.`,
    '- Server CPU: utime + stime of the server process from /proc/PID/stat across the phase, per 100,000 messages.',
    '- Everything on 127.0.0.1; the client (this Node.js process) shares the cores with the server.',
    input.clientMallocRetained
      ? `- The client process keeps up to ${fmt(settings.clientMallocRetainBytes)} bytes of freed malloc memory (glibc mallopt, as Sluice's broker does by default), for every system's client alike.`
      : '- The client process leaves malloc at its defaults (freed memory goes back to the kernel).',
    '',
    '## Systems',
    '',
  ];
  for (const system of systems) {
    for (const durability of settings.durabilities) {
      out.push(`- ${system.name}, ${durability}: ${system.describe(durability)}`);
    }
  }
  for (const line of input.skipped) out.push(`- Skipped: ${line}`);
  out.push('', `![publish throughput vs topic count](${input.chartFile})`, '');
  for (const durability of settings.durabilities) {
    out.push(`## ${DURABILITY_TITLE[durability]}`, '');
    out.push(...cellTable(table, systems, durability, settings.topicCounts), '');
  }
  out.push(...prepareTable(table, systems, settings), '');
  out.push('## Goals', '', ...verdict(table, systems, settings), '');
  const failures = table.all().filter((cell) => cell.failures.length > 0);
  if (failures.length > 0) {
    out.push('## Failed runs', '');
    for (const cell of failures) {
      out.push(
        `- ${cell.systemName}, ${cell.durability}, ${fmt(cell.topicCount)} topics: ${cell.failures.join(' / ')}`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

/** A short fixed-width table for the console. */
export function consoleTable(table: ResultTable, settings: BenchSettings): string {
  const rows = [
    [
      'durability',
      'topics',
      'system',
      'pub msg/s',
      'pub MB/s',
      'read msg/s',
      'p50 ms',
      'p99 ms',
      'cpu/100k',
    ],
  ];
  for (const durability of settings.durabilities) {
    for (const topics of settings.topicCounts) {
      for (const cell of table.all()) {
        if (cell.durability !== durability || cell.topicCount !== topics) continue;
        const m = medianSample(cell);
        rows.push(
          m === undefined
            ? [durability, fmt(topics), cell.systemName, 'failed', '', '', '', '', '']
            : [
                durability,
                fmt(topics),
                cell.systemName,
                fmt(m.publishMsgsPerSec),
                fmt(m.publishMBPerSec, 1),
                fmt(m.readMsgsPerSec),
                fmt(m.latencyP50Ms, 2),
                fmt(m.latencyP99Ms, 2),
                fmt(m.publishCpuSecPer100k, 2),
              ],
        );
      }
    }
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map((row) =>
      row
        .map((value, col) => (col < 3 ? value.padEnd(widths[col]!) : value.padStart(widths[col]!)))
        .join('  '),
    )
    .join('\n');
}
