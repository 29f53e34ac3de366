/**
 * Results of the comparison: samples per cell, medians, and the Sluice-to-peer ratios.
 */
import type { CellSample } from './cell.js';
import type { Durability } from './config.js';

/** All samples of one cell (system × durability × topic count). */
export interface CellResult {
  systemKey: string;
  systemName: string;
  durability: Durability;
  topicCount: number;
  samples: CellSample[];
  /** Error messages of runs that failed. */
  failures: string[];
}

/** Median of the numbers (NaN when empty); the mean of the middle two for an even count. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The per-field median of a cell's samples, or undefined when no run succeeded. */
export function medianSample(cell: CellResult): CellSample | undefined {
  if (cell.samples.length === 0) return undefined;
  const pick = (field: keyof CellSample): number => median(cell.samples.map((s) => s[field]));
  return {
    publishMsgsPerSec: pick('publishMsgsPerSec'),
    publishMBPerSec: pick('publishMBPerSec'),
    readMsgsPerSec: pick('readMsgsPerSec'),
    latencyP50Ms: pick('latencyP50Ms'),
    latencyP99Ms: pick('latencyP99Ms'),
    publishCpuSecPer100k: pick('publishCpuSecPer100k'),
    publishFaultsPer100k: pick('publishFaultsPer100k'),
    readCpuSecPer100k: pick('readCpuSecPer100k'),
    readCount: Math.min(...cell.samples.map((s) => s.readCount)),
    expectedCount: Math.max(...cell.samples.map((s) => s.expectedCount)),
    prepareSec: pick('prepareSec'),
  };
}

/** Collects cell results keyed by system, durability and topic count. */
export class ResultTable {
  private readonly cells = new Map<string, CellResult>();

  private static key(systemKey: string, durability: Durability, topicCount: number): string {
    return `${systemKey}|${durability}|${topicCount}`;
  }

  /** The cell, created empty on first use. */
  cell(
    systemKey: string,
    systemName: string,
    durability: Durability,
    topicCount: number,
  ): CellResult {
    const key = ResultTable.key(systemKey, durability, topicCount);
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = { systemKey, systemName, durability, topicCount, samples: [], failures: [] };
      this.cells.set(key, cell);
    }
    return cell;
  }

  /** The cell if it exists. */
  find(systemKey: string, durability: Durability, topicCount: number): CellResult | undefined {
    return this.cells.get(ResultTable.key(systemKey, durability, topicCount));
  }

  /** Every cell, in insertion order. */
  all(): CellResult[] {
    return [...this.cells.values()];
  }
}

/** Sluice's figure divided by the peer's, for a field where higher is better. */
export function ratio(sluice: number | undefined, peer: number | undefined): number {
  if (sluice === undefined || peer === undefined || peer === 0) return Number.NaN;
  return sluice / peer;
}
