/**
 * Topic headers: UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215) /
 * DELETE_TOPIC_IN_NAMESRV (216), GET_ROUTEINFO_BY_TOPIC (105).
 */
import {
  optBool,
  optInt,
  optString,
  reqInt,
  reqString,
  toExtFields,
  type ExtFields,
} from './fields.js';

/** Permission bits of a topic or broker. */
export const Perm = {
  PRIORITY: 8,
  READ: 4,
  WRITE: 2,
  INHERIT: 1,
} as const;

/** UPDATE_AND_CREATE_TOPIC request. */
export interface CreateTopicRequestHeader {
  topic: string;
  defaultTopic: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: string;
  topicSysFlag?: number;
  order: boolean;
  /** RocketMQ 5 attributes string, e.g. `+message.type=NORMAL`. */
  attributes?: string;
}

/** Decodes UPDATE_AND_CREATE_TOPIC's request header. */
export function decodeCreateTopicRequestHeader(ext: ExtFields): CreateTopicRequestHeader {
  return {
    topic: reqString(ext, 'topic'),
    defaultTopic: optString(ext, 'defaultTopic') ?? 'TBW102',
    readQueueNums: reqInt(ext, 'readQueueNums'),
    writeQueueNums: reqInt(ext, 'writeQueueNums'),
    perm: optInt(ext, 'perm') ?? Perm.READ | Perm.WRITE,
    topicFilterType: optString(ext, 'topicFilterType') ?? 'SINGLE_TAG',
    topicSysFlag: optInt(ext, 'topicSysFlag'),
    order: optBool(ext, 'order') ?? false,
    attributes: optString(ext, 'attributes'),
  };
}

/** Encodes UPDATE_AND_CREATE_TOPIC's request header. */
export function encodeCreateTopicRequestHeader(h: CreateTopicRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** DELETE_TOPIC_IN_BROKER / DELETE_TOPIC_IN_NAMESRV request. */
export interface DeleteTopicRequestHeader {
  topic: string;
  /** Name server only: restrict the deletion to one cluster. */
  clusterName?: string;
}

/** Decodes a delete-topic request header. */
export function decodeDeleteTopicRequestHeader(ext: ExtFields): DeleteTopicRequestHeader {
  return { topic: reqString(ext, 'topic'), clusterName: optString(ext, 'clusterName') };
}

/** Encodes a delete-topic request header. */
export function encodeDeleteTopicRequestHeader(h: DeleteTopicRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** GET_ROUTEINFO_BY_TOPIC request. */
export interface GetRouteInfoRequestHeader {
  topic: string;
  /** Newer Java clients ask for strictly standard JSON. */
  acceptStandardJsonOnly?: boolean;
}

/** Decodes GET_ROUTEINFO_BY_TOPIC's request header. */
export function decodeGetRouteInfoRequestHeader(ext: ExtFields): GetRouteInfoRequestHeader {
  return {
    topic: reqString(ext, 'topic'),
    acceptStandardJsonOnly: optBool(ext, 'acceptStandardJsonOnly'),
  };
}

/** Encodes GET_ROUTEINFO_BY_TOPIC's request header. */
export function encodeGetRouteInfoRequestHeader(h: GetRouteInfoRequestHeader): ExtFields {
  return toExtFields({ ...h });
}
