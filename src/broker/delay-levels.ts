/**
 * Delay levels (`messageDelayLevel`, e.g. `"1s 5s 10s 30s 1m … 2h"`): level n (1-based) waits the
 * n-th duration. Units: ms, s, m, h, d.
 */
import { SluiceError } from '../common/errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses the level table into milliseconds; index 0 is level 1. */
export function parseDelayLevels(text: string): number[] {
  const parts = text.trim().split(/\s+/);
  const out: number[] = [];
  for (const part of parts) {
    const match = /^(\d+)(ms|[smhd])$/.exec(part);
    if (!match) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `messageDelayLevel entry "${part}" is not a number followed by ms, s, m, h or d (e.g. "10s 1m 2h")`,
      );
    }
    out.push(Number(match[1]) * UNIT_MS[match[2]!]!);
  }
  return out;
}

/** Clamps a requested level to 1..levels (RocketMQ clamps levels above the maximum). */
export function clampDelayLevel(level: number, levelCount: number): number {
  if (level < 1) return 0;
  return Math.min(level, levelCount);
}
