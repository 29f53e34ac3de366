/**
 * Typed remoting calls of the SDK's producers and consumers: one method per request code,
 * building the header, checking the response code and decoding the answer (the administrative
 * calls are in admin-api.ts). Plain RocketMQ remoting only, so every call also
 * works against an Apache RocketMQ 4.x/5.x broker and name server.
 */
import { createRequest, type RemotingCommand } from '../protocol/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import {
  decodeConsumerIdList,
  decodeLockBatchResponseBody,
  encodeHeartbeatData,
  encodeLockBatchRequestBody,
  type HeartbeatData,
  type LockBatchRequestBody,
} from '../protocol/client-bodies.js';
import { decodeTopicRouteData, type TopicRouteData } from '../protocol/route-data.js';
import {
  decodeSendMessageResponseHeader,
  encodeSendMessageRequestHeaderV2,
  type SendMessageRequestHeader,
} from '../protocol/headers/send-message.js';
import {
  decodePullMessageResponseHeader,
  encodePullMessageRequestHeader,
  type PullMessageRequestHeader,
} from '../protocol/headers/pull-message.js';
import {
  encodeConsumerSendMsgBackRequestHeader,
  type ConsumerSendMsgBackRequestHeader,
} from '../protocol/headers/consumer.js';
import { toExtFields, type ExtFields } from '../protocol/headers/fields.js';
import { MQClientError, responseError, wrapTransportError } from './errors.js';
import type { MessageQueue } from './message-queue.js';
import { messageQueue } from './message-queue.js';
import type { RemotingTransport } from './transport.js';

/** Send outcome as reported by the broker. */
export type SendStatus =
  'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

/** Decoded send answer. */
export interface RawSendResult {
  status: SendStatus;
  /** Offset message id(s), comma-joined for batches. */
  offsetMsgId: string;
  queueId: number;
  queueOffset: number;
}

/** Pull outcome. */
export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'NO_MATCHED_MSG' | 'OFFSET_ILLEGAL';

/** Decoded pull answer. */
export interface RawPullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
  /** Concatenated message records when `status` is FOUND. */
  body: Buffer | undefined;
}

const SEND_STATUS: Record<number, SendStatus> = {
  [ResponseCode.SUCCESS]: 'SEND_OK',
  [ResponseCode.FLUSH_DISK_TIMEOUT]: 'FLUSH_DISK_TIMEOUT',
  [ResponseCode.FLUSH_SLAVE_TIMEOUT]: 'FLUSH_SLAVE_TIMEOUT',
  [ResponseCode.SLAVE_NOT_AVAILABLE]: 'SLAVE_NOT_AVAILABLE',
};

const PULL_STATUS: Record<number, PullStatus> = {
  [ResponseCode.SUCCESS]: 'FOUND',
  [ResponseCode.PULL_NOT_FOUND]: 'NO_NEW_MSG',
  [ResponseCode.PULL_RETRY_IMMEDIATELY]: 'NO_MATCHED_MSG',
  [ResponseCode.PULL_OFFSET_MOVED]: 'OFFSET_ILLEGAL',
};

function num(ext: ExtFields, name: string, what: string): number {
  const v = ext[name];
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isSafeInteger(n)) {
    throw new MQClientError(
      'PROTOCOL_ERROR',
      `${what}: response field '${name}' is ${v === undefined ? 'missing' : `'${v}', not a safe integer`}`,
    );
  }
  return n;
}

/** The remoting calls of the SDK over a {@link RemotingTransport}. */
export class ClientApi {
  constructor(
    /** The connection pool used for every call. */
    readonly transport: RemotingTransport,
  ) {}

  /** Sends a request and returns the response, wrapping transport failures. */
  async call(
    addr: string,
    code: number,
    extFields: ExtFields,
    timeoutMs: number,
    operation: string,
    body?: Buffer,
  ): Promise<RemotingCommand> {
    const request = createRequest(code, { extFields, body });
    try {
      return await this.transport.invoke(addr, request, timeoutMs);
    } catch (err) {
      throw wrapTransportError(operation, addr, err);
    }
  }

  /** Like {@link call} but requires response code 0. */
  async callOk(
    addr: string,
    code: number,
    extFields: ExtFields,
    timeoutMs: number,
    operation: string,
    body?: Buffer,
  ): Promise<RemotingCommand> {
    const response = await this.call(addr, code, extFields, timeoutMs, operation, body);
    if (response.code !== ResponseCode.SUCCESS) {
      throw responseError(operation, addr, response.code, response.remark);
    }
    return response;
  }

  /** Route of `topic`, or `undefined` when the name server does not know it. */
  async getTopicRoute(
    nsAddr: string,
    topic: string,
    timeoutMs: number,
  ): Promise<TopicRouteData | undefined> {
    const op = `route lookup of topic '${topic}'`;
    const response = await this.call(
      nsAddr,
      RequestCode.GET_ROUTEINFO_BY_TOPIC,
      { topic },
      timeoutMs,
      op,
    );
    if (response.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (response.code !== ResponseCode.SUCCESS)
      throw responseError(op, nsAddr, response.code, response.remark);
    if (!response.body || response.body.length === 0) return undefined;
    return decodeTopicRouteData(response.body);
  }

  /** SEND_MESSAGE_V2 (or SEND_BATCH_MESSAGE with `batch`). */
  sendMessage(
    addr: string,
    header: SendMessageRequestHeader,
    body: Buffer,
    timeoutMs: number,
  ): Promise<RawSendResult> {
    // Hot path of every send: one promise chain, no async frames, no per-call strings.
    const code = header.batch ? RequestCode.SEND_BATCH_MESSAGE : RequestCode.SEND_MESSAGE_V2;
    const request = createRequest(code, {
      extFields: encodeSendMessageRequestHeaderV2(header),
      body,
    });
    let answer: Promise<RemotingCommand>;
    try {
      answer = this.transport.invoke(addr, request, timeoutMs);
    } catch (err) {
      return Promise.reject(wrapTransportError(`send to topic '${header.topic}'`, addr, err));
    }
    return answer.then(
      (response) => {
        const status = SEND_STATUS[response.code];
        if (status === undefined) {
          throw responseError(
            `send to topic '${header.topic}'`,
            addr,
            response.code,
            response.remark,
          );
        }
        const h = decodeSendMessageResponseHeader(response.extFields);
        // Field by field, not a literal: see createRequest() in protocol/remoting-command.ts.
        const result = {} as RawSendResult;
        result.status = status;
        result.offsetMsgId = h.msgId;
        result.queueId = h.queueId;
        result.queueOffset = h.queueOffset;
        return result;
      },
      (err: unknown) => {
        throw wrapTransportError(`send to topic '${header.topic}'`, addr, err);
      },
    );
  }

  /** SEND_MESSAGE_V2 without waiting for the answer. */
  async sendMessageOneway(
    addr: string,
    header: SendMessageRequestHeader,
    body: Buffer,
  ): Promise<void> {
    const request = createRequest(RequestCode.SEND_MESSAGE_V2, {
      extFields: encodeSendMessageRequestHeaderV2(header),
      body,
      oneway: true,
    });
    try {
      await this.transport.invokeOneway(addr, request);
    } catch (err) {
      throw wrapTransportError(`one-way send to topic '${header.topic}'`, addr, err);
    }
  }

  /** PULL_MESSAGE. */
  async pullMessage(
    addr: string,
    header: PullMessageRequestHeader,
    timeoutMs: number,
  ): Promise<RawPullResult> {
    const op = `pull from ${header.topic}:${header.queueId}`;
    const response = await this.call(
      addr,
      RequestCode.PULL_MESSAGE,
      encodePullMessageRequestHeader(header),
      timeoutMs,
      op,
    );
    const status = PULL_STATUS[response.code];
    if (status === undefined) throw responseError(op, addr, response.code, response.remark);
    const ext = response.extFields;
    if (status !== 'FOUND') {
      return {
        status,
        nextBeginOffset: num(ext, 'nextBeginOffset', op),
        minOffset: Number(ext.minOffset ?? 0),
        maxOffset: Number(ext.maxOffset ?? 0),
        suggestWhichBrokerId: Number(ext.suggestWhichBrokerId ?? 0),
        body: undefined,
      };
    }
    const h = decodePullMessageResponseHeader(ext);
    return { status, ...h, body: response.body };
  }

  /** HEART_BEAT. */
  async heartbeat(addr: string, data: HeartbeatData, timeoutMs: number): Promise<void> {
    await this.callOk(
      addr,
      RequestCode.HEART_BEAT,
      {},
      timeoutMs,
      'heartbeat',
      encodeHeartbeatData(data),
    );
  }

  /** UNREGISTER_CLIENT for one producer or consumer group. */
  async unregisterClient(
    addr: string,
    clientID: string,
    group: { producerGroup?: string; consumerGroup?: string },
    timeoutMs: number,
  ): Promise<void> {
    await this.callOk(
      addr,
      RequestCode.UNREGISTER_CLIENT,
      toExtFields({ clientID, ...group }),
      timeoutMs,
      'unregister client',
    );
  }

  /** GET_CONSUMER_LIST_BY_GROUP: client ids of the group's live consumers. */
  async getConsumerIdList(
    addr: string,
    consumerGroup: string,
    timeoutMs: number,
  ): Promise<string[]> {
    const op = `consumer list of group '${consumerGroup}'`;
    const response = await this.call(
      addr,
      RequestCode.GET_CONSUMER_LIST_BY_GROUP,
      { consumerGroup },
      timeoutMs,
      op,
    );
    if (response.code === ResponseCode.SYSTEM_ERROR && !response.body) return [];
    if (response.code !== ResponseCode.SUCCESS)
      throw responseError(op, addr, response.code, response.remark);
    return response.body && response.body.length > 0 ? decodeConsumerIdList(response.body) : [];
  }

  /** QUERY_CONSUMER_OFFSET; −1 when the broker has no offset for the group. */
  async queryConsumerOffset(
    addr: string,
    consumerGroup: string,
    mq: MessageQueue,
    timeoutMs: number,
  ): Promise<number> {
    const op = `offset query of group '${consumerGroup}' on ${mq.topic}:${mq.queueId}`;
    const ext = toExtFields({ topic: mq.topic, consumerGroup, queueId: mq.queueId });
    const response = await this.call(addr, RequestCode.QUERY_CONSUMER_OFFSET, ext, timeoutMs, op);
    if (response.code === ResponseCode.QUERY_NOT_FOUND) return -1;
    if (response.code !== ResponseCode.SUCCESS)
      throw responseError(op, addr, response.code, response.remark);
    return num(response.extFields, 'offset', op);
  }

  /** UPDATE_CONSUMER_OFFSET (waits for the answer). */
  async updateConsumerOffset(
    addr: string,
    consumerGroup: string,
    mq: MessageQueue,
    commitOffset: number,
    timeoutMs: number,
  ): Promise<void> {
    const ext = toExtFields({ topic: mq.topic, consumerGroup, queueId: mq.queueId, commitOffset });
    await this.callOk(
      addr,
      RequestCode.UPDATE_CONSUMER_OFFSET,
      ext,
      timeoutMs,
      `offset update of group '${consumerGroup}'`,
    );
  }

  /** GET_MAX_OFFSET: the next queue offset to be written. */
  async getMaxOffset(addr: string, mq: MessageQueue, timeoutMs: number): Promise<number> {
    const op = `max offset of ${mq.topic}:${mq.queueId}`;
    const r = await this.callOk(
      addr,
      RequestCode.GET_MAX_OFFSET,
      toExtFields({ topic: mq.topic, queueId: mq.queueId }),
      timeoutMs,
      op,
    );
    return num(r.extFields, 'offset', op);
  }

  /** GET_MIN_OFFSET: the oldest queue offset still stored. */
  async getMinOffset(addr: string, mq: MessageQueue, timeoutMs: number): Promise<number> {
    const op = `min offset of ${mq.topic}:${mq.queueId}`;
    const r = await this.callOk(
      addr,
      RequestCode.GET_MIN_OFFSET,
      toExtFields({ topic: mq.topic, queueId: mq.queueId }),
      timeoutMs,
      op,
    );
    return num(r.extFields, 'offset', op);
  }

  /** SEARCH_OFFSET_BY_TIMESTAMP: first queue offset stored at or after `timestampMs`. */
  async searchOffset(
    addr: string,
    mq: MessageQueue,
    timestampMs: number,
    timeoutMs: number,
  ): Promise<number> {
    const op = `offset search by time on ${mq.topic}:${mq.queueId}`;
    const ext = toExtFields({ topic: mq.topic, queueId: mq.queueId, timestamp: timestampMs });
    const r = await this.callOk(addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, ext, timeoutMs, op);
    return num(r.extFields, 'offset', op);
  }

  /** CONSUMER_SEND_MSG_BACK: ask the broker to redeliver a message later. */
  async sendMessageBack(
    addr: string,
    header: ConsumerSendMsgBackRequestHeader,
    timeoutMs: number,
  ): Promise<void> {
    await this.callOk(
      addr,
      RequestCode.CONSUMER_SEND_MSG_BACK,
      encodeConsumerSendMsgBackRequestHeader(header),
      timeoutMs,
      `send-back of message ${header.originMsgId ?? header.offset}`,
    );
  }

  /** LOCK_BATCH_MQ: the queues now locked by this client. */
  async lockBatch(
    addr: string,
    body: LockBatchRequestBody,
    timeoutMs: number,
  ): Promise<MessageQueue[]> {
    const r = await this.callOk(
      addr,
      RequestCode.LOCK_BATCH_MQ,
      {},
      timeoutMs,
      'queue lock',
      encodeLockBatchRequestBody(body),
    );
    return decodeLockBatchResponseBody(r.body).map((q) =>
      messageQueue(q.topic, q.brokerName, q.queueId),
    );
  }

  /** UNLOCK_BATCH_MQ. */
  async unlockBatch(addr: string, body: LockBatchRequestBody, timeoutMs: number): Promise<void> {
    await this.callOk(
      addr,
      RequestCode.UNLOCK_BATCH_MQ,
      {},
      timeoutMs,
      'queue unlock',
      encodeLockBatchRequestBody(body),
    );
  }
}
