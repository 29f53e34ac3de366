/**
 * What a send needs of its topic — the topic's config, the store's slot for it and its traffic
 * counters — found with one lookup by name per send. Looked up one by one they cost a map
 * lookup each (the config, the store's topic bytes and queue offsets, the counters), and with
 * 10,000 topics every one of those is a few cache misses.
 *
 * An entry is trusted while the topic table has not changed since it was made; after a change it
 * is checked against the table again on its next use (and dropped when the topic is gone).
 */
import type { MessageStoreApi, TopicSlot } from '../store/types.js';
import type { BrokerStats, TopicTraffic } from './broker-stats.js';
import type { TopicConfig, TopicConfigManager } from './topic-config-manager.js';

/** One topic as the send path sees it. */
export interface TopicSendState {
  readonly topic: string;
  readonly config: TopicConfig;
  /** Undefined when the store does not accept the name (the put then reports why). */
  readonly slot: TopicSlot | undefined;
  readonly traffic: TopicTraffic;
  /** The topic table's change count when {@link config} was last checked. */
  checkedAt: number;
}

/** The send states of one broker's topics, by name. */
export class TopicSendStates {
  private readonly byTopic = new Map<string, TopicSendState>();

  constructor(
    private readonly topics: TopicConfigManager,
    private readonly store: MessageStoreApi,
    private readonly stats: BrokerStats,
  ) {}

  /** The state of `topic`, or undefined when the broker has no such topic. */
  get(topic: string): TopicSendState | undefined {
    const changeCount = this.topics.changeCount;
    const known = this.byTopic.get(topic);
    if (known !== undefined && known.checkedAt === changeCount) return known;
    const config = this.topics.selectTopicConfig(topic);
    if (config === undefined) {
      if (known !== undefined) this.byTopic.delete(topic);
      return undefined;
    }
    if (known !== undefined && known.config === config) {
      known.checkedAt = changeCount;
      return known;
    }
    // Deleted topics leave entries behind until their name is sent to again; start over when
    // they outnumber the live ones.
    if (this.byTopic.size > 2 * this.topics.size + 1024) this.byTopic.clear();
    const state: TopicSendState = {
      topic,
      config,
      slot: this.slotOf(topic),
      traffic: this.stats.topic(topic),
      checkedAt: changeCount,
    };
    this.byTopic.set(topic, state);
    return state;
  }

  private slotOf(topic: string): TopicSlot | undefined {
    try {
      return this.store.topicSlot(topic);
    } catch {
      return undefined;
    }
  }
}
