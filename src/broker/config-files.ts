/**
 * Where the broker's metadata lives and how it is saved: JSON files under
 * `<storePathRootDir>/config/`, written atomically (previous content kept as `.bak`). Periodic
 * saves run off the event loop and skip unchanged content; the final save at shutdown is
 * synchronous.
 */
import path from 'node:path';
import { loadJsonConfig, saveJsonConfig, saveJsonConfigAsync } from '../common/json-config-file.js';
import type { Logger } from '../common/logger.js';

/** Something with a JSON form that can be saved and restored. */
export interface PersistentTable<T> {
  encode(): T;
  decode(json: Partial<T> | undefined): void;
  /**
   * Optional: a number that moves whenever {@link encode} would return something else. With it
   * a periodic save of an unchanged table costs nothing (no encoding: with 10,000 topics the
   * topic table is megabytes of JSON); without, the encoded text is compared with the saved one.
   */
  readonly version?: number;
}

/** One JSON file bound to one table. */
export class ConfigFile<T> {
  /** Absolute path of the file. */
  readonly file: string;
  private readonly table: PersistentTable<T>;
  private readonly log: Logger;
  private lastSaved = '';
  /** The table's {@link PersistentTable.version} when {@link lastSaved} was saved or loaded. */
  private savedVersion: number | undefined;
  private pendingSave: Promise<void> | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(dir: string, name: string, table: PersistentTable<T>, log: Logger) {
    this.file = path.join(dir, name);
    this.table = table;
    this.log = log;
  }

  /** Loads the file (or its .bak) into the table; a missing file leaves the defaults. */
  load(): void {
    const json = loadJsonConfig<Partial<T> | undefined>(this.file, undefined, (message) =>
      this.log.warn(message),
    );
    this.table.decode(json);
    this.lastSaved = JSON.stringify(this.table.encode());
    this.savedVersion = this.table.version;
  }

  /**
   * What a save must write, or undefined when the table is as last saved: known from its
   * version without encoding when it has one, else from the encoded text.
   */
  private toSave(): { value: T; text: string; version: number | undefined } | undefined {
    const version = this.table.version;
    if (version !== undefined && version === this.savedVersion) return undefined;
    const value = this.table.encode();
    const text = JSON.stringify(value);
    if (text === this.lastSaved) {
      this.savedVersion = version;
      return undefined;
    }
    return { value, text, version };
  }

  /** Records what a save wrote. */
  private saved(pending: { text: string; version: number | undefined }): void {
    this.lastSaved = pending.text;
    this.savedVersion = pending.version;
  }

  /** Saves in the background when the content changed; errors are logged. */
  async persistAsync(): Promise<void> {
    const pending = this.toSave();
    if (pending === undefined) return;
    try {
      await saveJsonConfigAsync(this.file, pending.value);
      this.saved(pending);
    } catch (error) {
      this.log.error(`cannot save ${this.file}`, error);
    }
  }

  /**
   * Saves in the background (thread pool, atomic, durable) as soon as the save under way, if
   * any, is done; every change made before that save starts is in it, so all callers until then
   * share one save and one promise, resolved once the file is durable. (Saving the whole file
   * synchronously once per event-loop turn made creating N topics cost O(N²) and blocked the
   * loop: ~70% of the broker's CPU while 10,000 topics were created.)
   */
  persistCoalesced(): Promise<void> {
    if (this.pendingSave) return this.pendingSave;
    const save: Promise<void> = this.saving.then(() => {
      if (this.pendingSave === save) this.pendingSave = undefined;
      return this.persistAsync();
    });
    this.pendingSave = save;
    this.saving = save;
    return save;
  }

  /** The save scheduled by `persistCoalesced`, if one has not run yet. */
  get pending(): Promise<void> | undefined {
    return this.pendingSave;
  }

  /**
   * Saves in the background `delayMs` from now; calls before then share that save. Ignored after
   * {@link close}.
   */
  saveSoon(delayMs: number): void {
    if (this.soonTimer !== undefined || this.closed) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      this.saving = this.saving.then(() => this.persistAsync());
    }, delayMs);
    this.soonTimer.unref();
  }

  /** Cancels a pending {@link saveSoon}, waits for a save under way, then saves now. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.soonTimer !== undefined) clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
    await this.saving;
    this.persistSync();
  }

  /** Saves now (shutdown); errors are logged. */
  persistSync(): void {
    const pending = this.toSave();
    if (pending === undefined) return;
    try {
      saveJsonConfig(this.file, pending.value);
      this.saved(pending);
    } catch (error) {
      this.log.error(`cannot save ${this.file}`, error);
    }
  }
}
