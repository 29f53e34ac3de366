/**
 * The broker's topic table (`config/topics.json`): queue counts and permissions of every topic the
 * broker serves, including the system topics it creates at start and the topics created on the fly
 * (auto-create on send, `%RETRY%` on heartbeat, `%DLQ%` on send-back).
 */
import { DataVersion, type DataVersionJson } from './data-version.js';
import {
  AUTO_CREATE_TOPIC_KEY,
  PERM_INHERIT,
  PERM_READ_WRITE,
  SCHEDULE_TOPIC,
  TIMER_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  isInherited,
} from './perm.js';

/** Tag filter kind recorded with a topic (informational, as in RocketMQ). */
export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';

/** One topic's settings, serialized as RocketMQ's TopicConfig. */
export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
  attributes: Record<string, string>;
}

/** The serialized table: RocketMQ's TopicConfigSerializeWrapper. */
export interface TopicConfigTableJson {
  topicConfigTable: Record<string, TopicConfig>;
  dataVersion: DataVersionJson;
}

/** Settings the manager reads from the broker config. */
export interface TopicConfigManagerOptions {
  /** Queue count of auto-created topics and of TBW102. */
  defaultTopicQueueNums: number;
  /** Whether sends to unknown topics create them (through TBW102). */
  autoCreateTopicEnable: boolean;
}

/** Builds a topic config with RocketMQ's defaults for the fields not given. */
export function makeTopicConfig(
  topicName: string,
  fields: Partial<Omit<TopicConfig, 'topicName'>> = {},
): TopicConfig {
  return {
    topicName,
    readQueueNums: fields.readQueueNums ?? 16,
    writeQueueNums: fields.writeQueueNums ?? 16,
    perm: fields.perm ?? PERM_READ_WRITE,
    topicFilterType: fields.topicFilterType ?? 'SINGLE_TAG',
    topicSysFlag: fields.topicSysFlag ?? 0,
    order: fields.order ?? false,
    attributes: fields.attributes ?? {},
  };
}

/** Topic table with change notification; persistence is done by the owner via encode/decode. */
export class TopicConfigManager {
  private readonly table = new Map<string, TopicConfig>();
  /** Changes whenever the table changes. */
  readonly dataVersion = new DataVersion();
  private readonly options: TopicConfigManagerOptions;
  private readonly changeListeners: ((topic: TopicConfig, deleted: boolean) => void)[] = [];
  private changes = 0;

  constructor(options: TopicConfigManagerOptions) {
    this.options = options;
    this.createSystemTopics();
  }

  private createSystemTopics(): void {
    const n = this.options.defaultTopicQueueNums;
    let perm = PERM_READ_WRITE;
    if (this.options.autoCreateTopicEnable) perm |= PERM_INHERIT;
    this.table.set(
      AUTO_CREATE_TOPIC_KEY,
      makeTopicConfig(AUTO_CREATE_TOPIC_KEY, { readQueueNums: n, writeQueueNums: n, perm }),
    );
    this.table.set(
      SCHEDULE_TOPIC,
      makeTopicConfig(SCHEDULE_TOPIC, { readQueueNums: 18, writeQueueNums: 18 }),
    );
    for (const topic of [TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC, TIMER_TOPIC]) {
      this.table.set(topic, makeTopicConfig(topic, { readQueueNums: 1, writeQueueNums: 1 }));
    }
  }

  /**
   * Registers a listener called after a topic is created, updated or deleted (e.g. to register
   * with the name servers at once and persist the table).
   */
  onChange(listener: (topic: TopicConfig, deleted: boolean) => void): void {
    this.changeListeners.push(listener);
  }

  /**
   * Moves on every change of the table (a topic created, updated or deleted, a table loaded):
   * caches of configs compare it to know they are current.
   */
  get changeCount(): number {
    return this.changes;
  }

  /** {@link changeCount}: what {@link encode} returns moves with it (a saved table's version). */
  get version(): number {
    return this.changes;
  }

  private changed(config: TopicConfig, deleted: boolean): void {
    this.changes++;
    this.dataVersion.nextVersion();
    for (const listener of this.changeListeners) listener(config, deleted);
  }

  /** The topic's config, or undefined. */
  selectTopicConfig(topic: string): TopicConfig | undefined {
    return this.table.get(topic);
  }

  /** Every topic config (live objects: do not mutate). */
  allTopicConfigs(): IterableIterator<TopicConfig> {
    return this.table.values();
  }

  /** Number of topics. */
  get size(): number {
    return this.table.size;
  }

  /**
   * Creates a topic for a send to an unknown topic, from the default topic the producer named
   * (`TBW102`), when that topic allows it. Returns the new (or existing) config, or undefined
   * when auto-creation is not allowed.
   * @param requestedQueueNums the producer's `defaultTopicQueueNums` (0 = the broker's).
   */
  createTopicInSendMessageMethod(
    topic: string,
    defaultTopic: string | undefined,
    requestedQueueNums: number,
    topicSysFlag: number,
  ): TopicConfig | undefined {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const base = this.table.get(defaultTopic || AUTO_CREATE_TOPIC_KEY);
    if (!base || !isInherited(base.perm)) return undefined;
    if (base.topicName === AUTO_CREATE_TOPIC_KEY && !this.options.autoCreateTopicEnable) {
      return undefined;
    }
    const limit = base.writeQueueNums;
    const queueNums = Math.min(requestedQueueNums > 0 ? requestedQueueNums : limit, limit);
    const config = makeTopicConfig(topic, {
      readQueueNums: queueNums,
      writeQueueNums: queueNums,
      perm: base.perm & ~PERM_INHERIT,
      topicSysFlag,
    });
    this.table.set(topic, config);
    this.changed(config, false);
    return config;
  }

  /**
   * Returns the topic's config, creating it with the given settings when missing (retry and
   * dead-letter topics).
   */
  createTopicIfAbsent(
    topic: string,
    queueNums: number,
    perm: number,
    topicSysFlag = 0,
  ): TopicConfig {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const config = makeTopicConfig(topic, {
      readQueueNums: queueNums,
      writeQueueNums: queueNums,
      perm,
      topicSysFlag,
    });
    this.table.set(topic, config);
    this.changed(config, false);
    return config;
  }

  /** Creates or replaces a topic's config. */
  updateTopicConfig(config: TopicConfig): void {
    this.table.set(config.topicName, config);
    this.changed(config, false);
  }

  /** Removes a topic; returns false when it did not exist. */
  deleteTopicConfig(topic: string): boolean {
    const config = this.table.get(topic);
    if (!config) return false;
    this.table.delete(topic);
    this.changed(config, true);
    return true;
  }

  /** The table in RocketMQ's topics.json shape. */
  encode(): TopicConfigTableJson {
    const topicConfigTable: Record<string, TopicConfig> = {};
    for (const [name, config] of this.table) topicConfigTable[name] = config;
    return { topicConfigTable, dataVersion: this.dataVersion.toJSON() };
  }

  /** Loads a table read from topics.json; system topics keep their defaults when missing. */
  decode(json: Partial<TopicConfigTableJson> | undefined): void {
    if (!json || typeof json !== 'object') return;
    this.changes++;
    const table = json.topicConfigTable;
    if (table && typeof table === 'object') {
      for (const [name, raw] of Object.entries(table)) {
        if (!raw || typeof raw !== 'object') continue;
        this.table.set(name, makeTopicConfig(name, raw));
      }
    }
    this.dataVersion.assign(json.dataVersion);
    // The auto-create switch is a broker setting, not table data: re-apply it.
    const tbw = this.table.get(AUTO_CREATE_TOPIC_KEY);
    if (tbw) {
      tbw.perm = this.options.autoCreateTopicEnable
        ? tbw.perm | PERM_INHERIT
        : tbw.perm & ~PERM_INHERIT;
    }
  }
}
