/**
 * Atomic JSON configuration files (topics.json, consumerOffset.json, …).
 *
 * Save: the new content goes to `<name>.tmp`, which is fsynced; the current file (if any) is
 * copied to `<name>.bak`; the temp file is renamed over `<name>` and the directory fsynced. A
 * crash at any point leaves either the old or the new content under `<name>`, or at worst a
 * readable `<name>.bak`.
 *
 * Load: `<name>` is parsed; when it is missing, empty or not valid JSON, `<name>.bak` is tried
 * (with a warning), and then the caller's fallback value is returned.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SluiceError } from './errors.js';
import { createLogger } from './logger.js';

/** Receives the warnings of this module; defaults to the `config` logger. */
export type WarningSink = (message: string) => void;

const log = createLogger('config');
const defaultWarn: WarningSink = (message) => log.warn(message);

function readJsonFile(file: string): { ok: true; value: unknown } | { ok: false; why: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      why: code === 'ENOENT' ? 'missing' : `unreadable (${code ?? String(err)})`,
    };
  }
  if (text.trim().length === 0) return { ok: false, why: 'empty' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, why: `corrupt (${(err as Error).message})` };
  }
}

/**
 * Loads the JSON file at `file`, falling back to `<file>.bak` (with a warning) when the main file
 * is missing, empty or corrupt, and to `fallback` when neither is usable. The parsed value is not
 * validated: check its shape at the call site.
 */
export function loadJsonConfig<T>(file: string, fallback: T, warn: WarningSink = defaultWarn): T {
  const main = readJsonFile(file);
  if (main.ok) return main.value as T;
  const bak = readJsonFile(`${file}.bak`);
  if (bak.ok) {
    warn(`config file ${file} is ${main.why}; loaded the backup ${file}.bak instead`);
    return bak.value as T;
  }
  if (main.why !== 'missing') {
    warn(`config file ${file} is ${main.why} and has no usable backup; starting from defaults`);
  }
  return fallback;
}

function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** Serializes `value` the way every Sluice config file is written (2-space JSON + newline). */
export function formatJsonConfig(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Writes `value` as JSON to `file` atomically (tmp + fsync + rename, previous content kept as
 * `<file>.bak`). Creates the parent folder if needed. Synchronous: meant for small files.
 */
export function saveJsonConfig(file: string, value: unknown): void {
  const text = formatJsonConfig(value);
  const dir = path.dirname(file);
  const tmp = `${file}.tmp`;
  try {
    fs.mkdirSync(dir, { recursive: true });
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (fs.existsSync(file) && fs.statSync(file).size > 0) fs.copyFileSync(file, `${file}.bak`);
    fs.renameSync(tmp, file);
    fsyncDir(dir);
  } catch (err) {
    throw new SluiceError(
      'NATIVE_IO',
      `cannot write config file ${file}: ${(err as Error).message}; check the folder exists, is writable and the disk is not full`,
      { cause: err },
    );
  }
}

const pendingSaves = new Map<string, Promise<void>>();

/**
 * Asynchronous `saveJsonConfig`: the I/O runs off the event loop. Saves of the same file are
 * serialized, so the last call's value wins.
 */
export function saveJsonConfigAsync(file: string, value: unknown): Promise<void> {
  const text = formatJsonConfig(value);
  const previous = pendingSaves.get(file) ?? Promise.resolve();
  const next = previous
    .catch(() => undefined)
    .then(() => writeAsync(file, text))
    .finally(() => {
      if (pendingSaves.get(file) === next) pendingSaves.delete(file);
    });
  pendingSaves.set(file, next);
  return next;
}

async function writeAsync(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = `${file}.tmp`;
  try {
    await fs.promises.mkdir(dir, { recursive: true });
    const handle = await fs.promises.open(tmp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const st = await fs.promises.stat(file).catch(() => null);
    if (st !== null && st.size > 0) await fs.promises.copyFile(file, `${file}.bak`);
    await fs.promises.rename(tmp, file);
    const dh = await fs.promises.open(dir, 'r').catch(() => null);
    if (dh !== null) {
      await dh.sync().catch(() => undefined);
      await dh.close();
    }
  } catch (err) {
    throw new SluiceError(
      'NATIVE_IO',
      `cannot write config file ${file}: ${(err as Error).message}; check the folder exists, is writable and the disk is not full`,
      { cause: err },
    );
  }
}
