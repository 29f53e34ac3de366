/**
 * Positional reads and writes that finish the job: `readSync`/`writeSync` may move fewer bytes
 * than asked (a signal, a large request), so these loop until all are moved (or, reading, the
 * file ends).
 */
import fs from 'node:fs';

/** Writes `len` bytes of `buf` from `from` at `position` of `fd`. */
export function writeFullySync(
  fd: number,
  buf: Uint8Array,
  from: number,
  len: number,
  position: number,
): void {
  let done = 0;
  while (done < len) done += fs.writeSync(fd, buf, from + done, len - done, position + done);
}

/**
 * Reads up to `len` bytes at `position` of `fd` into `buf` from `from`; returns the bytes read,
 * fewer than `len` only where the file ends.
 */
export function readFullySync(
  fd: number,
  buf: Uint8Array,
  from: number,
  len: number,
  position: number,
): number {
  let done = 0;
  while (done < len) {
    const n = fs.readSync(fd, buf, from + done, len - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}
