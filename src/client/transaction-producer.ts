/**
 * `TransactionProducer`: sends transactional messages. {@link sendMessageInTransaction} stores a
 * half (prepared) message the broker keeps invisible, runs the local transaction, then tells the
 * broker to commit or roll back (END_TRANSACTION, one-way). When the verdict is unknown, or lost,
 * the broker asks again later with CHECK_TRANSACTION_STATE; the `checker` callback answers it.
 *
 * The producer group must stay the same across restarts: the broker asks any live producer of
 * the group about a half message.
 */
import { SYSFLAG_TRANSACTION_PREPARED } from '../common/codec/message-record.js';
import { createRequest, type RemotingCommand } from '../protocol/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import {
  TransactionType,
  decodeCheckTransactionStateRequestHeader,
  encodeEndTransactionRequestHeader,
  type EndTransactionRequestHeader,
} from '../protocol/headers/transaction.js';
import { UniqueIdGenerator, decodeOffsetMessageId } from '../protocol/message-id.js';
import type { TopicRouteData } from '../protocol/route-data.js';
import {
  asError,
  ClientInstance,
  type ClientMember,
  type ClientOptions,
} from './client-instance.js';
import { MQClientError } from './errors.js';
import type { Message, ReceivedMessage } from './message.js';
import { messageQueue } from './message-queue.js';
import { encodeMessage, type OutgoingLimits } from './outgoing.js';
import type { SendResult } from './producer.js';
import { TopicPublishInfo } from './queue-selector.js';
import { decodeMessages } from './received-message.js';
import { publishQueues } from './topic-route.js';

/** The outcome of a local transaction (or of a check). */
export type TransactionState = 'COMMIT' | 'ROLLBACK' | 'UNKNOWN';

/**
 * Runs the local transaction of a half message that the broker stored. Return (or resolve)
 * the verdict; a throw counts as UNKNOWN (the broker will check back).
 */
export type LocalTransactionExecutor = (
  msg: Message,
  half: SendResult,
) => TransactionState | Promise<TransactionState>;

/** Answers the broker's check of a half message whose verdict it does not know. */
export type TransactionChecker = (
  msg: ReceivedMessage,
) => TransactionState | Promise<TransactionState>;

/** Options of {@link TransactionProducer}. */
export interface TransactionProducerOptions extends ClientOptions {
  /** Producer group (the broker checks back with any live member). Required. */
  group: string;
  /** Answers the broker's check-backs. */
  checker: TransactionChecker;
  /** Timeout of the half-message send. Default 3000 ms. */
  sendTimeoutMs?: number;
  /** Largest body accepted. Default 4 MiB. */
  maxMessageSizeBytes?: number;
}

/** Result of {@link TransactionProducer.sendMessageInTransaction}. */
export interface TransactionSendResult extends SendResult {
  /** The local transaction's verdict, as sent to the broker. */
  state: TransactionState;
}

const VERDICT: Record<TransactionState, number> = {
  COMMIT: TransactionType.COMMIT,
  ROLLBACK: TransactionType.ROLLBACK,
  UNKNOWN: TransactionType.NOT_TYPE,
};

function normalizeState(value: unknown): TransactionState {
  return value === 'COMMIT' || value === 'ROLLBACK' ? value : 'UNKNOWN';
}

/** Sends transactional messages and answers check-backs. */
export class TransactionProducer implements ClientMember {
  /** Producer group. */
  readonly producerGroup: string;
  /** The shared client machinery. */
  readonly client: ClientInstance;
  private readonly checker: TransactionChecker;
  private readonly sendTimeoutMs: number;
  private readonly limits: OutgoingLimits;
  private readonly ids = new UniqueIdGenerator();
  private readonly publishInfo = new Map<string, TopicPublishInfo>();
  private state: 'created' | 'running' | 'stopped' = 'created';
  private heartbeatSent = false;

  constructor(options: TransactionProducerOptions) {
    if (!options.group) {
      throw new MQClientError('INVALID_ARGUMENT', 'TransactionProducer needs a producer group');
    }
    if (typeof options.checker !== 'function') {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        'TransactionProducer needs a checker(msg) that answers COMMIT, ROLLBACK or UNKNOWN',
      );
    }
    this.client = new ClientInstance(options);
    this.producerGroup = options.group;
    this.checker = options.checker;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 3000;
    this.limits = {
      maxBodyBytes: options.maxMessageSizeBytes ?? 4 * 1024 * 1024,
      compressOverBytes: Number.MAX_SAFE_INTEGER,
    };
  }

  /** Starts heartbeats and installs the check-back handler. */
  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'stopped') {
      throw new MQClientError('CLIENT_STATE', 'this producer was shut down; create a new one');
    }
    this.client.onServerRequest(RequestCode.CHECK_TRANSACTION_STATE, (request) =>
      this.onCheck(request),
    );
    this.client.register(this);
    this.client.start();
    this.state = 'running';
  }

  /** Stops timers, unregisters from brokers and closes connections. */
  async shutdown(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    this.client.unregister(this);
    await this.client.unregisterGroup({ producerGroup: this.producerGroup });
    this.client.close();
  }

  /** Topics with a cached route. */
  topics(): Iterable<string> {
    return this.publishInfo.keys();
  }

  /** Rebuilds the queue list of a topic whose route changed. */
  onRouteChanged(topic: string, route: TopicRouteData): void {
    if (this.publishInfo.has(topic)) {
      this.publishInfo.set(topic, new TopicPublishInfo(publishQueues(topic, route)));
    }
  }

  /**
   * Sends `msg` as a half message, runs `executor`, then commits or rolls back. UNKNOWN (or a
   * throwing executor) leaves the decision to the broker's check-back (the `checker`).
   * @throws MQClientError when the half message could not be stored (the executor did not run).
   */
  async sendMessageInTransaction(
    msg: Message,
    executor: LocalTransactionExecutor,
  ): Promise<TransactionSendResult> {
    if (this.state !== 'running') {
      throw new MQClientError(
        'CLIENT_STATE',
        'sendMessageInTransaction(): call start() first (or the producer was shut down)',
      );
    }
    if (msg.delayLevel || msg.deliverTimeMs !== undefined) {
      throw new MQClientError(
        'INVALID_ARGUMENT',
        'transactional messages cannot be delayed; drop delayLevel / deliverTimeMs',
      );
    }
    const encoded = encodeMessage(msg, this.ids.next(), this.limits, false);
    const properties =
      encoded.properties + `TRAN_MSG\u0001true\u0002PGROUP\u0001${this.producerGroup}\u0002`;
    const info = await this.publishInfoOf(encoded.topic);
    const mq = msg.shardingKey ? info.selectByKey(msg.shardingKey) : info.select(undefined);
    const addr = this.client.brokerAddr(mq.brokerName);
    if (!addr) {
      throw new MQClientError('NO_ROUTE', `broker '${mq.brokerName}' has no master address`);
    }
    if (!this.heartbeatSent) {
      // The broker must know this producer group before it can check back.
      await this.client.heartbeatAll();
      this.heartbeatSent = true;
    }
    const raw = await this.client.api.sendMessage(
      addr,
      {
        producerGroup: this.producerGroup,
        topic: encoded.topic,
        defaultTopic: 'TBW102',
        defaultTopicQueueNums: 4,
        queueId: mq.queueId,
        sysFlag: encoded.sysFlag | SYSFLAG_TRANSACTION_PREPARED,
        bornTimestamp: Date.now(),
        flag: encoded.flag,
        properties,
        reconsumeTimes: 0,
        unitMode: false,
      },
      encoded.body,
      this.sendTimeoutMs,
    );
    const half: SendResult = {
      msgId: encoded.uniqKey,
      offsetMsgId: raw.offsetMsgId,
      queue: messageQueue(encoded.topic, mq.brokerName, raw.queueId),
      queueOffset: raw.queueOffset,
      status: raw.status,
    };
    let state: TransactionState;
    try {
      state = normalizeState(await executor(msg, half));
    } catch (err) {
      this.client.reportError(
        new Error(
          `local transaction of ${half.msgId} threw (${asError(err).message}); the broker will check back`,
        ),
      );
      state = 'UNKNOWN';
    }
    const { commitLogOffset } = decodeOffsetMessageId(raw.offsetMsgId);
    await this.endTransaction(addr, {
      producerGroup: this.producerGroup,
      tranStateTableOffset: raw.queueOffset,
      commitLogOffset,
      commitOrRollback: VERDICT[state],
      fromTransactionCheck: false,
      msgId: encoded.uniqKey,
      transactionId: encoded.uniqKey,
    }).catch((err) => this.client.reportError(asError(err)));
    return { ...half, state };
  }

  private async endTransaction(addr: string, header: EndTransactionRequestHeader): Promise<void> {
    const request = createRequest(RequestCode.END_TRANSACTION, {
      extFields: encodeEndTransactionRequestHeader(header),
      oneway: true,
    });
    await this.client.api.transport.invokeOneway(addr, request);
  }

  /** CHECK_TRANSACTION_STATE from a broker: ask the checker, answer with END_TRANSACTION. */
  private async onCheck(request: RemotingCommand): Promise<void> {
    try {
      const header = decodeCheckTransactionStateRequestHeader(request.extFields);
      const [msg] = decodeMessages(request.body, undefined);
      if (!msg) throw new MQClientError('PROTOCOL_ERROR', 'check-back without a message body');
      let state: TransactionState;
      try {
        state = normalizeState(await this.checker(msg));
      } catch (err) {
        this.client.reportError(asError(err));
        state = 'UNKNOWN';
      }
      const addr = msg.storeHost;
      await this.endTransaction(addr, {
        producerGroup: this.producerGroup,
        tranStateTableOffset: header.tranStateTableOffset,
        commitLogOffset: header.commitLogOffset,
        commitOrRollback: VERDICT[state],
        fromTransactionCheck: true,
        msgId: header.msgId ?? msg.msgId,
        transactionId: header.transactionId ?? msg.msgId,
      });
    } catch (err) {
      this.client.reportError(asError(err));
    }
  }

  private async publishInfoOf(topic: string): Promise<TopicPublishInfo> {
    let info = this.publishInfo.get(topic);
    if (info && info.ok) return info;
    const route = await this.client.updateRoute(topic);
    info = new TopicPublishInfo(route ? publishQueues(topic, route) : []);
    if (!info.ok) {
      throw new MQClientError(
        'NO_ROUTE',
        `no writable queue for topic '${topic}': create it first and check the broker is registered`,
      );
    }
    this.publishInfo.set(topic, info);
    return info;
  }
}
