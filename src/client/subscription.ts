/**
 * Subscription expressions: `*` (everything), tag lists `"a || b"`, or a SQL92 property filter
 * given in object form. Produces the subscription data sent in heartbeats and pulls, and the
 * client-side tag re-check (the broker filters by tag hash code; hash collisions are removed
 * here by comparing the tag strings).
 */
import { SluiceError } from '../common/errors.js';
import { javaStringHashCode } from '../common/java-hash.js';

/** Expression types understood by RocketMQ brokers. */
export type ExpressionType = 'TAG' | 'SQL92';

/** A SQL92 filter, e.g. `{ type: 'SQL92', expression: "a > 5 AND region = 'eu'" }`. */
export interface SqlExpression {
  /** Always `'SQL92'`. */
  type: 'SQL92';
  /** The SQL92 boolean expression over message properties. */
  expression: string;
}

/** What `subscribe()` accepts: `'*'`, `'TagA || TagB'`, or a {@link SqlExpression}. */
export type SubscriptionExpression = string | SqlExpression;

/** Subscription data, as carried in heartbeats (field names are the wire names). */
export interface SubscriptionData {
  /** Topic. */
  topic: string;
  /** The expression text: `"*"`, the tag list, or the SQL. */
  subString: string;
  /** Tags (empty for `*` and SQL). */
  tagsSet: string[];
  /** Java String.hashCode of every tag, in the same order as `tagsSet`. */
  codeSet: number[];
  /** Version: creation time in ms. */
  subVersion: number;
  /** Expression type. */
  expressionType: ExpressionType;
  /** Always false (class filters are not supported). */
  classFilterMode: boolean;
}

/** The "match everything" expression. */
export const SUB_ALL = '*';

/**
 * Parses a subscription expression.
 * @throws SluiceError `INVALID_ARGUMENT` for an empty SQL expression or a non-string tag list.
 */
export function parseSubscription(
  topic: string,
  expression: SubscriptionExpression | undefined,
  subVersion = Date.now(),
): SubscriptionData {
  if (typeof expression === 'object' && expression !== null) {
    if (expression.type !== 'SQL92') {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `unsupported expression type '${String((expression as { type: unknown }).type)}'; use 'SQL92' or a tag string`,
      );
    }
    const sql = expression.expression?.trim();
    if (!sql) throw new SluiceError('INVALID_ARGUMENT', 'SQL92 expression must not be empty');
    return {
      topic,
      subString: sql,
      tagsSet: [],
      codeSet: [],
      subVersion,
      expressionType: 'SQL92',
      classFilterMode: false,
    };
  }
  if (expression !== undefined && typeof expression !== 'string') {
    throw new SluiceError(
      'INVALID_ARGUMENT',
      'subscription expression must be a string or {type, expression}',
    );
  }
  const text = expression?.trim() ?? '';
  if (text === '' || text === SUB_ALL) {
    return {
      topic,
      subString: SUB_ALL,
      tagsSet: [],
      codeSet: [],
      subVersion,
      expressionType: 'TAG',
      classFilterMode: false,
    };
  }
  const tagsSet: string[] = [];
  for (const part of text.split('||')) {
    const tag = part.trim();
    if (tag && !tagsSet.includes(tag)) tagsSet.push(tag);
  }
  if (tagsSet.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', `subscription expression '${text}' names no tag`);
  }
  return {
    topic,
    subString: text,
    tagsSet,
    codeSet: tagsSet.map(javaStringHashCode),
    subVersion,
    expressionType: 'TAG',
    classFilterMode: false,
  };
}

/**
 * Client-side re-check of a message's tag against a subscription. SQL subscriptions and `*`
 * accept everything (the broker evaluated the SQL); with a tag list, a message without tags
 * does not match (as in RocketMQ's Java client).
 */
export function tagMatches(sub: SubscriptionData, tags: string | undefined): boolean {
  if (sub.expressionType !== 'TAG' || sub.tagsSet.length === 0) return true;
  return tags !== undefined && sub.tagsSet.includes(tags);
}
