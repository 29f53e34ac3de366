/**
 * The persistent time index of timer messages: one append-only file per time bucket of
 * {@link TIMER_BUCKET_MS} under `<store>/timerwheel/`, named by the bucket's start time in ms
 * (`<startMs>.bkt`). Each entry points at a message of `rmq_sys_wheel_timer` in the CommitLog:
 *
 * | offset | width | field         | meaning                                    |
 * |--------|-------|---------------|--------------------------------------------|
 * | 0      | 8     | deliverMs     | delivery time, epoch ms (int64, big-endian) |
 * | 8      | 8     | physicalOffset| CommitLog offset of the timer-topic record  |
 *
 * Only the bucket being delivered is read into memory; the others are just files. Entries may
 * repeat after a crash (the same record indexed twice): readers dedupe by physical offset.
 */
import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SluiceError } from '../../common/errors.js';

/** Width of one bucket: one minute. */
export const TIMER_BUCKET_MS = 60_000;
/** Bytes per entry. */
export const TIMER_ENTRY_BYTES = 16;
const SUFFIX = '.bkt';

/** One indexed timer message. */
export interface TimerEntry {
  deliverMs: number;
  physicalOffset: number;
}

/** Orders entries by delivery time, then by log position. */
export function compareTimerEntries(a: TimerEntry, b: TimerEntry): number {
  return a.deliverMs - b.deliverMs || a.physicalOffset - b.physicalOffset;
}

/** The bucket start of a delivery time. */
export function bucketOf(deliverMs: number): number {
  return deliverMs - (((deliverMs % TIMER_BUCKET_MS) + TIMER_BUCKET_MS) % TIMER_BUCKET_MS);
}

function readInt64(view: DataView, pos: number, file: string): number {
  const hi = view.getInt32(pos);
  const lo = view.getUint32(pos + 4);
  const value = hi * 0x1_0000_0000 + lo;
  if (!Number.isSafeInteger(value)) {
    throw new SluiceError(
      'STORE_CORRUPT',
      `timer bucket ${file} holds a value beyond 2^53 at byte ${pos}; delete the file to drop its timers`,
    );
  }
  return value;
}

/** Encodes entries in the file layout. */
export function encodeTimerEntries(entries: readonly TimerEntry[]): Buffer {
  const out = Buffer.allocUnsafe(entries.length * TIMER_ENTRY_BYTES);
  for (let i = 0; i < entries.length; i++) {
    const p = i * TIMER_ENTRY_BYTES;
    out.writeBigInt64BE(BigInt(entries[i]!.deliverMs), p);
    out.writeBigInt64BE(BigInt(entries[i]!.physicalOffset), p + 8);
  }
  return out;
}

/** Decodes a bucket file's bytes (a torn last entry is ignored). */
export function decodeTimerEntries(bytes: Uint8Array, file = 'bucket'): TimerEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TimerEntry[] = [];
  const n = Math.floor(bytes.byteLength / TIMER_ENTRY_BYTES);
  for (let i = 0; i < n; i++) {
    const p = i * TIMER_ENTRY_BYTES;
    out.push({ deliverMs: readInt64(view, p, file), physicalOffset: readInt64(view, p + 8, file) });
  }
  return out;
}

/** The bucket files of one broker. */
export class TimerBucketStore {
  /** Folder of the bucket files. */
  readonly dir: string;
  private readonly starts = new Set<number>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the folder and lists the existing buckets. */
  open(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(SUFFIX)) continue;
      const start = Number(name.slice(0, -SUFFIX.length));
      if (Number.isSafeInteger(start)) this.starts.add(start);
    }
  }

  private fileOf(start: number): string {
    return path.join(this.dir, `${start}${SUFFIX}`);
  }

  /** Appends entries to their buckets (grouped by the caller or not). */
  append(entries: readonly TimerEntry[]): void {
    const byBucket = new Map<number, TimerEntry[]>();
    for (const e of entries) {
      const start = bucketOf(e.deliverMs);
      let list = byBucket.get(start);
      if (!list) byBucket.set(start, (list = []));
      list.push(e);
    }
    for (const [start, list] of byBucket) {
      appendFileSync(this.fileOf(start), encodeTimerEntries(list));
      this.starts.add(start);
    }
  }

  /** The earliest bucket start, or undefined when no bucket exists. */
  firstBucket(): number | undefined {
    let min: number | undefined;
    for (const s of this.starts) if (min === undefined || s < min) min = s;
    return min;
  }

  /** Number of bucket files. */
  get bucketCount(): number {
    return this.starts.size;
  }

  /** Reads a bucket: entries deduped by physical offset, sorted by delivery order. */
  load(start: number): TimerEntry[] {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.fileOf(start));
    } catch {
      return [];
    }
    const seen = new Set<number>();
    const out: TimerEntry[] = [];
    for (const e of decodeTimerEntries(bytes, this.fileOf(start))) {
      if (seen.has(e.physicalOffset)) continue;
      seen.add(e.physicalOffset);
      out.push(e);
    }
    return out.sort(compareTimerEntries);
  }

  /** Deletes a delivered bucket. */
  remove(start: number): void {
    this.starts.delete(start);
    rmSync(this.fileOf(start), { force: true });
  }
}
