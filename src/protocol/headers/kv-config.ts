/**
 * Name-server KV config headers: PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG
 * (102), GET_KVLIST_BY_NAMESPACE (219).
 */
import { reqString, type ExtFields } from './fields.js';

/** `{namespace, key}`: GET_KV_CONFIG and DELETE_KV_CONFIG requests. */
export interface KVConfigKeyHeader {
  namespace: string;
  key: string;
}

/** Decodes a {@link KVConfigKeyHeader}. */
export function decodeKVConfigKeyHeader(ext: ExtFields): KVConfigKeyHeader {
  return { namespace: reqString(ext, 'namespace'), key: reqString(ext, 'key') };
}

/** Encodes a {@link KVConfigKeyHeader}. */
export function encodeKVConfigKeyHeader(h: KVConfigKeyHeader): ExtFields {
  return { namespace: h.namespace, key: h.key };
}

/** PUT_KV_CONFIG request. */
export interface PutKVConfigRequestHeader extends KVConfigKeyHeader {
  value: string;
}

/** Decodes PUT_KV_CONFIG's request header. */
export function decodePutKVConfigRequestHeader(ext: ExtFields): PutKVConfigRequestHeader {
  return { ...decodeKVConfigKeyHeader(ext), value: reqString(ext, 'value') };
}

/** Encodes PUT_KV_CONFIG's request header. */
export function encodePutKVConfigRequestHeader(h: PutKVConfigRequestHeader): ExtFields {
  return { namespace: h.namespace, key: h.key, value: h.value };
}

/** GET_KV_CONFIG response. */
export interface GetKVConfigResponseHeader {
  value: string;
}

/** Decodes GET_KV_CONFIG's response header. */
export function decodeGetKVConfigResponseHeader(ext: ExtFields): GetKVConfigResponseHeader {
  return { value: reqString(ext, 'value') };
}

/** GET_KVLIST_BY_NAMESPACE request. */
export interface NamespaceRequestHeader {
  namespace: string;
}

/** Decodes GET_KVLIST_BY_NAMESPACE's request header. */
export function decodeNamespaceRequestHeader(ext: ExtFields): NamespaceRequestHeader {
  return { namespace: reqString(ext, 'namespace') };
}
