/**
 * SQL92 subscriptions at the broker: a {@link MessageFilter} that evaluates the expression over
 * the properties of each stored record, read in place with `findProperty` (no record decode).
 * Before evaluating it checks, with a byte scan of the properties, that every property the
 * expression needs to be TRUE is present (see {@link requiredProperties}): messages lacking one
 * are skipped without evaluation.
 *
 * Also the checks that answer a bad expression with SUBSCRIPTION_PARSE_FAILED (23), at
 * heartbeat and at pull.
 */
import { newRecordMeta, readRecordMeta, viewOf } from '../../common/codec/message-record.js';
import { findProperty, findPropertyRange, type ByteRange } from '../../common/codec/properties.js';
import { decodeHeartbeatData } from '../../protocol/client-bodies.js';
import { createResponse, type RemotingCommand } from '../../protocol/remoting-command.js';
import { ResponseCode } from '../../protocol/response-code.js';
import type { MessageFilter } from '../../store/types.js';
import { matchesSql } from './sql-evaluator.js';
import { SqlFilterError, parseSqlFilter, requiredProperties, type SqlExpr } from './sql-parser.js';

/** A compiled SQL92 subscription. */
export class SqlMessageFilter implements MessageFilter {
  /** The expression text. */
  readonly expression: string;
  private readonly expr: SqlExpr;
  private readonly required: string[];
  private readonly meta = newRecordMeta();
  private readonly range: ByteRange = { start: 0, end: 0 };
  private bytes: Uint8Array = new Uint8Array(0);
  private propsStart = 0;
  private propsLength = 0;
  private readonly lookup = (name: string): string | undefined =>
    findProperty(this.bytes, this.propsStart, this.propsLength, name);

  /** Parses `expression`; throws {@link SqlFilterError} when it is malformed. */
  constructor(expression: string) {
    this.expression = expression;
    this.expr = parseSqlFilter(expression);
    this.required = [...requiredProperties(this.expr)];
  }

  /** Tag codes say nothing about properties: every entry goes on to the record check. */
  isMatchedByTagsCode(): boolean {
    return true;
  }

  /** Evaluates the expression over the record's properties. */
  isMatchedByRecord(record: Uint8Array): boolean {
    readRecordMeta(viewOf(record), record, 0, this.meta);
    return this.matchesProperties(record, this.meta.propertiesStart, this.meta.propertiesLength);
  }

  /** Evaluates over encoded properties `bytes[start, start + length)`. */
  matchesProperties(bytes: Uint8Array, start: number, length: number): boolean {
    for (let i = 0; i < this.required.length; i++) {
      if (!findPropertyRange(bytes, start, length, this.required[i]!, this.range)) return false;
    }
    this.bytes = bytes;
    this.propsStart = start;
    this.propsLength = length;
    try {
      return matchesSql(this.expr, this.lookup);
    } finally {
      this.bytes = EMPTY;
    }
  }
}

const EMPTY = new Uint8Array(0);

/** The remark of a SUBSCRIPTION_PARSE_FAILED answer for a bad expression. */
export function sqlProblemRemark(expression: string, error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error);
  return `the SQL92 subscription "${expression.slice(0, 200)}" cannot be parsed: ${detail}`;
}

/**
 * Compiles a subscription expression, or returns the remark of a SUBSCRIPTION_PARSE_FAILED
 * answer.
 */
export function compileSqlFilter(expression: string): SqlMessageFilter | { remark: string } {
  try {
    return new SqlMessageFilter(expression);
  } catch (error) {
    if (error instanceof SqlFilterError) return { remark: sqlProblemRemark(expression, error) };
    throw error;
  }
}

/**
 * Checks the SQL92 subscriptions of a HEART_BEAT request: returns the SUBSCRIPTION_PARSE_FAILED
 * response for the first malformed one, or undefined.
 */
export function checkHeartbeatSubscriptions(request: RemotingCommand): RemotingCommand | undefined {
  let data;
  try {
    data = decodeHeartbeatData(request.body);
  } catch {
    return undefined; // the heartbeat handler answers malformed bodies itself
  }
  for (const consumer of data.consumerDataSet) {
    for (const sub of consumer.subscriptionDataSet) {
      if (sub.expressionType !== 'SQL92') continue;
      const compiled = compileSqlFilter(String(sub.subString ?? ''));
      if ('remark' in compiled) {
        return createResponse(
          request,
          ResponseCode.SUBSCRIPTION_PARSE_FAILED,
          `consumer group [${consumer.groupName}], topic [${sub.topic}]: ${compiled.remark}`,
        );
      }
    }
  }
  return undefined;
}
