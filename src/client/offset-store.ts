/**
 * Consumer offset stores. An offset is the next queue offset to consume. Clustering consumers
 * keep offsets on the broker ({@link RemoteOffsetStore}); broadcasting consumers keep them in a
 * local file ({@link LocalFileOffsetStore}). Both cache offsets in memory; `persistAll` writes
 * them out (every 5 s and on shutdown).
 */
import os from 'node:os';
import path from 'node:path';
import { loadJsonConfig, saveJsonConfigAsync } from '../common/json-config-file.js';
import type { MessageQueue } from './message-queue.js';
import { messageQueue, queueKey } from './message-queue.js';

/** Where {@link OffsetStore.read} looks. */
export type ReadOffsetMode = 'memory' | 'store' | 'memoryThenStore';

/** Offset storage used by consumers. `-1` means "no offset stored". */
export interface OffsetStore {
  /** Loads persisted offsets (local store) — a no-op for the remote store. */
  load(): Promise<void>;
  /** Sets the in-memory offset; with `increaseOnly`, never moves it backwards. */
  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void;
  /** Reads an offset, `-1` when none is known. */
  read(mq: MessageQueue, mode: ReadOffsetMode): Promise<number>;
  /** Persists the offsets of `mqs` (those that have one). */
  persistAll(mqs: readonly MessageQueue[]): Promise<void>;
  /** Forgets the in-memory offset of `mq`. */
  remove(mq: MessageQueue): void;
}

/** How the remote store reaches the broker. */
export interface RemoteOffsetBackend {
  /** The broker's stored offset, `-1` when it has none. */
  queryConsumerOffset(group: string, mq: MessageQueue): Promise<number>;
  /** Stores an offset on the broker. */
  updateConsumerOffset(group: string, mq: MessageQueue, offset: number): Promise<void>;
}

interface Entry {
  mq: MessageQueue;
  offset: number;
  /** Last offset successfully persisted, to skip unchanged writes. */
  persisted: number;
}

abstract class MemoryOffsetTable {
  protected readonly table = new Map<string, Entry>();

  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const key = queueKey(mq);
    const entry = this.table.get(key);
    if (!entry) {
      this.table.set(key, { mq, offset, persisted: -1 });
    } else if (!increaseOnly || offset > entry.offset) {
      entry.offset = offset;
    }
  }

  remove(mq: MessageQueue): void {
    this.table.delete(queueKey(mq));
  }

  protected memory(mq: MessageQueue): number {
    return this.table.get(queueKey(mq))?.offset ?? -1;
  }
}

/** Offsets kept on the broker (clustering consumption). */
export class RemoteOffsetStore extends MemoryOffsetTable implements OffsetStore {
  constructor(
    private readonly group: string,
    private readonly backend: RemoteOffsetBackend,
  ) {
    super();
  }

  /** Nothing to load: offsets are read from the broker on demand. */
  async load(): Promise<void> {}

  /** Reads from memory, the broker, or memory falling back to the broker. */
  async read(mq: MessageQueue, mode: ReadOffsetMode): Promise<number> {
    if (mode !== 'store') {
      const value = this.memory(mq);
      if (value >= 0 || mode === 'memory') return value;
    }
    const offset = await this.backend.queryConsumerOffset(this.group, mq);
    if (offset >= 0) {
      this.update(mq, offset, false);
      const entry = this.table.get(queueKey(mq));
      if (entry) entry.persisted = offset;
    }
    return offset;
  }

  /** Sends every changed offset of `mqs` to its broker; failures are collected and rethrown. */
  async persistAll(mqs: readonly MessageQueue[]): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(
      mqs.map(async (mq) => {
        const entry = this.table.get(queueKey(mq));
        if (!entry || entry.offset < 0 || entry.offset === entry.persisted) return;
        const offset = entry.offset;
        try {
          await this.backend.updateConsumerOffset(this.group, mq, offset);
          entry.persisted = offset;
        } catch (err) {
          errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }
}

/** The file layout of {@link LocalFileOffsetStore}. */
interface OffsetFile {
  offsetTable: Record<
    string,
    { topic: string; brokerName: string; queueId: number; offset: number }
  >;
}

/** Default directory of local offset files: `~/.sluice_offsets`. */
export function defaultOffsetDir(): string {
  return path.join(os.homedir(), '.sluice_offsets');
}

/**
 * Offsets kept in a local JSON file (broadcasting consumption):
 * `<dir>/<clientId>/<group>/offsets.json`, written atomically with a `.bak` copy.
 */
export class LocalFileOffsetStore extends MemoryOffsetTable implements OffsetStore {
  /** Path of the offsets file. */
  readonly file: string;

  constructor(dir: string, clientId: string, group: string) {
    super();
    const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.@%-]/g, '_');
    this.file = path.join(dir, safe(clientId), safe(group), 'offsets.json');
  }

  /** Loads the offsets file (or its backup); a missing file means no offsets. */
  async load(): Promise<void> {
    const data = loadJsonConfig<OffsetFile>(this.file, { offsetTable: {} });
    for (const item of Object.values(data.offsetTable ?? {})) {
      if (!item || typeof item.offset !== 'number' || !Number.isSafeInteger(item.offset)) continue;
      const mq = messageQueue(String(item.topic), String(item.brokerName), Number(item.queueId));
      this.update(mq, item.offset, false);
      this.table.get(queueKey(mq))!.persisted = item.offset;
    }
  }

  /** Reads the in-memory offset (the file was loaded into memory by {@link load}). */
  async read(mq: MessageQueue, _mode: ReadOffsetMode): Promise<number> {
    return this.memory(mq);
  }

  /** Writes every known offset to the file (all queues, not only `mqs`). */
  async persistAll(_mqs: readonly MessageQueue[]): Promise<void> {
    let changed = false;
    const offsetTable: OffsetFile['offsetTable'] = {};
    for (const [key, entry] of this.table) {
      if (entry.offset < 0) continue;
      if (entry.offset !== entry.persisted) changed = true;
      offsetTable[key] = { ...entry.mq, offset: entry.offset };
    }
    if (!changed) return;
    const snapshot = [...this.table.values()].map((e) => [e, e.offset] as const);
    await saveJsonConfigAsync(this.file, { offsetTable });
    for (const [entry, offset] of snapshot) entry.persisted = offset;
  }
}
