/**
 * Live producers: for each producer group, the connections that sent heartbeats. Used to show
 * producer connections and to pick a producer for transaction check-backs.
 */
import type { ClientChannelInfo } from './client-channel.js';

/** The table of live producers. `C` is the network layer's connection type. */
export class ProducerManager<C> {
  private readonly groups = new Map<string, Map<C, ClientChannelInfo<C>>>();

  /** Registers or refreshes a producer from a heartbeat. */
  registerProducer(group: string, client: ClientChannelInfo<C>): void {
    let members = this.groups.get(group);
    if (!members) {
      members = new Map();
      this.groups.set(group, members);
    }
    const existing = members.get(client.channel);
    if (existing && existing.clientId === client.clientId) {
      existing.lastUpdateTimestamp = client.lastUpdateTimestamp;
    } else {
      members.set(client.channel, client);
    }
  }

  /** Removes a producer by client id (UNREGISTER_CLIENT). */
  unregisterProducer(group: string, clientId: string): boolean {
    const members = this.groups.get(group);
    if (!members) return false;
    let removed = false;
    for (const [channel, client] of members) {
      if (client.clientId === clientId) {
        members.delete(channel);
        removed = true;
      }
    }
    if (members.size === 0) this.groups.delete(group);
    return removed;
  }

  /** Drops a closed connection from every group. */
  doChannelCloseEvent(channel: C): void {
    for (const [group, members] of this.groups) {
      if (members.delete(channel) && members.size === 0) this.groups.delete(group);
    }
  }

  /** Drops producers silent for longer than `expiredMs`; returns them. */
  scanNotActiveChannel(nowMs: number, expiredMs: number): ClientChannelInfo<C>[] {
    const dropped: ClientChannelInfo<C>[] = [];
    for (const [group, members] of this.groups) {
      for (const [channel, client] of members) {
        if (nowMs - client.lastUpdateTimestamp > expiredMs) {
          members.delete(channel);
          dropped.push(client);
        }
      }
      if (members.size === 0) this.groups.delete(group);
    }
    return dropped;
  }

  /** Members of a group (empty when none). */
  connections(group: string): ClientChannelInfo<C>[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }

  /** Names of all groups with members. */
  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** Any live member of the group (for check-backs), or undefined. */
  getAvailableChannel(group: string): C | undefined {
    const members = this.groups.get(group);
    if (!members) return undefined;
    for (const channel of members.keys()) return channel;
    return undefined;
  }
}
