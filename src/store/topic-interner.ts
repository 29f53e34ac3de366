/**
 * The dispatcher's topic table: each topic's UTF-8 bytes, its string, and what dispatching a
 * record of it needs (the index key prefix hash, its ConsumeQueues by id), found from the
 * record's topic bytes without decoding them once the topic is known.
 */
import { equalBytes } from '../common/equal-bytes.js';
import { javaHashContinue, javaStringHashCode } from '../common/java-hash.js';
import type { ConsumeQueue } from './consume-queue.js';

/** The topic delayed messages wait in; its tag codes are delivery times. */
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';

/** What the dispatcher keeps per topic. */
export interface TopicEntry {
  bytes: Uint8Array;
  topic: string;
  /** Java hash of `topic#`, continued over each key for the index. */
  indexPrefixHash: number;
  isSchedule: boolean;
  /** The topic's queues by id (from the ConsumeQueue store, valid for `queuesGen`). */
  queues: ConsumeQueue[] | null;
  queuesGen: number;
}

const TOPIC_CACHE_MAX = 200_000;

/** Interns topic strings by their UTF-8 bytes (no decoding for known topics). */
export class TopicInterner {
  private readonly byHash = new Map<number, TopicEntry[]>();
  private size = 0;
  private readonly decoder = new TextDecoder();

  get(bytes: Uint8Array, start: number, len: number): TopicEntry {
    let h = len;
    for (let i = 0; i < len; i++) h = (Math.imul(h, 31) + bytes[start + i]) | 0;
    let list = this.byHash.get(h);
    if (list !== undefined) {
      for (let k = 0; k < list.length; k++) {
        const e = list[k];
        if (equalBytes(e.bytes, 0, e.bytes.length, bytes, start, len)) return e;
      }
    }
    if (this.size >= TOPIC_CACHE_MAX) {
      this.byHash.clear();
      this.size = 0;
      list = undefined;
    }
    const copy = bytes.slice(start, start + len);
    const topic = this.decoder.decode(copy);
    const entry: TopicEntry = {
      bytes: copy,
      topic,
      indexPrefixHash: javaHashContinue(javaStringHashCode(topic), '#'),
      isSchedule: topic === SCHEDULE_TOPIC,
      queues: null,
      queuesGen: -1,
    };
    if (list === undefined) this.byHash.set(h, [entry]);
    else list.push(entry);
    this.size++;
    return entry;
  }
}
