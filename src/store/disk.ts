/** Disk usage of the store's filesystem, for retention and the disk-full guard. */
import fs from 'node:fs';

/**
 * Fraction (0..1) of the filesystem holding `dir` that is in use, like RocketMQ's
 * `(total − free) / total`. Returns -1 when the filesystem cannot be queried.
 */
export function diskUsedRatio(dir: string): number {
  try {
    const s = fs.statfsSync(dir);
    if (s.blocks <= 0) return -1;
    return (s.blocks - s.bfree) / s.blocks;
  } catch {
    return -1;
  }
}
