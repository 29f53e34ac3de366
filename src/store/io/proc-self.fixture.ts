/** Test helpers that read this process's memory and I/O accounting from `/proc/self`. */
import { readFileSync } from 'node:fs';

/** Bytes this process has dirtied in the page cache so far (`write_bytes` of /proc/self/io). */
export function dirtiedBytes(): number {
  const line = readFileSync('/proc/self/io', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('write_bytes:'));
  return Number(line?.split(':')[1]);
}

/**
 * The values of `field` (e.g. `Rss`, `VmFlags`) in /proc/self/smaps for each of this process's
 * mappings of `path`, one per VMA.
 */
export function smapsValuesOf(path: string, field: string): string[] {
  const values: string[] = [];
  let inFile = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(` ${path}`);
    else if (inFile && line.startsWith(`${field}:`))
      values.push(line.slice(field.length + 1).trim());
  }
  return values;
}
