/** PULL_MESSAGE (11) request and response headers. */
import {
  optInt,
  optLong,
  optString,
  reqInt,
  reqLong,
  reqString,
  toExtFields,
  type ExtFields,
} from './fields.js';

/** Pull request `sysFlag` bits. */
export const PullSysFlag = {
  /** `commitOffset` carries the consumer's offset to store. */
  COMMIT_OFFSET: 1,
  /** Long polling: hold the request until a message arrives or `suspendTimeoutMillis` passes. */
  SUSPEND: 2,
  /** `subscription` is present. */
  SUBSCRIPTION: 4,
  /** Class filter mode (unsupported by Sluice). */
  CLASS_FILTER: 8,
} as const;

/** PULL_MESSAGE request header. */
export interface PullMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  maxMsgNums: number;
  sysFlag: number;
  commitOffset: number;
  suspendTimeoutMillis: number;
  subscription?: string;
  subVersion: number;
  expressionType?: string;
  maxMsgBytes?: number;
}

/** Decodes a pull request header. */
export function decodePullMessageRequestHeader(ext: ExtFields): PullMessageRequestHeader {
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: reqInt(ext, 'queueId'),
    queueOffset: reqLong(ext, 'queueOffset'),
    maxMsgNums: reqInt(ext, 'maxMsgNums'),
    sysFlag: optInt(ext, 'sysFlag') ?? 0,
    commitOffset: optLong(ext, 'commitOffset') ?? 0,
    suspendTimeoutMillis: optLong(ext, 'suspendTimeoutMillis') ?? 0,
    subscription: optString(ext, 'subscription'),
    subVersion: optLong(ext, 'subVersion') ?? 0,
    expressionType: optString(ext, 'expressionType'),
    maxMsgBytes: optInt(ext, 'maxMsgBytes'),
  };
}

/** Encodes a pull request header. */
export function encodePullMessageRequestHeader(h: PullMessageRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** PULL_MESSAGE response header; `nextBeginOffset` is required for every code. */
export interface PullMessageResponseHeader {
  suggestWhichBrokerId: number;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
}

/** Decodes a pull response header. */
export function decodePullMessageResponseHeader(ext: ExtFields): PullMessageResponseHeader {
  return {
    suggestWhichBrokerId: optLong(ext, 'suggestWhichBrokerId') ?? 0,
    nextBeginOffset: reqLong(ext, 'nextBeginOffset'),
    minOffset: reqLong(ext, 'minOffset'),
    maxOffset: reqLong(ext, 'maxOffset'),
  };
}

/** Encodes a pull response header. */
export function encodePullMessageResponseHeader(h: PullMessageResponseHeader): ExtFields {
  return toExtFields({ ...h });
}
