/**
 * What the append path needs of a topic, resolved from its name once: the name checked and
 * encoded as UTF-8 (the record stores those bytes), and the topic's queue-offset array.
 *
 * The CommitLog keeps a slot per topic it has seen (one map lookup per append). A caller that
 * sends to the same topics over and over — the broker — asks the store for a topic's slot
 * ({@link TopicSlots.slotOf}), keeps it, and hands it back with each message
 * (`MessageToStore.slot`): the append then does no lookup by name at all. With 10,000 topics each
 * such lookup is a few cache misses (~0.2–0.4 µs here), and a send made five of them.
 *
 * A slot stays usable for as long as it is kept: the queue-offset array it caches is tagged with
 * the generation of the table that handed it out, and a table changes its generation whenever it
 * drops arrays (a topic deleted), so a stale slot fetches the new array on its next append.
 */
import { SluiceError } from '../common/errors.js';

/** Max topic length in bytes (RocketMQ TOPIC_MAX_LENGTH / RETRY_OR_DLQ_TOPIC_MAX_LENGTH). */
export const TOPIC_MAX_BYTES = 127;
export const RETRY_DLQ_TOPIC_MAX_BYTES = 255;

const TOPIC_RE = /^[A-Za-z0-9_%|-]+$/;
/** Slots kept by name; past this the cache starts over (slots handed out stay valid). */
const SLOT_CACHE_MAX = 200_000;

/** One topic as the append path sees it. Made only by {@link TopicSlots}. */
export class TopicSlot {
  /**
   * The topic's next queue offsets by queue id, as handed out by a queue-offset table whose
   * generation was {@link offsetsGen} (null: not fetched yet).
   */
  offsets: number[] | null = null;
  offsetsGen = -1;
  /**
   * The dispatcher's own entry for this topic, kept here so that it finds it from the slot
   * {@link RecentSlots} names for a record (it checks the entry's bytes against the record's).
   */
  dispatchEntry: object | null = null;

  /** @internal use {@link TopicSlots.slotOf}. */
  constructor(
    /** The topic name. */
    readonly topic: string,
    /** The name as UTF-8, checked. */
    readonly bytes: Uint8Array,
    /** The slot cache that made (and checked) this slot. */
    readonly owner: TopicSlots,
  ) {}
}

/** The slots of one CommitLog, by topic name. */
export class TopicSlots {
  private readonly byName = new Map<string, TopicSlot>();

  /** The slot of `topic`; throws TOPIC_ILLEGAL (typed) when the name is not a valid topic. */
  slotOf(topic: string): TopicSlot {
    const cached = this.byName.get(topic);
    if (cached !== undefined) return cached;
    const bytes = Buffer.from(topic, 'utf8');
    const max =
      topic.startsWith('%RETRY%') || topic.startsWith('%DLQ%')
        ? RETRY_DLQ_TOPIC_MAX_BYTES
        : TOPIC_MAX_BYTES;
    if (bytes.length === 0 || bytes.length > max || !TOPIC_RE.test(topic)) {
      throw new SluiceError(
        'TOPIC_ILLEGAL',
        `topic ${JSON.stringify(topic.slice(0, 300))} is illegal: it must be 1-${max} bytes of ` +
          '[A-Za-z0-9_%|-]',
      );
    }
    if (this.byName.size >= SLOT_CACHE_MAX) this.byName.clear();
    const slot = new TopicSlot(topic, bytes, this);
    this.byName.set(topic, slot);
    return slot;
  }

  /**
   * The slot to append `msg` with: the one it carries when this cache made it for the same
   * topic, else the one found by name.
   */
  slotFor(topic: string, carried: TopicSlot | undefined): TopicSlot {
    return carried !== undefined && carried.owner === this && carried.topic === topic
      ? carried
      : this.slotOf(topic);
  }
}

let lastGeneration = 0;

/**
 * A generation number no other queue-offset table has used: a slot's cached array is only
 * trusted by the table (and table state) that handed it out.
 */
export function newOffsetsGeneration(): number {
  return ++lastGeneration;
}

/** Appends remembered by {@link RecentSlots} (a power of two). */
const RECENT_SLOTS = 1 << 16;

/**
 * The slot of each of the latest appends, by log offset: the dispatcher, which follows the log a
 * little behind the appends, takes a record's topic from here instead of looking its bytes up
 * (it checks the bytes). It asks in log order, so a cursor finds each answer in a step or two;
 * records it asks for that are not here (appended before a restart, or more than
 * {@link RECENT_SLOTS} appends ago) get undefined.
 */
export class RecentSlots {
  private readonly slots: Array<TopicSlot | undefined> = new Array<TopicSlot | undefined>(
    RECENT_SLOTS,
  );
  private readonly offsets = new Float64Array(RECENT_SLOTS).fill(-1);
  /** Appends recorded so far. */
  private added = 0;
  /** The next append the dispatcher will ask about. */
  private cursor = 0;

  /** Records that the record at `physicalOffset` was appended with `slot`. */
  add(physicalOffset: number, slot: TopicSlot): void {
    const i = this.added & (RECENT_SLOTS - 1);
    this.slots[i] = slot;
    this.offsets[i] = physicalOffset;
    this.added++;
  }

  /** The slot the record at `physicalOffset` was appended with, if remembered. */
  slotAt(physicalOffset: number): TopicSlot | undefined {
    let c = this.cursor;
    const end = this.added;
    if (end - c > RECENT_SLOTS) c = end - RECENT_SLOTS;
    while (c < end) {
      const i = c & (RECENT_SLOTS - 1);
      const offset = this.offsets[i];
      if (offset === physicalOffset) {
        this.cursor = c + 1;
        return this.slots[i];
      }
      // Appends are in log order: past the offset means it is not here.
      if (offset > physicalOffset) break;
      c++;
    }
    this.cursor = c;
    return undefined;
  }

  /** Forgets everything (the log was cut back: offsets may be reused). */
  clear(): void {
    this.cursor = this.added;
  }
}
