/**
 * `NameServer`: brokers register their topics here every 30 s; clients ask it for topic routes.
 * Serves REGISTER/UNREGISTER_BROKER, GET_ROUTEINFO_BY_TOPIC, GET_BROKER_CLUSTER_INFO, topic
 * lists, KV config and QUERY_DATA_VERSION over the remoting protocol, and drops brokers that
 * went silent.
 */
import { crc32, inflateSync } from 'node:zlib';
import { SluiceError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { RemotingServer, type RemotingServerOptions } from '../net/remoting-server.js';
import type { RemotingConnection } from '../net/connection.js';
import { createResponse, type RemotingCommand } from '../protocol/remoting-command.js';
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import {
  decodeQueryDataVersionRequestHeader,
  decodeRegisterBrokerRequestHeader,
  decodeUnregisterBrokerRequestHeader,
  encodeQueryDataVersionResponseHeader,
  encodeRegisterBrokerResponseHeader,
} from '../protocol/headers/broker-registration.js';
import {
  decodeDeleteTopicRequestHeader,
  decodeGetRouteInfoRequestHeader,
} from '../protocol/headers/topic.js';
import {
  decodeKVConfigKeyHeader,
  decodeNamespaceRequestHeader,
  decodePutKVConfigRequestHeader,
} from '../protocol/headers/kv-config.js';
import { reqString } from '../protocol/headers/fields.js';
import {
  decodeDataVersion,
  decodeRegisterBrokerBody,
  encodeClusterInfo,
  encodeKVTable,
  encodeTopicList,
  encodeTopicRouteData,
} from '../protocol/route-data.js';
import { stringifyCompat } from '../protocol/json-compat.js';
import { KVConfigManager, ORDER_TOPIC_CONFIG_NAMESPACE } from './kv-config-manager.js';
import { RouteInfoManager } from './route-info-manager.js';

const log = createLogger('namesrv');

/** Options of {@link NameServer}. */
export interface NameServerOptions {
  /** KV config file (JSON, written atomically); omit to keep KV config in memory. */
  kvConfigPath?: string;
  /** Drop a broker silent for this long. Default 120 000 ms. */
  brokerExpiryMs?: number;
  /** How often to look for silent brokers. Default 5000 ms. */
  scanIntervalMs?: number;
  /**
   * Answer an unknown topic with code 0 and no body instead of TOPIC_NOT_EXIST (17). ali-ons then
   * falls back to the TBW102 route so the broker can auto-create the topic. Default false.
   */
  emptyRouteForUnknownTopic?: boolean;
  /** Write routes fastjson-style (unquoted integer keys). Default false: standard JSON. */
  fastjsonRoutes?: boolean;
  /** Connection tuning passed to the remoting server. */
  server?: RemotingServerOptions;
}

/** A standalone name server. */
export class NameServer {
  /** The route table (exposed for embedding and tests). */
  readonly routes: RouteInfoManager;
  /** The KV config store. */
  readonly kvConfig: KVConfigManager;
  private readonly options: NameServerOptions;
  private readonly server: RemotingServer;
  private scanTimer: NodeJS.Timeout | undefined;
  private boundPort = 0;
  private boundHost = '';

  constructor(options: NameServerOptions = {}) {
    this.options = options;
    this.routes = new RouteInfoManager(options.brokerExpiryMs ?? 120_000);
    this.kvConfig = new KVConfigManager(options.kvConfigPath);
    this.server = new RemotingServer({
      onError: (err) => log.warn(`request failed: ${String(err)}`),
      ...options.server,
    });
    this.registerHandlers();
    this.server.on('close', (conn: RemotingConnection) => {
      for (const r of this.routes.onConnectionClosed(conn.id)) {
        log.info(`broker ${r.brokerName} at ${r.brokerAddr} disconnected; removed from routes`);
      }
    });
  }

  /** Port the server listens on (after {@link start}). */
  get port(): number {
    return this.boundPort;
  }

  /** `host:port` the server listens on (after {@link start}). */
  get address(): string {
    return `${this.boundHost}:${this.boundPort}`;
  }

  /** Loads the KV config, starts listening and starts the liveness scan. */
  async start(listen: { host?: string; port: number }): Promise<void> {
    this.kvConfig.load();
    const { host, port } = await this.server.listen(listen);
    this.boundHost = host;
    this.boundPort = port;
    this.scanTimer = setInterval(() => this.scan(), this.options.scanIntervalMs ?? 5000);
    this.scanTimer.unref();
  }

  /** Stops the scan and the server (closing every connection). */
  async stop(): Promise<void> {
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = undefined;
    await this.server.close();
  }

  /** Runs one liveness scan now (also called by the timer). */
  scan(nowMs: number = Date.now()): void {
    for (const r of this.routes.scanNotActiveBroker(nowMs)) {
      log.warn(`broker ${r.brokerName} at ${r.brokerAddr} expired (no registration); removed`);
    }
  }

  private registerHandlers(): void {
    const s = this.server;
    s.registerHandler(RequestCode.REGISTER_BROKER, (req, conn) => this.registerBroker(req, conn));
    s.registerHandler(RequestCode.UNREGISTER_BROKER, (req) => {
      const h = decodeUnregisterBrokerRequestHeader(req.extFields);
      this.routes.unregisterBroker(h);
      log.info(`broker ${h.brokerName} at ${h.brokerAddr} unregistered`);
      return createResponse(req, ResponseCode.SUCCESS);
    });
    s.registerHandler(RequestCode.GET_ROUTEINFO_BY_TOPIC, (req) => this.getRoute(req));
    s.registerHandler(RequestCode.GET_BROKER_CLUSTER_INFO, (req) =>
      createResponse(
        req,
        ResponseCode.SUCCESS,
        undefined,
        {},
        encodeClusterInfo(this.routes.getClusterInfo(), { fastjson: this.options.fastjsonRoutes }),
      ),
    );
    s.registerHandler(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, (req) =>
      createResponse(
        req,
        ResponseCode.SUCCESS,
        undefined,
        {},
        encodeTopicList({ topicList: this.routes.getAllTopicList() }),
      ),
    );
    s.registerHandler(RequestCode.GET_TOPICS_BY_CLUSTER, (req) => {
      const cluster = reqString(req.extFields, 'cluster');
      const topicList = this.routes.getTopicsByCluster(cluster);
      return createResponse(
        req,
        ResponseCode.SUCCESS,
        undefined,
        {},
        encodeTopicList({ topicList }),
      );
    });
    s.registerHandler(RequestCode.DELETE_TOPIC_IN_NAMESRV, (req) => {
      const h = decodeDeleteTopicRequestHeader(req.extFields);
      this.routes.deleteTopic(h.topic, h.clusterName);
      return createResponse(req, ResponseCode.SUCCESS);
    });
    s.registerHandler(RequestCode.QUERY_DATA_VERSION, (req) => {
      const h = decodeQueryDataVersionRequestHeader(req.extFields);
      const version = decodeDataVersion(req.body ?? '{}');
      const { changed, stored } = this.routes.queryDataVersion(h.brokerAddr, version, Date.now());
      return createResponse(
        req,
        ResponseCode.SUCCESS,
        undefined,
        encodeQueryDataVersionResponseHeader({ changed }),
        stored ? Buffer.from(stringifyCompat(stored)) : undefined,
      );
    });
    s.registerHandler(RequestCode.PUT_KV_CONFIG, async (req) => {
      const h = decodePutKVConfigRequestHeader(req.extFields);
      await this.kvConfig.put(h.namespace, h.key, h.value);
      return createResponse(req, ResponseCode.SUCCESS);
    });
    s.registerHandler(RequestCode.GET_KV_CONFIG, (req) => {
      const h = decodeKVConfigKeyHeader(req.extFields);
      const value = this.kvConfig.get(h.namespace, h.key);
      if (value === undefined) {
        return createResponse(
          req,
          ResponseCode.QUERY_NOT_FOUND,
          `No config item, Namespace: ${h.namespace} Key: ${h.key}`,
        );
      }
      return createResponse(req, ResponseCode.SUCCESS, undefined, { value });
    });
    s.registerHandler(RequestCode.DELETE_KV_CONFIG, async (req) => {
      const h = decodeKVConfigKeyHeader(req.extFields);
      await this.kvConfig.delete(h.namespace, h.key);
      return createResponse(req, ResponseCode.SUCCESS);
    });
    s.registerHandler(RequestCode.GET_KVLIST_BY_NAMESPACE, (req) => {
      const h = decodeNamespaceRequestHeader(req.extFields);
      const table = this.kvConfig.list(h.namespace);
      if (Object.keys(table).length === 0) {
        return createResponse(
          req,
          ResponseCode.QUERY_NOT_FOUND,
          `No config item, Namespace: ${h.namespace}`,
        );
      }
      return createResponse(req, ResponseCode.SUCCESS, undefined, {}, encodeKVTable(table));
    });
  }

  private registerBroker(req: RemotingCommand, conn: RemotingConnection): RemotingCommand {
    const h = decodeRegisterBrokerRequestHeader(req.extFields);
    let raw = req.body;
    if (raw && h.bodyCrc32 !== 0) {
      const actual = (crc32(raw) & 0x7fffffff) | 0;
      if (actual !== (h.bodyCrc32 & 0x7fffffff)) {
        return createResponse(
          req,
          ResponseCode.SYSTEM_ERROR,
          `register broker body CRC mismatch (header ${h.bodyCrc32}, body ${actual}); the body was corrupted in transit`,
        );
      }
    }
    if (raw && h.compressed) {
      try {
        raw = inflateSync(raw);
      } catch (err) {
        throw new SluiceError(
          'PROTOCOL_ERROR',
          'register broker body is marked compressed but does not inflate',
          {
            cause: err,
          },
        );
      }
    }
    const body = decodeRegisterBrokerBody(raw);
    const known = this.routes.liveBrokerCount;
    const result = this.routes.registerBroker(h, body, Date.now(), conn.id);
    if (this.routes.liveBrokerCount > known) {
      log.info(`broker ${h.brokerName} (id ${h.brokerId}) registered from ${h.brokerAddr}`);
    }
    return createResponse(
      req,
      ResponseCode.SUCCESS,
      undefined,
      encodeRegisterBrokerResponseHeader(result),
      encodeKVTable(this.kvConfig.list(ORDER_TOPIC_CONFIG_NAMESPACE)),
    );
  }

  private getRoute(req: RemotingCommand): RemotingCommand {
    const h = decodeGetRouteInfoRequestHeader(req.extFields);
    const order = this.kvConfig.get(ORDER_TOPIC_CONFIG_NAMESPACE, h.topic);
    const route = this.routes.pickupTopicRouteData(h.topic, order);
    if (!route) {
      if (this.options.emptyRouteForUnknownTopic) return createResponse(req, ResponseCode.SUCCESS);
      return createResponse(
        req,
        ResponseCode.TOPIC_NOT_EXIST,
        `No topic route info in name server for the topic: ${h.topic}; create the topic on a broker first (UPDATE_AND_CREATE_TOPIC)`,
      );
    }
    const fastjson = this.options.fastjsonRoutes && h.acceptStandardJsonOnly !== true;
    return createResponse(
      req,
      ResponseCode.SUCCESS,
      undefined,
      {},
      encodeTopicRouteData(route, { fastjson }),
    );
  }
}
