/**
 * `BrokerController`: one broker process. It opens the store, loads the config tables, serves
 * the remoting protocol, registers with the name servers and keeps everything persisted.
 *
 * Start order: bind the port (so that port 0 resolves to a real port for the store host) → open
 * the store → load tables → register handlers → register with the name servers → timers.
 * Stop order: stop the timers, answer held pulls, stop accepting and close connections, persist
 * the tables, unregister from the name servers, shut the store down.
 */
import path from 'node:path';
import { isIPv4 } from 'node:net';
import { createLogger, type Logger } from '../common/logger.js';
import { RemotingClient } from '../net/remoting-client.js';
import type { RemotingConnection } from '../net/connection.js';
import { parseAddress } from '../net/connection.js';
import { RemotingServer } from '../net/remoting-server.js';
import { OffsetMessageIdEncoder, ipToBytes } from '../protocol/message-id.js';
import { createRequest, type RemotingCommand } from '../protocol/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import { MessageStore } from '../store/message-store.js';
import { retainMallocMemory } from '../store/io/native.js';
import type { HostAddress, MessageStoreApi, StoreConfig } from '../store/types.js';
import { GroupAdminProcessor } from './group-admin-processor.js';
import { applyHeapSettings } from './heap-settings.js';
import { AdminProcessor } from './admin-processor.js';
import { parseDeleteWhen, resolvedStoreBackend, type BrokerConfig } from './broker-config.js';
import type { BrokerContext, BrokerTransport, RequestHandler } from './broker-context.js';
import { ClientManageProcessor } from './client-manage-processor.js';
import { ConfigFile } from './config-files.js';
import { ConsumerManageProcessor } from './consumer-manage-processor.js';
import { ConsumerManager } from './consumer-manager.js';
import { ConsumerOffsetManager } from './consumer-offset-manager.js';
import { NameServerRegistrar } from './namesrv-registrar.js';
import { ProducerManager } from './producer-manager.js';
import { PullMessageProcessor } from './pull-message-processor.js';
import { QueryMessageProcessor } from './query-message-processor.js';
import { RebalanceLockManager } from './rebalance-lock-manager.js';
import { SendBackProcessor } from './send-back-processor.js';
import { SendMessageProcessor } from './send-message-processor.js';
import { MessageSemantics } from './schedule/message-semantics.js';
import { parseDelayLevels } from './delay-levels.js';
import { SubscriptionGroupManager } from './subscription-group-manager.js';
import { TopicConfigManager } from './topic-config-manager.js';

type Conn = RemotingConnection;

/** How often idle client registrations are looked for. */
const CLIENT_SCAN_INTERVAL_MS = 10_000;

/** The store settings a broker config implies. */
export function storeConfigOf(config: BrokerConfig, storeHost: HostAddress): Partial<StoreConfig> {
  return {
    storePath: path.join(config.storePathRootDir, 'store'),
    backend: resolvedStoreBackend(config),
    commitLogSegmentSizeBytes: config.mappedFileSizeCommitLog,
    consumeQueueEntriesPerFile: config.mappedFileSizeConsumeQueueEntries,
    consumeQueueMaxOpenFiles: config.consumeQueueMaxOpenFiles,
    consumeQueueBufferBudgetBytes: config.consumeQueueBufferBudgetBytes,
    flushMode: config.flushDiskType === 'SYNC_FLUSH' ? 'sync' : 'async',
    flushIntervalMs: config.flushIntervalCommitLog,
    flushLeastPages: config.flushCommitLogLeastPages,
    flushThoroughIntervalMs: config.flushCommitLogThoroughInterval,
    syncFlushTimeoutMs: config.syncFlushTimeout,
    warmSegments: config.warmMappedFileEnable,
    maxMessageSizeBytes: config.maxMessageSize,
    fileReservedTimeMs: config.fileReservedTime * 3_600_000,
    deleteWhenHours: parseDeleteWhen(config.deleteWhen),
    diskMaxUsedSpaceRatio: config.diskMaxUsedSpaceRatio / 100,
    messageIndexEnable: config.messageIndexEnable,
    maxTransferCount: config.maxTransferCountOnMessageInMemory,
    maxTransferBytes: config.maxTransferBytesOnMessageInMemory,
    delayLevelsMs: parseDelayLevels(config.messageDelayLevel),
    storeHost,
  };
}

/** The record host of a peer address (`ip:port`); IPv4-mapped IPv6 becomes plain IPv4. */
export function hostAddressOf(address: string): HostAddress {
  const { host, port } = parseAddress(address);
  const ip = host.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : host;
  return { address: ipToBytes(ip), port };
}

/** A running broker. */
export class BrokerController {
  /** The configuration it runs with (listenPort as asked; see {@link address} for the real one). */
  readonly config: BrokerConfig;
  /** The message store. */
  readonly store: MessageStoreApi;
  readonly topicConfigManager: TopicConfigManager;
  readonly subscriptionGroupManager: SubscriptionGroupManager;
  readonly consumerOffsetManager: ConsumerOffsetManager;
  readonly consumerManager = new ConsumerManager<Conn>();
  readonly producerManager = new ProducerManager<Conn>();
  readonly lockManager = new RebalanceLockManager();
  /** Delay levels, timer messages, transactions, DLQ re-send, SQL92 checks. */
  readonly semantics: MessageSemantics<Conn>;
  /**
   * `host:port` of the dashboard / metrics HTTP server, set by whoever attaches one (the
   * broker itself serves only the remoting protocol); undefined when none runs.
   */
  httpAddress: string | undefined = undefined;

  private readonly server: RemotingServer;
  private readonly client = new RemotingClient();
  private readonly log: Logger;
  private readonly port: number;
  private readonly registrar: NameServerRegistrar;
  private readonly files: ConfigFile<unknown>[];
  private readonly offsetsFile: ConfigFile<unknown>;
  private readonly pull: PullMessageProcessor<Conn>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribeDispatch: () => void;
  private registerScheduled = false;
  private stopping: Promise<void> | undefined;

  private constructor(
    config: BrokerConfig,
    server: RemotingServer,
    port: number,
    store: MessageStoreApi,
    log: Logger,
  ) {
    this.config = config;
    this.server = server;
    this.port = port;
    this.store = store;
    this.log = log;
    this.topicConfigManager = new TopicConfigManager({
      defaultTopicQueueNums: config.defaultTopicQueueNums,
      autoCreateTopicEnable: config.autoCreateTopicEnable,
    });
    this.subscriptionGroupManager = new SubscriptionGroupManager(
      config.autoCreateSubscriptionGroup,
    );
    this.consumerOffsetManager = new ConsumerOffsetManager();

    const configDir = path.join(config.storePathRootDir, 'config');
    const topicsFile = new ConfigFile(configDir, 'topics.json', this.topicConfigManager, log);
    const groupsFile = new ConfigFile(
      configDir,
      'subscriptionGroup.json',
      this.subscriptionGroupManager,
      log,
    );
    this.offsetsFile = new ConfigFile(
      configDir,
      'consumerOffset.json',
      this.consumerOffsetManager,
      log,
    ) as ConfigFile<unknown>;
    this.files = [
      topicsFile as ConfigFile<unknown>,
      groupsFile as ConfigFile<unknown>,
      this.offsetsFile,
    ];
    for (const file of this.files) file.load();

    this.registrar = new NameServerRegistrar(
      this.client,
      {
        namesrvAddr: config.namesrvAddr,
        clusterName: config.brokerClusterName,
        brokerName: config.brokerName,
        brokerId: config.brokerId,
        brokerAddr: () => this.address,
        topicTable: () => this.topicConfigManager.encode(),
        dataVersion: () => this.topicConfigManager.dataVersion.toJSON(),
      },
      log,
    );

    const transport: BrokerTransport<Conn> = {
      send: (conn, command, bodySlices, onWritten) => {
        conn.send(command, bodySlices, onWritten ? () => onWritten() : undefined);
      },
      remoteAddress: (conn) => conn.remoteAddress,
      isOpen: (conn) => !conn.closed,
    };
    const bornHosts = new WeakMap<Conn, HostAddress>();
    const ctx: BrokerContext<Conn> = {
      config,
      store,
      topicConfigManager: this.topicConfigManager,
      subscriptionGroupManager: this.subscriptionGroupManager,
      consumerOffsetManager: this.consumerOffsetManager,
      consumerManager: this.consumerManager,
      producerManager: this.producerManager,
      lockManager: this.lockManager,
      transport,
      msgIdEncoder: new OffsetMessageIdEncoder(config.brokerIP1, port),
      brokerAddress: () => this.address,
      // The topic changes so far, incrementally (a full table per created topic is O(N²)).
      registerBrokerAll: () =>
        this.stopping ? Promise.resolve() : this.registrar.registerChanges(),
      topicsDurable: () => topicsFile.pending,
      bornHostOf: (conn) => {
        let host = bornHosts.get(conn);
        if (!host) {
          host = hostAddressOf(conn.remoteAddress);
          bornHosts.set(conn, host);
        }
        return host;
      },
    };

    this.pull = new PullMessageProcessor(ctx);
    this.semantics = new MessageSemantics(ctx, log);
    this.registerHandlers(ctx);

    this.topicConfigManager.onChange((topic, deleted) => {
      this.registrar.noteTopicChange(topic, deleted);
      this.scheduleRegister();
      // Durable before any send that created the topic is acknowledged (see topicsDurable).
      void topicsFile.persistCoalesced();
    });
    this.unsubscribeDispatch = store.onDispatched((m) =>
      this.pull.holdService.notifyMessageArriving(
        m.topic,
        m.queueId,
        m.queueOffset + 1,
        m.tagsCode,
      ),
    );
    server.on('close', (conn: Conn) => {
      this.pull.dropConnection(conn);
      this.consumerManager.doChannelCloseEvent(conn);
      this.producerManager.doChannelCloseEvent(conn);
    });
    this.consumerManager.onConsumerIdsChanged((group, channels) => {
      for (const conn of channels) {
        if (conn.closed) continue;
        this.server.invokeOneway(
          conn,
          createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, {
            extFields: { consumerGroup: group },
          }),
        );
      }
    });
  }

  /**
   * Starts a broker: binds `listenHost:listenPort` (0 picks a free port), opens the store under
   * `storePathRootDir/store`, loads `storePathRootDir/config/*.json` and registers with every
   * name server in `namesrvAddr` before resolving.
   */
  static async start(config: BrokerConfig): Promise<BrokerController> {
    const log = createLogger(`broker ${config.brokerName}`);
    if (retainMallocMemory(config.mallocRetainBytes)) {
      log.debug(`malloc keeps up to ${config.mallocRetainBytes} freed bytes in the process`);
    } else if (config.mallocRetainBytes > 0) {
      log.debug('mallocRetainBytes not applied: needs glibc and the native addon');
    }
    log.debug(`V8 flags: ${applyHeapSettings(config).join(' ')}`);
    const server = new RemotingServer({
      maxFrameBytes: config.maxFrameSizeBytes,
      idleTimeoutMs: config.channelExpiredTimeout,
      onError: (error) => log.debug(`request failed: ${(error as Error).message ?? String(error)}`),
    });
    const bound = await server.listen({ host: config.listenHost, port: config.listenPort });
    let store: MessageStoreApi;
    try {
      store = await MessageStore.open(
        storeConfigOf(config, { address: ipToBytes(config.brokerIP1), port: bound.port }),
      );
    } catch (error) {
      await server.close();
      throw error;
    }
    let broker: BrokerController;
    try {
      broker = new BrokerController(config, server, bound.port, store, log);
    } catch (error) {
      await server.close();
      await store.shutdown();
      throw error;
    }
    await broker.registrar.registerAll();
    broker.startTimers();
    log.info(
      `broker ${config.brokerName} serving at ${broker.address} (listening on ${bound.host}:${bound.port}), name servers: ${broker.registrar.nameServers.join(', ') || 'none'}`,
    );
    return broker;
  }

  /** `brokerIP1:port` as clients and name servers see it (the real port when 0 was asked). */
  get address(): string {
    return `${this.config.brokerIP1}:${this.port}`;
  }

  /** Open remoting connections (clients, admin tools). */
  get connectionCount(): number {
    return [...this.server.connections()].length;
  }

  /** Number of pulls currently parked by long polling. */
  get heldPullCount(): number {
    return this.pull.holdService.heldCount;
  }

  private registerHandlers(ctx: BrokerContext<Conn>): void {
    const send = new SendMessageProcessor(ctx);
    const clients = new ClientManageProcessor(ctx);
    const offsets = new ConsumerManageProcessor(ctx);
    const admin = new AdminProcessor(ctx);
    const groups = new GroupAdminProcessor(ctx);
    const query = new QueryMessageProcessor(ctx);
    const sendBack = new SendBackProcessor(ctx);
    const pull = this.pull;
    const table: [number, RequestHandler<Conn>][] = [
      [RequestCode.SEND_MESSAGE, (c, r) => send.sendMessage(c, r)],
      [RequestCode.SEND_MESSAGE_V2, (c, r) => send.sendMessage(c, r)],
      [RequestCode.SEND_BATCH_MESSAGE, (c, r) => send.sendBatch(c, r)],
      [RequestCode.PULL_MESSAGE, (c, r) => pull.pullMessage(c, r)],
      [
        RequestCode.HEART_BEAT,
        (c, r) => this.semantics.checkHeartbeat(r) ?? clients.heartBeat(c, r),
      ],
      [RequestCode.UNREGISTER_CLIENT, (c, r) => clients.unregisterClient(c, r)],
      [RequestCode.GET_CONSUMER_LIST_BY_GROUP, (c, r) => clients.getConsumerListByGroup(c, r)],
      [RequestCode.QUERY_CONSUMER_OFFSET, (c, r) => offsets.queryConsumerOffset(c, r)],
      [RequestCode.UPDATE_CONSUMER_OFFSET, (c, r) => offsets.updateConsumerOffset(c, r)],
      [RequestCode.GET_MAX_OFFSET, (c, r) => offsets.getMaxOffset(c, r)],
      [RequestCode.GET_MIN_OFFSET, (c, r) => offsets.getMinOffset(c, r)],
      [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, (c, r) => offsets.searchOffsetByTimestamp(c, r)],
      [RequestCode.GET_EARLIEST_MSG_STORETIME, (c, r) => offsets.getEarliestMsgStoretime(c, r)],
      [RequestCode.UPDATE_AND_CREATE_TOPIC, (c, r) => admin.updateAndCreateTopic(c, r)],
      [RequestCode.DELETE_TOPIC_IN_BROKER, (c, r) => admin.deleteTopic(c, r)],
      [RequestCode.GET_ALL_TOPIC_CONFIG, (c, r) => admin.getAllTopicConfig(c, r)],
      [RequestCode.GET_BROKER_RUNTIME_INFO, (c, r) => admin.getBrokerRuntimeInfo(c, r)],
      [RequestCode.LOCK_BATCH_MQ, (c, r) => admin.lockBatchMq(c, r)],
      [RequestCode.UNLOCK_BATCH_MQ, (c, r) => admin.unlockBatchMq(c, r)],
      [RequestCode.GET_CONSUMER_CONNECTION_LIST, (c, r) => admin.getConsumerConnectionList(c, r)],
      [RequestCode.GET_PRODUCER_CONNECTION_LIST, (c, r) => admin.getProducerConnectionList(c, r)],
      [RequestCode.GET_CONSUME_STATS, (c, r) => admin.getConsumeStats(c, r)],
      [RequestCode.GET_TOPIC_STATS_INFO, (c, r) => admin.getTopicStatsInfo(c, r)],
      [RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, (c, r) => admin.invokeBrokerToResetOffset(c, r)],
      [
        RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
        (c, r) => groups.getAllSubscriptionGroupConfig(c, r),
      ],
      [RequestCode.DELETE_SUBSCRIPTIONGROUP, (c, r) => groups.deleteSubscriptionGroup(c, r)],
      [RequestCode.QUERY_MESSAGE, (c, r) => query.queryMessage(c, r)],
      [RequestCode.VIEW_MESSAGE_BY_ID, (c, r) => query.viewMessageById(c, r)],
      [RequestCode.CONSUMER_SEND_MSG_BACK, (c, r) => sendBack.consumerSendMsgBack(c, r)],
      ...this.semantics.handlers(),
    ];
    for (const [code, handler] of table) {
      this.server.registerHandler(code, (request: RemotingCommand, conn: Conn) =>
        handler(conn, request),
      );
    }
  }

  private startTimers(): void {
    const c = this.config;
    this.semantics.start();
    const every = (ms: number, fn: () => void): void => {
      const timer = setInterval(fn, Math.max(ms, 10));
      timer.unref();
      this.timers.push(timer);
    };
    every(c.registerNameServerPeriod, () => {
      void (c.forceRegister ? this.registrar.registerAll() : this.registrar.refresh());
    });
    every(c.flushConsumerOffsetInterval, () => void this.persistAll());
    every(Math.min(CLIENT_SCAN_INTERVAL_MS, c.channelExpiredTimeout), () => {
      const now = Date.now();
      for (const client of this.consumerManager.scanNotActiveChannel(
        now,
        c.channelExpiredTimeout,
      )) {
        this.log.info(
          `consumer ${client.clientId} (${client.clientAddr}) silent too long, dropped`,
        );
      }
      this.producerManager.scanNotActiveChannel(now, c.channelExpiredTimeout);
    });
  }

  /**
   * Sends the topic changes to the name servers on the next tick (changes in one tick, and
   * those made while a registration is in flight, are merged into one incremental round).
   */
  private scheduleRegister(): void {
    if (this.registerScheduled || this.stopping) return;
    this.registerScheduled = true;
    setImmediate(() => {
      this.registerScheduled = false;
      if (!this.stopping) void this.registrar.registerChanges();
    });
  }

  /** Saves every config table that changed (off the event loop). */
  async persistAll(): Promise<void> {
    await Promise.all(this.files.map((file) => file.persistAsync()));
  }

  /** Registers with the name servers now (normally periodic and after topic changes). */
  registerBrokerAll(): Promise<void> {
    return this.registrar.registerAll();
  }

  /** Stops the broker; safe to call more than once. */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.unsubscribeDispatch();
    this.pull.shutdown();
    await this.server.close();
    await this.semantics.stop();
    await this.persistAll();
    await this.registrar.unregisterAll();
    this.client.close();
    await this.store.shutdown();
    this.log.info(`broker ${this.config.brokerName} at ${this.address} stopped`);
  }
}
