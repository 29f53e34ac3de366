/**
 * Committed consumer offsets (`config/consumerOffset.json`): for each `topic@group`, queue id →
 * the next queue offset the group will consume. Clients commit them with UPDATE_CONSUMER_OFFSET
 * and piggy-backed on pulls.
 */

/** The serialized shape: `{"offsetTable": {"topic@group": {"0": 42}}}`. */
export interface ConsumerOffsetTableJson {
  offsetTable: Record<string, Record<string, number>>;
}

const KEY_SEPARATOR = '@';

/** Offset table keyed by topic, then group, then queue id (no string building on lookups). */
export class ConsumerOffsetManager {
  /** topic → group → queueId → offset. */
  private readonly table = new Map<string, Map<string, Map<number, number>>>();
  private changes = 0;

  /**
   * Moves whenever an offset is stored, changed or forgotten (what {@link encode} returns
   * changed): the periodic save skips the table while it stays put.
   */
  get version(): number {
    return this.changes;
  }

  /**
   * Stores `offset` as the group's next offset for the queue. Negative offsets are ignored
   * (ali-ons commits -1 for "nothing consumed yet"), as are non-integers.
   */
  commitOffset(group: string, topic: string, queueId: number, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) return;
    let groups = this.table.get(topic);
    if (!groups) {
      groups = new Map();
      this.table.set(topic, groups);
    }
    let queues = groups.get(group);
    if (!queues) {
      queues = new Map();
      groups.set(group, queues);
    }
    if (queues.get(queueId) !== offset) {
      queues.set(queueId, offset);
      this.changes++;
    }
  }

  /** The committed offset, or -1 when the group never committed one for the queue. */
  queryOffset(group: string, topic: string, queueId: number): number {
    return this.table.get(topic)?.get(group)?.get(queueId) ?? -1;
  }

  /** Queue id → offset of one group on one topic (empty when none). */
  queryOffsets(group: string, topic: string): ReadonlyMap<number, number> {
    return this.table.get(topic)?.get(group) ?? new Map();
  }

  /** Groups that committed offsets on the topic. */
  groupsOfTopic(topic: string): string[] {
    return [...(this.table.get(topic)?.keys() ?? [])];
  }

  /** Topics on which the group committed offsets. */
  topicsOfGroup(group: string): string[] {
    const out: string[] = [];
    for (const [topic, groups] of this.table) if (groups.has(group)) out.push(topic);
    return out;
  }

  /** Forgets every offset of a topic (topic deleted). */
  removeTopic(topic: string): void {
    if (this.table.delete(topic)) this.changes++;
  }

  /** Forgets a group's offsets on one topic. */
  removeOffset(group: string, topic: string): void {
    const groups = this.table.get(topic);
    if (groups?.delete(group)) this.changes++;
  }

  /** The table in consumerOffset.json's shape. */
  encode(): ConsumerOffsetTableJson {
    const offsetTable: Record<string, Record<string, number>> = {};
    for (const [topic, groups] of this.table) {
      for (const [group, queues] of groups) {
        const entry: Record<string, number> = {};
        for (const [queueId, offset] of queues) entry[String(queueId)] = offset;
        offsetTable[topic + KEY_SEPARATOR + group] = entry;
      }
    }
    return { offsetTable };
  }

  /** Loads a table read from consumerOffset.json; malformed entries are skipped. */
  decode(json: Partial<ConsumerOffsetTableJson> | undefined): void {
    const table = json?.offsetTable;
    if (!table || typeof table !== 'object') return;
    for (const [key, queues] of Object.entries(table)) {
      // Topics cannot contain '@' (see checkTopicName), so the first '@' separates the group.
      const at = key.indexOf(KEY_SEPARATOR);
      if (at <= 0 || !queues || typeof queues !== 'object') continue;
      const topic = key.slice(0, at);
      const group = key.slice(at + 1);
      for (const [queueId, offset] of Object.entries(queues)) {
        const id = Number(queueId);
        if (Number.isInteger(id) && id >= 0 && typeof offset === 'number') {
          this.commitOffset(group, topic, id, offset);
        }
      }
    }
  }
}
