/** QUERY_MESSAGE (12) and VIEW_MESSAGE_BY_ID (33) headers. */
import { optString, reqInt, reqLong, reqString, toExtFields, type ExtFields } from './fields.js';

/** extFields key that turns QUERY_MESSAGE into a lookup by UNIQ_KEY (value `"true"`). */
export const UNIQUE_KEY_QUERY_FLAG = '_UNIQUE_KEY_QUERY';

/** QUERY_MESSAGE request: messages of `topic` whose KEYS (or UNIQ_KEY) contain `key`. */
export interface QueryMessageRequestHeader {
  topic: string;
  key: string;
  maxNum: number;
  beginTimestamp: number;
  endTimestamp: number;
  /** True when looking up a client unique id rather than a business key. */
  uniqueKeyQuery: boolean;
}

/** Decodes QUERY_MESSAGE's request header. */
export function decodeQueryMessageRequestHeader(ext: ExtFields): QueryMessageRequestHeader {
  return {
    topic: reqString(ext, 'topic'),
    key: reqString(ext, 'key'),
    maxNum: reqInt(ext, 'maxNum'),
    beginTimestamp: reqLong(ext, 'beginTimestamp'),
    endTimestamp: reqLong(ext, 'endTimestamp'),
    uniqueKeyQuery: optString(ext, UNIQUE_KEY_QUERY_FLAG) === 'true',
  };
}

/** Encodes QUERY_MESSAGE's request header. */
export function encodeQueryMessageRequestHeader(h: QueryMessageRequestHeader): ExtFields {
  return toExtFields({
    topic: h.topic,
    key: h.key,
    maxNum: h.maxNum,
    beginTimestamp: h.beginTimestamp,
    endTimestamp: h.endTimestamp,
    [UNIQUE_KEY_QUERY_FLAG]: h.uniqueKeyQuery ? 'true' : undefined,
  });
}

/** QUERY_MESSAGE response header. */
export interface QueryMessageResponseHeader {
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

/** Decodes QUERY_MESSAGE's response header. */
export function decodeQueryMessageResponseHeader(ext: ExtFields): QueryMessageResponseHeader {
  return {
    indexLastUpdateTimestamp: reqLong(ext, 'indexLastUpdateTimestamp'),
    indexLastUpdatePhyoffset: reqLong(ext, 'indexLastUpdatePhyoffset'),
  };
}

/** Encodes QUERY_MESSAGE's response header. */
export function encodeQueryMessageResponseHeader(h: QueryMessageResponseHeader): ExtFields {
  return toExtFields({ ...h });
}

/** VIEW_MESSAGE_BY_ID request: the record at a commit-log offset. */
export interface ViewMessageRequestHeader {
  offset: number;
}

/** Decodes VIEW_MESSAGE_BY_ID's request header. */
export function decodeViewMessageRequestHeader(ext: ExtFields): ViewMessageRequestHeader {
  return { offset: reqLong(ext, 'offset') };
}

/** Encodes VIEW_MESSAGE_BY_ID's request header. */
export function encodeViewMessageRequestHeader(h: ViewMessageRequestHeader): ExtFields {
  return { offset: String(h.offset) };
}
