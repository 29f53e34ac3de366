/** END_TRANSACTION (37) and CHECK_TRANSACTION_STATE (39, broker → producer) headers. */
import {
  optBool,
  optString,
  reqInt,
  reqLong,
  reqString,
  toExtFields,
  type ExtFields,
} from './fields.js';

/** `commitOrRollback` values (the transaction bits of the message sysFlag). */
export const TransactionType = {
  NOT_TYPE: 0,
  PREPARED: 4,
  COMMIT: 8,
  ROLLBACK: 12,
} as const;

/** END_TRANSACTION request: commit or roll back a prepared (half) message. */
export interface EndTransactionRequestHeader {
  producerGroup: string;
  /** Queue offset of the half message. */
  tranStateTableOffset: number;
  /** Commit-log offset of the half message. */
  commitLogOffset: number;
  /** One of {@link TransactionType}. */
  commitOrRollback: number;
  fromTransactionCheck: boolean;
  msgId: string;
  transactionId?: string;
}

/** Decodes END_TRANSACTION's request header. */
export function decodeEndTransactionRequestHeader(ext: ExtFields): EndTransactionRequestHeader {
  return {
    producerGroup: reqString(ext, 'producerGroup'),
    tranStateTableOffset: reqLong(ext, 'tranStateTableOffset'),
    commitLogOffset: reqLong(ext, 'commitLogOffset'),
    commitOrRollback: reqInt(ext, 'commitOrRollback'),
    fromTransactionCheck: optBool(ext, 'fromTransactionCheck') ?? false,
    msgId: reqString(ext, 'msgId'),
    transactionId: optString(ext, 'transactionId'),
  };
}

/** Encodes END_TRANSACTION's request header. */
export function encodeEndTransactionRequestHeader(h: EndTransactionRequestHeader): ExtFields {
  return toExtFields({ ...h });
}

/** CHECK_TRANSACTION_STATE request (broker → producer); the body is the half message record. */
export interface CheckTransactionStateRequestHeader {
  tranStateTableOffset: number;
  commitLogOffset: number;
  msgId?: string;
  transactionId?: string;
  offsetMsgId?: string;
}

/** Decodes CHECK_TRANSACTION_STATE's request header. */
export function decodeCheckTransactionStateRequestHeader(
  ext: ExtFields,
): CheckTransactionStateRequestHeader {
  return {
    tranStateTableOffset: reqLong(ext, 'tranStateTableOffset'),
    commitLogOffset: reqLong(ext, 'commitLogOffset'),
    msgId: optString(ext, 'msgId'),
    transactionId: optString(ext, 'transactionId'),
    offsetMsgId: optString(ext, 'offsetMsgId'),
  };
}

/** Encodes CHECK_TRANSACTION_STATE's request header. */
export function encodeCheckTransactionStateRequestHeader(
  h: CheckTransactionStateRequestHeader,
): ExtFields {
  return toExtFields({ ...h });
}
