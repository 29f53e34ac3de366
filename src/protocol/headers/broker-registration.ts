/**
 * Broker ↔ name-server headers: REGISTER_BROKER (103), UNREGISTER_BROKER (104),
 * QUERY_DATA_VERSION (322).
 */
import {
  optBool,
  optInt,
  optLong,
  optString,
  reqBool,
  reqLong,
  reqString,
  toExtFields,
  type ExtFields,
} from './fields.js';

/** Identity of a broker instance. */
export interface BrokerIdentityHeader {
  brokerName: string;
  brokerAddr: string;
  clusterName: string;
  /** 0 = master, > 0 = slave. */
  brokerId: number;
}

function decodeIdentity(ext: ExtFields): BrokerIdentityHeader {
  return {
    brokerName: reqString(ext, 'brokerName'),
    brokerAddr: reqString(ext, 'brokerAddr'),
    clusterName: reqString(ext, 'clusterName'),
    brokerId: reqLong(ext, 'brokerId'),
  };
}

/** REGISTER_BROKER request; the body is a register-broker body (see `bodies.ts`). */
export interface RegisterBrokerRequestHeader extends BrokerIdentityHeader {
  haServerAddr: string;
  /** Body is zlib-compressed (RocketMQ 4.9+ option); Sluice brokers send it plain. */
  compressed: boolean;
  /** CRC32 of the body, 0 when not checked. */
  bodyCrc32: number;
  /** Liveness timeout the broker asks for (ms), if any. */
  heartbeatTimeoutMillis?: number;
  /**
   * Sluice extension (extField `completeTopicTable`): the body holds the broker's whole topic
   * table, so the name server may drop the broker's topics missing from it. Without it a
   * registration is merged, as RocketMQ's name server does by default (a RocketMQ broker sends
   * only the changed topics after creating one). Other name servers ignore the field.
   */
  completeTopicTable?: boolean;
}

/** Decodes REGISTER_BROKER's request header. */
export function decodeRegisterBrokerRequestHeader(ext: ExtFields): RegisterBrokerRequestHeader {
  return {
    ...decodeIdentity(ext),
    haServerAddr: optString(ext, 'haServerAddr') ?? '',
    compressed: optBool(ext, 'compressed') ?? false,
    bodyCrc32: optInt(ext, 'bodyCrc32') ?? 0,
    heartbeatTimeoutMillis: optLong(ext, 'heartbeatTimeoutMillis'),
    completeTopicTable: optBool(ext, 'completeTopicTable') ?? false,
  };
}

/** Encodes REGISTER_BROKER's request header. */
export function encodeRegisterBrokerRequestHeader(h: RegisterBrokerRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** REGISTER_BROKER response: where the master of the broker group is (for slaves). */
export interface RegisterBrokerResponseHeader {
  haServerAddr?: string;
  masterAddr?: string;
}

/** Decodes REGISTER_BROKER's response header. */
export function decodeRegisterBrokerResponseHeader(ext: ExtFields): RegisterBrokerResponseHeader {
  return { haServerAddr: optString(ext, 'haServerAddr'), masterAddr: optString(ext, 'masterAddr') };
}

/** Encodes REGISTER_BROKER's response header. */
export function encodeRegisterBrokerResponseHeader(h: RegisterBrokerResponseHeader): ExtFields {
  return toExtFields({ ...h });
}

/** UNREGISTER_BROKER request. */
export type UnregisterBrokerRequestHeader = BrokerIdentityHeader;

/** Decodes UNREGISTER_BROKER's request header. */
export function decodeUnregisterBrokerRequestHeader(ext: ExtFields): UnregisterBrokerRequestHeader {
  return decodeIdentity(ext);
}

/** Encodes UNREGISTER_BROKER's (or QUERY_DATA_VERSION's) request header. */
export function encodeBrokerIdentityHeader(h: BrokerIdentityHeader): ExtFields {
  return toExtFields({ ...h });
}

/** QUERY_DATA_VERSION request; the body is the broker's DataVersion JSON. */
export type QueryDataVersionRequestHeader = BrokerIdentityHeader;

/** Decodes QUERY_DATA_VERSION's request header. */
export function decodeQueryDataVersionRequestHeader(ext: ExtFields): QueryDataVersionRequestHeader {
  return decodeIdentity(ext);
}

/** QUERY_DATA_VERSION response: did the name server's copy differ from the broker's? */
export interface QueryDataVersionResponseHeader {
  changed: boolean;
}

/** Decodes QUERY_DATA_VERSION's response header. */
export function decodeQueryDataVersionResponseHeader(
  ext: ExtFields,
): QueryDataVersionResponseHeader {
  return { changed: reqBool(ext, 'changed') };
}

/** Encodes QUERY_DATA_VERSION's response header. */
export function encodeQueryDataVersionResponseHeader(h: QueryDataVersionResponseHeader): ExtFields {
  return { changed: String(h.changed) };
}
