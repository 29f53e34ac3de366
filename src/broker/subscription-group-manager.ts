/**
 * Consumer group settings (`config/subscriptionGroup.json`): retry queue count, retry limit,
 * whether the group may consume. Groups are created on first use when
 * `autoCreateSubscriptionGroup` is on.
 */
import { DataVersion, type DataVersionJson } from './data-version.js';

/** One group's settings, serialized as RocketMQ's SubscriptionGroupConfig. */
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  consumeMessageOrderly: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
  groupSysFlag: number;
  consumeTimeoutMinute: number;
}

/** The serialized table. */
export interface SubscriptionGroupTableJson {
  subscriptionGroupTable: Record<string, SubscriptionGroupConfig>;
  dataVersion: DataVersionJson;
}

/** Builds a group config with RocketMQ's defaults for the fields not given. */
export function makeSubscriptionGroupConfig(
  groupName: string,
  fields: Partial<Omit<SubscriptionGroupConfig, 'groupName'>> = {},
): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: fields.consumeEnable ?? true,
    consumeFromMinEnable: fields.consumeFromMinEnable ?? true,
    consumeBroadcastEnable: fields.consumeBroadcastEnable ?? true,
    consumeMessageOrderly: fields.consumeMessageOrderly ?? false,
    retryQueueNums: fields.retryQueueNums ?? 1,
    retryMaxTimes: fields.retryMaxTimes ?? 16,
    brokerId: fields.brokerId ?? 0,
    whichBrokerWhenConsumeSlowly: fields.whichBrokerWhenConsumeSlowly ?? 1,
    notifyConsumerIdsChangedEnable: fields.notifyConsumerIdsChangedEnable ?? true,
    groupSysFlag: fields.groupSysFlag ?? 0,
    consumeTimeoutMinute: fields.consumeTimeoutMinute ?? 15,
  };
}

/** Group table; the owner persists it through encode/decode. */
export class SubscriptionGroupManager {
  private readonly table = new Map<string, SubscriptionGroupConfig>();
  /** Changes whenever the table changes. */
  readonly dataVersion = new DataVersion();
  private readonly autoCreate: boolean;

  /** @param autoCreate create unknown groups on first use (`autoCreateSubscriptionGroup`). */
  constructor(autoCreate: boolean) {
    this.autoCreate = autoCreate;
  }

  /**
   * The group's config; created with defaults when unknown and auto-creation is on, else
   * undefined.
   */
  findSubscriptionGroupConfig(group: string): SubscriptionGroupConfig | undefined {
    let config = this.table.get(group);
    if (!config && this.autoCreate) {
      config = makeSubscriptionGroupConfig(group);
      this.table.set(group, config);
      this.dataVersion.nextVersion();
    }
    return config;
  }

  /** Creates or replaces a group's config. */
  updateSubscriptionGroupConfig(config: SubscriptionGroupConfig): void {
    this.table.set(config.groupName, config);
    this.dataVersion.nextVersion();
  }

  /** Removes a group; returns false when unknown. */
  deleteSubscriptionGroupConfig(group: string): boolean {
    const removed = this.table.delete(group);
    if (removed) this.dataVersion.nextVersion();
    return removed;
  }

  /** Every group config (live objects). */
  allGroups(): IterableIterator<SubscriptionGroupConfig> {
    return this.table.values();
  }

  /** The table in subscriptionGroup.json's shape. */
  encode(): SubscriptionGroupTableJson {
    const subscriptionGroupTable: Record<string, SubscriptionGroupConfig> = {};
    for (const [name, config] of this.table) subscriptionGroupTable[name] = config;
    return { subscriptionGroupTable, dataVersion: this.dataVersion.toJSON() };
  }

  /** Loads a table read from subscriptionGroup.json. */
  decode(json: Partial<SubscriptionGroupTableJson> | undefined): void {
    if (!json || typeof json !== 'object') return;
    const table = json.subscriptionGroupTable;
    if (table && typeof table === 'object') {
      for (const [name, raw] of Object.entries(table)) {
        if (raw && typeof raw === 'object') {
          this.table.set(name, makeSubscriptionGroupConfig(name, raw));
        }
      }
    }
    this.dataVersion.assign(json.dataVersion);
  }
}
