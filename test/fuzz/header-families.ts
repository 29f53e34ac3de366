/**
 * The header codecs the header fuzz targets cover, by family: each a decoder from extFields and
 * the encoders whose output it must decode back to the same value. A target picks a codec of its
 * family by the first input byte (see `targets.ts`); the seeds are built from the same table.
 */
import * as brokerReg from '../../src/protocol/headers/broker-registration.js';
import * as consumer from '../../src/protocol/headers/consumer.js';
import * as kv from '../../src/protocol/headers/kv-config.js';
import * as offsets from '../../src/protocol/headers/offsets.js';
import * as pull from '../../src/protocol/headers/pull-message.js';
import * as query from '../../src/protocol/headers/query.js';
import * as send from '../../src/protocol/headers/send-message.js';
import * as topic from '../../src/protocol/headers/topic.js';
import * as tx from '../../src/protocol/headers/transaction.js';
import type { ExtFields } from '../../src/protocol/headers/fields.js';

type Decode<T> = (ext: ExtFields) => T;
type Encode<T> = (h: T) => ExtFields;
/** A header decoder with its encoders (empty when the header has none). */
export interface HeaderCodec {
  name: string;
  decode: Decode<unknown>;
  encoders: Encode<unknown>[];
}

function codec<T>(name: string, decode: Decode<T>, ...encoders: Encode<T>[]): HeaderCodec {
  return { name, decode, encoders: encoders as Encode<unknown>[] };
}

/** The header families, each a list of codecs picked by the first input byte. */
export const HEADER_FAMILIES: Readonly<Record<string, readonly HeaderCodec[]>> = {
  send: [
    codec(
      'send-request',
      send.decodeSendMessageRequestHeader,
      send.encodeSendMessageRequestHeaderV1,
      send.encodeSendMessageRequestHeaderV2,
    ),
    codec(
      'send-response',
      send.decodeSendMessageResponseHeader,
      send.encodeSendMessageResponseHeader,
    ),
  ],
  pull: [
    codec('pull-request', pull.decodePullMessageRequestHeader, pull.encodePullMessageRequestHeader),
    codec(
      'pull-response',
      pull.decodePullMessageResponseHeader,
      pull.encodePullMessageResponseHeader,
    ),
  ],
  offsets: [
    codec(
      'query-consumer-offset',
      offsets.decodeQueryConsumerOffsetRequestHeader,
      offsets.encodeQueryConsumerOffsetRequestHeader,
    ),
    codec(
      'update-consumer-offset',
      offsets.decodeUpdateConsumerOffsetRequestHeader,
      offsets.encodeUpdateConsumerOffsetRequestHeader,
    ),
    codec('queue', offsets.decodeQueueRequestHeader, offsets.encodeQueueRequestHeader),
    codec(
      'search-offset',
      offsets.decodeSearchOffsetRequestHeader,
      offsets.encodeSearchOffsetRequestHeader,
    ),
    codec(
      'offset-response',
      offsets.decodeOffsetResponseHeader,
      offsets.encodeOffsetResponseHeader,
    ),
    codec(
      'earliest-storetime',
      offsets.decodeEarliestMsgStoretimeResponseHeader,
      offsets.encodeEarliestMsgStoretimeResponseHeader,
    ),
  ],
  consumer: [
    codec(
      'consumer-group',
      consumer.decodeConsumerGroupRequestHeader,
      consumer.encodeConsumerGroupRequestHeader,
    ),
    codec(
      'send-back',
      consumer.decodeConsumerSendMsgBackRequestHeader,
      consumer.encodeConsumerSendMsgBackRequestHeader,
    ),
    codec(
      'unregister-client',
      consumer.decodeUnregisterClientRequestHeader,
      consumer.encodeUnregisterClientRequestHeader,
    ),
    codec(
      'reset-offset',
      consumer.decodeResetOffsetRequestHeader,
      consumer.encodeResetOffsetRequestHeader,
    ),
    codec(
      'consume-stats',
      consumer.decodeGetConsumeStatsRequestHeader,
      consumer.encodeGetConsumeStatsRequestHeader,
    ),
  ],
  topic: [
    codec(
      'create-topic',
      topic.decodeCreateTopicRequestHeader,
      topic.encodeCreateTopicRequestHeader,
    ),
    codec(
      'delete-topic',
      topic.decodeDeleteTopicRequestHeader,
      topic.encodeDeleteTopicRequestHeader,
    ),
    codec(
      'route-info',
      topic.decodeGetRouteInfoRequestHeader,
      topic.encodeGetRouteInfoRequestHeader,
    ),
    codec(
      'end-transaction',
      tx.decodeEndTransactionRequestHeader,
      tx.encodeEndTransactionRequestHeader,
    ),
    codec(
      'check-transaction',
      tx.decodeCheckTransactionStateRequestHeader,
      tx.encodeCheckTransactionStateRequestHeader,
    ),
  ],
  query: [
    codec(
      'query-message',
      query.decodeQueryMessageRequestHeader,
      query.encodeQueryMessageRequestHeader,
    ),
    codec(
      'query-response',
      query.decodeQueryMessageResponseHeader,
      query.encodeQueryMessageResponseHeader,
    ),
    codec(
      'view-message',
      query.decodeViewMessageRequestHeader,
      query.encodeViewMessageRequestHeader,
    ),
  ],
  broker: [
    codec(
      'register-broker',
      brokerReg.decodeRegisterBrokerRequestHeader,
      brokerReg.encodeRegisterBrokerRequestHeader,
    ),
    codec(
      'register-response',
      brokerReg.decodeRegisterBrokerResponseHeader,
      brokerReg.encodeRegisterBrokerResponseHeader,
    ),
    codec(
      'unregister-broker',
      brokerReg.decodeUnregisterBrokerRequestHeader,
      brokerReg.encodeBrokerIdentityHeader,
    ),
    codec(
      'query-data-version',
      brokerReg.decodeQueryDataVersionRequestHeader,
      brokerReg.encodeBrokerIdentityHeader,
    ),
    codec(
      'data-version-response',
      brokerReg.decodeQueryDataVersionResponseHeader,
      brokerReg.encodeQueryDataVersionResponseHeader,
    ),
    codec('kv-key', kv.decodeKVConfigKeyHeader, kv.encodeKVConfigKeyHeader),
    codec('kv-put', kv.decodePutKVConfigRequestHeader, kv.encodePutKVConfigRequestHeader),
    codec('kv-get-response', kv.decodeGetKVConfigResponseHeader),
    codec('namespace', kv.decodeNamespaceRequestHeader),
  ],
};
