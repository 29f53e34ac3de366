/**
 * Name-server KV config: string values grouped by namespace (e.g. `ORDER_TOPIC_CONFIG`),
 * persisted atomically as `{"configTable": {namespace: {key: value}}}` after every change.
 */
import { loadJsonConfig, saveJsonConfigAsync } from '../common/json-config-file.js';
import { SluiceError } from '../common/errors.js';

/** Namespace whose values become `orderTopicConf` in routes (`brokerName:queues;...`). */
export const ORDER_TOPIC_CONFIG_NAMESPACE = 'ORDER_TOPIC_CONFIG';

interface KVConfigFile {
  configTable?: Record<string, Record<string, string>>;
}

/** KV config store of a name server. */
export class KVConfigManager {
  private readonly table = new Map<string, Map<string, string>>();

  /** @param filePath JSON file to persist to; undefined keeps the config in memory only. */
  constructor(private readonly filePath: string | undefined) {}

  /** Loads the file (or its `.bak`); a missing file means an empty config. */
  load(): void {
    if (!this.filePath) return;
    const data = loadJsonConfig<KVConfigFile>(this.filePath, {});
    const configTable = data?.configTable;
    if (configTable === undefined) return;
    if (typeof configTable !== 'object' || configTable === null) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `${this.filePath}: configTable must be an object of namespaces; fix or delete the file`,
      );
    }
    for (const [ns, entries] of Object.entries(configTable)) {
      const m = new Map<string, string>();
      for (const [k, v] of Object.entries(entries ?? {})) m.set(k, String(v));
      this.table.set(ns, m);
    }
  }

  /** Sets a value and persists. */
  async put(namespace: string, key: string, value: string): Promise<void> {
    let ns = this.table.get(namespace);
    if (!ns) this.table.set(namespace, (ns = new Map()));
    ns.set(key, value);
    await this.persist();
  }

  /** The value, or undefined. */
  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  /** Removes a value and persists. @returns true when it existed. */
  async delete(namespace: string, key: string): Promise<boolean> {
    const ns = this.table.get(namespace);
    if (!ns?.delete(key)) return false;
    if (ns.size === 0) this.table.delete(namespace);
    await this.persist();
    return true;
  }

  /** All entries of a namespace (a copy). */
  list(namespace: string): Record<string, string> {
    return Object.fromEntries(this.table.get(namespace) ?? []);
  }

  private async persist(): Promise<void> {
    if (!this.filePath) return;
    const configTable: Record<string, Record<string, string>> = {};
    for (const [ns, entries] of this.table) configTable[ns] = Object.fromEntries(entries);
    await saveJsonConfigAsync(this.filePath, { configTable });
  }
}
