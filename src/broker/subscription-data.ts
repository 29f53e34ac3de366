/**
 * A consumer's subscription to one topic, as carried in heartbeats and pulls, and the tag filter
 * built from it (RocketMQ's SubscriptionData + ExpressionMessageFilter for TAG expressions).
 */
import { javaStringHashCode } from '../common/java-hash.js';
import type { MessageFilter } from '../store/types.js';

/** `*`: every message. */
export const SUB_ALL = '*';
/** Expression types a subscription may use. */
export type ExpressionType = 'TAG' | 'SQL92';

/** RocketMQ's SubscriptionData (JSON field names as on the wire). */
export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  expressionType: ExpressionType;
  classFilterMode: boolean;
}

/**
 * Builds subscription data from a tag expression: `*` (or empty) matches everything, otherwise
 * tags separated by `||`, each trimmed; hash codes are Java String.hashCode of each tag.
 */
export function buildSubscriptionData(
  topic: string,
  subString: string | undefined,
  expressionType: string | undefined = 'TAG',
  subVersion = Date.now(),
): SubscriptionData {
  const type: ExpressionType = expressionType === 'SQL92' ? 'SQL92' : 'TAG';
  const text = subString === undefined || subString.trim() === '' ? SUB_ALL : subString.trim();
  const data: SubscriptionData = {
    topic,
    subString: text,
    tagsSet: [],
    codeSet: [],
    subVersion,
    expressionType: type,
    classFilterMode: false,
  };
  if (type === 'TAG' && text !== SUB_ALL) {
    for (const part of text.split('||')) {
      const tag = part.trim();
      if (tag === '' || data.tagsSet.includes(tag)) continue;
      data.tagsSet.push(tag);
      data.codeSet.push(javaStringHashCode(tag));
    }
  }
  return data;
}

/** Normalizes a subscription read from a heartbeat body (fills missing fields, computes codes). */
export function normalizeSubscriptionData(raw: {
  topic?: string;
  subString?: string;
  expressionType?: string;
  subVersion?: number;
  classFilterMode?: boolean;
}): SubscriptionData {
  const data = buildSubscriptionData(
    String(raw.topic ?? ''),
    typeof raw.subString === 'string' ? raw.subString : SUB_ALL,
    raw.expressionType,
    typeof raw.subVersion === 'number' ? raw.subVersion : Date.now(),
  );
  data.classFilterMode = raw.classFilterMode === true;
  return data;
}

/**
 * Tag filter over ConsumeQueue tag hash codes. A hash collision can let a foreign tag through;
 * clients check the tag string again (as RocketMQ clients do).
 */
export class TagMessageFilter implements MessageFilter {
  private readonly matchAll: boolean;
  private readonly codes: Int32Array;

  constructor(subscription: SubscriptionData) {
    this.matchAll =
      subscription.expressionType !== 'TAG' ||
      subscription.classFilterMode ||
      subscription.subString === SUB_ALL;
    this.codes = Int32Array.from(subscription.codeSet);
  }

  /** True when every message matches. */
  get matchesEverything(): boolean {
    return this.matchAll;
  }

  /** Checks a ConsumeQueue entry's tag hash code. */
  isMatchedByTagsCode(tagsCode: number): boolean {
    if (this.matchAll) return true;
    const codes = this.codes;
    for (let i = 0; i < codes.length; i++) if (codes[i] === tagsCode) return true;
    return false;
  }
}

/** A filter that lets every message through (subscription `*`). */
export const MATCH_ALL_FILTER: MessageFilter = {
  isMatchedByTagsCode: () => true,
};
