/**
 * Queue rebalancing of a consumer: for each subscribed topic, which of its queues this consumer
 * owns (all of them when broadcasting; in clustering mode the allocation strategy's share among
 * the group's consumers, as the topic's first broker lists them), then queues no longer owned
 * are dropped (offset committed, orderly lock released) and new ones adopted from their stored
 * offset or the `consumeFrom` position (orderly clustering: only those whose broker lock is
 * granted). Rounds requested while one runs coalesce into one more.
 */
import { allocateAveragely, type AllocateStrategy } from './allocate.js';
import { asError, type ClientInstance } from './client-instance.js';
import type { ConsumeFrom } from './consumer-options.js';
import { queueKey, type MessageQueue } from './message-queue.js';
import type { OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';
import type { ProcessQueueTable } from './process-queue-table.js';
import { lockQueues, unlockQueues } from './queue-locks.js';
import { RETRY_TOPIC_PREFIX } from './received-message.js';
import { subscribeQueues } from './topic-route.js';

/** What the rebalancer needs of its consumer. */
export interface RebalanceHost {
  readonly client: ClientInstance;
  readonly group: string;
  readonly clustering: boolean;
  /** Orderly clustering: queues are adopted only under a broker lock, released when dropped. */
  readonly locksQueues: boolean;
  /** The consumer's queues, by {@link queueKey}. */
  readonly queues: ProcessQueueTable;
  readonly allocateStrategy: AllocateStrategy | undefined;
  readonly consumeFrom: ConsumeFrom | undefined;
  /** True while the consumer runs (a round stops adopting queues once it is not). */
  isRunning(): boolean;
  /** The consumer's offset store (created when it starts). */
  offsets(): OffsetStore;
  /** Topics to balance (the subscriptions, and the retry topic in clustering mode). */
  topics(): string[];
  reportError(err: Error): void;
  /** Address of the broker that serves `mq` (master), or a NO_ROUTE error. */
  addrOf(mq: MessageQueue): string;
  /** Starts consuming `mq` from `offset`: a new process queue and its pull loop. */
  adopt(mq: MessageQueue, offset: number, locked: boolean): void;
}

/** Rebalances the queues of one consumer (see the module comment). */
export class Rebalancer {
  private round: Promise<void> | undefined;
  private again = false;

  constructor(private readonly host: RebalanceHost) {}

  /** Rebalances every topic; concurrent calls coalesce. */
  rebalance(): Promise<void> {
    if (!this.host.isRunning()) return Promise.resolve();
    if (this.round) {
      this.again = true;
      return this.round;
    }
    this.round = (async () => {
      do {
        this.again = false;
        // A broker answers with the group's consumers whatever the topic: ask each broker once
        // per round, not once per topic (a consumer of 10,000 topics sent 10,000 requests).
        const consumerIds = new Map<string, Promise<string[]>>();
        for (const topic of this.host.topics()) {
          try {
            await this.rebalanceTopic(topic, consumerIds);
          } catch (err) {
            this.host.reportError(asError(err));
          }
        }
      } while (this.again && this.host.isRunning());
    })().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Renews the broker locks of `mqs`; resolves with those granted. */
  lockQueues(mqs: readonly MessageQueue[]): Promise<MessageQueue[]> {
    const host = this.host;
    return lockQueues(host.client, host.group, mqs, (err) => host.reportError(err));
  }

  /** Releases the broker locks of `mqs`. */
  unlock(mqs: readonly MessageQueue[]): Promise<void> {
    return unlockQueues(this.host.client, this.host.group, mqs);
  }

  /**
   * The queues of `topic` this consumer should own, or undefined when that cannot be told
   * this round (no route, or the broker has not seen this consumer's heartbeat yet).
   */
  private async owned(
    topic: string,
    consumerIds: Map<string, Promise<string[]>>,
  ): Promise<MessageQueue[] | undefined> {
    const { client, group } = this.host;
    const route = client.cachedRoute(topic) ?? (await client.updateRoute(topic));
    if (!route || !this.host.isRunning()) return undefined;
    const all = subscribeQueues(topic, route);
    if (!this.host.clustering || all.length === 0) return all;
    const broker = [...route.brokerDatas].sort((a, b) => (a.brokerName < b.brokerName ? -1 : 1))[0];
    const addr = broker && (broker.brokerAddrs['0'] ?? Object.values(broker.brokerAddrs)[0]);
    if (!addr) return undefined;
    let asked = consumerIds.get(addr);
    if (asked === undefined) {
      asked = client.api.getConsumerIdList(addr, group, client.requestTimeoutMs);
      // A failed request is asked again by the next topic, not reused.
      asked.catch(() => consumerIds.delete(addr));
      consumerIds.set(addr, asked);
    }
    const cids = await asked;
    if (!cids.includes(client.clientId)) {
      // The broker has not seen our heartbeat yet: announce ourselves and retry next round
      // (the next topic asks again).
      consumerIds.delete(addr);
      await client.heartbeatAll();
      return undefined;
    }
    return (this.host.allocateStrategy ?? allocateAveragely)(client.clientId, all, cids);
  }

  private async rebalanceTopic(
    topic: string,
    consumerIds: Map<string, Promise<string[]>>,
  ): Promise<void> {
    const mine = await this.owned(topic, consumerIds);
    if (mine === undefined) return;
    const { queues } = this.host;
    const wanted = new Set(mine.map(queueKey));
    for (const [key, pq] of queues.entriesOf(topic)) {
      if (!wanted.has(key)) await this.dropQueue(key, pq);
    }
    const added: MessageQueue[] = mine.filter((mq) => !queues.has(queueKey(mq)));
    if (added.length === 0) return;
    const locking = this.host.locksQueues;
    let allowed = added;
    if (locking) {
      const locked = new Set((await this.lockQueues(added)).map(queueKey));
      allowed = added.filter((mq) => locked.has(queueKey(mq)));
    }
    for (const mq of allowed) {
      if (!this.host.isRunning()) return;
      let offset: number;
      try {
        offset = await this.startOffset(mq);
      } catch (err) {
        this.host.reportError(asError(err));
        continue;
      }
      this.host.adopt(mq, offset, locking);
    }
  }

  private async dropQueue(key: string, pq: ProcessQueue): Promise<void> {
    const { queues } = this.host;
    const offsetStore = this.host.offsets();
    pq.dropped = true;
    queues.delete(key);
    pq.detachTotals();
    await offsetStore.persistAll([pq.mq]).catch((err) => this.host.reportError(asError(err)));
    offsetStore.remove(pq.mq);
    if (this.host.locksQueues) void this.unlock([pq.mq]);
  }

  /** Where a newly owned queue starts: its stored offset, else the `consumeFrom` position. */
  private async startOffset(mq: MessageQueue): Promise<number> {
    const stored = await this.host.offsets().read(mq, 'store');
    if (stored >= 0) return stored;
    if (mq.topic.startsWith(RETRY_TOPIC_PREFIX)) return 0;
    const from = this.host.consumeFrom ?? 'LAST_OFFSET';
    const { api, requestTimeoutMs } = this.host.client;
    const addr = this.host.addrOf(mq);
    if (from === 'FIRST_OFFSET') return api.getMinOffset(addr, mq, requestTimeoutMs);
    if (from === 'LAST_OFFSET') return api.getMaxOffset(addr, mq, requestTimeoutMs);
    return api.searchOffset(addr, mq, from.timestampMs, requestTimeoutMs);
  }
}
