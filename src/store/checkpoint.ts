/**
 * The store's `checkpoint` file, its `abort` marker and its single-instance `lock`.
 *
 * `checkpoint` is one 4 KiB page (big-endian), written atomically (tmp + fsync + rename). The
 * first five longs are RocketMQ's; Sluice adds the dispatch offsets that recovery starts from
 * and a CRC so that a damaged file is detected rather than trusted.
 *
 * | offset | width | field                                                                  |
 * |--------|-------|------------------------------------------------------------------------|
 * | 0      | 8     | physicMsgTimestamp: store time of the last flushed CommitLog record    |
 * | 8      | 8     | logicsMsgTimestamp: store time of the last record with written CQ data |
 * | 16     | 8     | indexMsgTimestamp: store time of the last record in written index data |
 * | 24     | 8     | masterFlushedOffset (HA; 0)                                            |
 * | 32     | 8     | confirmPhyOffset: CommitLog flushed offset                             |
 * | 40     | 8     | logicsWrittenOffset: log offset below which CQ + index data is written |
 * | 48     | 8     | logicsSyncedOffset: … and fsynced                                      |
 * | 56     | 4     | magic 0x534c4350 ("SLCP")                                              |
 * | 60     | 4     | CRC-32 of bytes [0, 60)                                                |
 *
 * `abort` holds `<pid> <boot id>`: present while the store is open; found at startup it means
 * the last run did not shut down cleanly. The boot id tells a process crash (page cache intact:
 * written data survived) from an OS crash (only fsynced data survived).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { SluiceError } from '../common/errors.js';
import { writeInt64 } from '../common/codec/int64.js';
import { readInt64 } from './consume-queue-entry.js';

/** Bytes of the checkpoint file. */
export const CHECKPOINT_SIZE = 4096;
const MAGIC = 0x534c4350;
const CRC_COVERED = 60;

/** The checkpoint's fields. */
export interface CheckpointData {
  physicMsgTimestamp: number;
  logicsMsgTimestamp: number;
  indexMsgTimestamp: number;
  masterFlushedOffset: number;
  confirmPhyOffset: number;
  logicsWrittenOffset: number;
  logicsSyncedOffset: number;
}

/** A checkpoint with every field 0. */
export function emptyCheckpoint(): CheckpointData {
  return {
    physicMsgTimestamp: 0,
    logicsMsgTimestamp: 0,
    indexMsgTimestamp: 0,
    masterFlushedOffset: 0,
    confirmPhyOffset: 0,
    logicsWrittenOffset: 0,
    logicsSyncedOffset: 0,
  };
}

/** Encodes a checkpoint page. */
export function encodeCheckpoint(data: CheckpointData): Uint8Array {
  const page = new Uint8Array(CHECKPOINT_SIZE);
  const v = new DataView(page.buffer);
  writeInt64(v, 0, data.physicMsgTimestamp);
  writeInt64(v, 8, data.logicsMsgTimestamp);
  writeInt64(v, 16, data.indexMsgTimestamp);
  writeInt64(v, 24, data.masterFlushedOffset);
  writeInt64(v, 32, data.confirmPhyOffset);
  writeInt64(v, 40, data.logicsWrittenOffset);
  writeInt64(v, 48, data.logicsSyncedOffset);
  v.setUint32(56, MAGIC, false);
  v.setUint32(60, zlib.crc32(page.subarray(0, CRC_COVERED)), false);
  return page;
}

/** Decodes a checkpoint page; null when it is short, not Sluice's or its CRC does not match. */
export function decodeCheckpoint(page: Uint8Array): CheckpointData | null {
  if (page.length < 64) return null;
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  if (v.getUint32(56, false) !== MAGIC) return null;
  if (v.getUint32(60, false) !== zlib.crc32(page.subarray(0, CRC_COVERED))) return null;
  return {
    physicMsgTimestamp: readInt64(v, 0, 'checkpoint physicMsgTimestamp'),
    logicsMsgTimestamp: readInt64(v, 8, 'checkpoint logicsMsgTimestamp'),
    indexMsgTimestamp: readInt64(v, 16, 'checkpoint indexMsgTimestamp'),
    masterFlushedOffset: readInt64(v, 24, 'checkpoint masterFlushedOffset'),
    confirmPhyOffset: readInt64(v, 32, 'checkpoint confirmPhyOffset'),
    logicsWrittenOffset: readInt64(v, 40, 'checkpoint logicsWrittenOffset'),
    logicsSyncedOffset: readInt64(v, 48, 'checkpoint logicsSyncedOffset'),
  };
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Directory fsync is not supported everywhere; the rename stays atomic.
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes `checkpoint.<pid>.tmp` files left by processes that died while saving. */
function removeStaleTemps(file: string): void {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) continue;
    const pid = Number(n.slice(prefix.length, -'.tmp'.length).split('.')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) continue;
    fs.rmSync(path.join(dir, n), { force: true });
  }
}

/** The `checkpoint` file of a store. */
export class Checkpoint {
  readonly file: string;
  /** Current values; change them, then {@link save}. */
  readonly data: CheckpointData;
  /** False when the file was missing or damaged at load. */
  readonly loadedValid: boolean;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(storePath: string) {
    this.file = path.join(storePath, 'checkpoint');
    let loaded: CheckpointData | null = null;
    try {
      loaded = decodeCheckpoint(fs.readFileSync(this.file));
    } catch {
      loaded = null;
    }
    this.loadedValid = loaded !== null;
    this.data = loaded ?? emptyCheckpoint();
    removeStaleTemps(this.file);
  }

  /**
   * Writes the checkpoint atomically and durably. The temp file is private to this process
   * (`checkpoint.<pid>.tmp`), so a writer can never rename or truncate another one's half-written
   * page (a store left open by a failed caller, or a second process that got past a stale lock).
   */
  save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, encodeCheckpoint(this.data));
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
      fsyncDir(path.dirname(this.file));
    } catch (err) {
      throw new SluiceError(
        'NATIVE_IO',
        `cannot write ${this.file}: ${(err as Error).message}; check disk space and permissions`,
        { cause: err },
      );
    }
  }

  /**
   * {@link save} on the thread pool (write, fdatasync, rename, fsync of the folder), so the
   * event loop never waits for the disk. Calls made while one runs coalesce into one more save
   * of the data as it is when that one starts. An older save finishing after a newer
   * synchronous one only makes the checkpoint claim less, which is safe.
   */
  saveAsync(): Promise<void> {
    if (this.queued !== null) return this.queued;
    if (this.running !== null) {
      const next = (): Promise<void> => {
        this.queued = null;
        return this.startSave();
      };
      this.queued = this.running.then(next, next);
      return this.queued;
    }
    return this.startSave();
  }

  /** Resolves once no background save is running or queued. */
  async settled(): Promise<void> {
    while (this.running !== null || this.queued !== null) {
      await (this.queued ?? this.running)!.catch(() => undefined);
    }
  }

  private startSave(): Promise<void> {
    const bytes = encodeCheckpoint(this.data);
    const p = this.writeAsync(bytes).finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }

  private async writeAsync(bytes: Uint8Array): Promise<void> {
    const tmp = `${this.file}.${process.pid}.bg.tmp`;
    try {
      const handle = await fs.promises.open(tmp, 'w');
      try {
        await handle.write(bytes);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(tmp, this.file);
      const dir = await fs.promises.open(path.dirname(this.file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      throw new SluiceError(
        'NATIVE_IO',
        `cannot write ${this.file}: ${(err as Error).message}; check disk space and permissions`,
        { cause: err },
      );
    }
  }
}

/** This machine's boot id ('' when unknown): equal ids mean "no reboot in between". */
export function currentBootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** What an `abort` marker says about the run that left it. */
export interface AbortMarker {
  pid: number;
  bootId: string;
}

/** Reads `<storePath>/abort`; null when absent (the last shutdown was clean). */
export function readAbortMarker(storePath: string): AbortMarker | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(storePath, 'abort'), 'utf8');
  } catch {
    return null;
  }
  const [pid, bootId] = text.trim().split(/\s+/);
  return { pid: Number(pid) || 0, bootId: bootId ?? '' };
}

/** Creates `<storePath>/abort` (durably) for the running process. */
export function writeAbortMarker(storePath: string): void {
  const file = path.join(storePath, 'abort');
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, `${process.pid} ${currentBootId()}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fsyncDir(storePath);
}

/** Removes the abort marker (clean shutdown). */
export function removeAbortMarker(storePath: string): void {
  fs.rmSync(path.join(storePath, 'abort'), { force: true });
  fsyncDir(storePath);
}

function processStartTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the ")" that ends the command name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

function lockHolderAlive(content: string): boolean {
  const [pidText, bootId, start] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (bootId !== undefined && bootId !== '' && bootId !== currentBootId()) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // A reused pid belongs to a process with another start time.
  if (start !== undefined && start !== '' && processStartTime(pid) !== start) return false;
  return true;
}

/**
 * Takes the store's single-instance lock (`<storePath>/lock`, holding pid, boot id and process
 * start time). A lock left by a dead process is taken over. Returns the release function.
 */
export function acquireStoreLock(storePath: string): () => void {
  const file = path.join(storePath, 'lock');
  const me = `${process.pid} ${currentBootId()} ${processStartTime(process.pid)}\n`;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, me);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(tmp, file);
        return () => {
          try {
            if (fs.readFileSync(file, 'utf8') === me) fs.rmSync(file, { force: true });
          } catch {
            // Already gone.
          }
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let holder = '';
      try {
        holder = fs.readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      if (holder === me || lockHolderAlive(holder)) {
        throw new SluiceError(
          'CONFIG_INVALID',
          `store ${storePath} is locked by a running process (${holder.trim()}); stop it or use another storePath`,
        );
      }
      // Stale: remove it only if it is still the same stale content, then retry the link.
      try {
        if (fs.readFileSync(file, 'utf8') === holder) fs.rmSync(file, { force: true });
      } catch {
        // Someone else removed it.
      }
    }
    throw new SluiceError('CONFIG_INVALID', `cannot take the lock ${file}; retry`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
