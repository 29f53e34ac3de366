/**
 * Live consumers: for each group, the client connections that sent heartbeats and the group's
 * subscriptions. Members are dropped when they unregister, when their connection closes or when
 * they stay silent longer than `channelExpiredTimeout`; every membership change is reported so
 * that the broker can send NOTIFY_CONSUMER_IDS_CHANGED to the remaining members.
 */
import type { ClientChannelInfo } from './client-channel.js';
import type { SubscriptionData } from './subscription-data.js';

/** One consumer group's members and subscriptions. */
export class ConsumerGroupInfo<C> {
  readonly groupName: string;
  consumeType = 'CONSUME_PASSIVELY';
  messageModel = 'CLUSTERING';
  consumeFromWhere = 'CONSUME_FROM_LAST_OFFSET';
  /** Members by connection. */
  readonly channels = new Map<C, ClientChannelInfo<C>>();
  /** Subscriptions by topic. */
  readonly subscriptions = new Map<string, SubscriptionData>();
  lastUpdateTimestamp = Date.now();

  constructor(groupName: string) {
    this.groupName = groupName;
  }

  /** Client ids of all members, sorted (what rebalancing clients expect). */
  clientIds(): string[] {
    const ids: string[] = [];
    for (const info of this.channels.values()) ids.push(info.clientId);
    return ids.sort();
  }
}

/** Called when a group's membership changed; `channels` are the remaining members. */
export type ConsumerIdsChangedListener<C> = (group: string, channels: C[]) => void;

/** The table of live consumers. `C` is the network layer's connection type. */
export class ConsumerManager<C> {
  private readonly groups = new Map<string, ConsumerGroupInfo<C>>();
  private readonly listeners: ConsumerIdsChangedListener<C>[] = [];

  /** Registers a listener for membership changes. */
  onConsumerIdsChanged(listener: ConsumerIdsChangedListener<C>): void {
    this.listeners.push(listener);
  }

  private notify(group: ConsumerGroupInfo<C>): void {
    const channels = [...group.channels.keys()];
    for (const listener of this.listeners) listener(group.groupName, channels);
  }

  /** A group's info, or undefined when it has no members. */
  getConsumerGroupInfo(group: string): ConsumerGroupInfo<C> | undefined {
    return this.groups.get(group);
  }

  /** Names of all groups with members. */
  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** The group's subscription to `topic`, if a member declared one in a heartbeat. */
  findSubscriptionData(group: string, topic: string): SubscriptionData | undefined {
    return this.groups.get(group)?.subscriptions.get(topic);
  }

  /**
   * Registers (or refreshes) a member from a heartbeat. Returns true when membership changed.
   * @param notifyOnChange send NOTIFY_CONSUMER_IDS_CHANGED on change (group setting).
   */
  registerConsumer(
    group: string,
    client: ClientChannelInfo<C>,
    settings: { consumeType?: string; messageModel?: string; consumeFromWhere?: string },
    subscriptions: readonly SubscriptionData[],
    notifyOnChange: boolean,
  ): boolean {
    let info = this.groups.get(group);
    if (!info) {
      info = new ConsumerGroupInfo<C>(group);
      this.groups.set(group, info);
    }
    if (settings.consumeType) info.consumeType = settings.consumeType;
    if (settings.messageModel) info.messageModel = settings.messageModel;
    if (settings.consumeFromWhere) info.consumeFromWhere = settings.consumeFromWhere;
    info.lastUpdateTimestamp = client.lastUpdateTimestamp;

    const existing = info.channels.get(client.channel);
    let changed = false;
    if (!existing || existing.clientId !== client.clientId) {
      info.channels.set(client.channel, client);
      changed = true;
    } else {
      existing.lastUpdateTimestamp = client.lastUpdateTimestamp;
    }

    const topics = new Set<string>();
    for (const sub of subscriptions) {
      topics.add(sub.topic);
      const old = info.subscriptions.get(sub.topic);
      if (!old || old.subVersion < sub.subVersion || old.subString !== sub.subString) {
        info.subscriptions.set(sub.topic, sub);
      }
    }
    if (subscriptions.length > 0) {
      for (const topic of [...info.subscriptions.keys()]) {
        if (!topics.has(topic)) info.subscriptions.delete(topic);
      }
    }
    if (changed && notifyOnChange) this.notify(info);
    return changed;
  }

  /** Removes a member by client id (UNREGISTER_CLIENT). Returns true when it was present. */
  unregisterConsumer(group: string, clientId: string, notifyOnChange: boolean): boolean {
    const info = this.groups.get(group);
    if (!info) return false;
    let removed = false;
    for (const [channel, client] of info.channels) {
      if (client.clientId === clientId) {
        info.channels.delete(channel);
        removed = true;
      }
    }
    if (!removed) return false;
    this.afterRemoval(info, notifyOnChange);
    return true;
  }

  private afterRemoval(info: ConsumerGroupInfo<C>, notifyOnChange: boolean): void {
    if (info.channels.size === 0) {
      this.groups.delete(info.groupName);
    } else if (notifyOnChange) {
      this.notify(info);
    }
  }

  /** Drops a closed connection from every group. Returns the groups it left. */
  doChannelCloseEvent(channel: C): string[] {
    const left: string[] = [];
    for (const info of [...this.groups.values()]) {
      if (info.channels.delete(channel)) {
        left.push(info.groupName);
        this.afterRemoval(info, true);
      }
    }
    return left;
  }

  /**
   * Drops members silent for longer than `expiredMs`. Returns the dropped members (the caller
   * may close their connections).
   */
  scanNotActiveChannel(nowMs: number, expiredMs: number): ClientChannelInfo<C>[] {
    const dropped: ClientChannelInfo<C>[] = [];
    for (const info of [...this.groups.values()]) {
      let removed = false;
      for (const [channel, client] of info.channels) {
        if (nowMs - client.lastUpdateTimestamp > expiredMs) {
          info.channels.delete(channel);
          dropped.push(client);
          removed = true;
        }
      }
      if (removed) this.afterRemoval(info, true);
    }
    return dropped;
  }
}
