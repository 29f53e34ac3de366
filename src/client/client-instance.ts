/**
 * The shared machinery behind every Producer, consumer and Admin: the connection pool, name
 * server access with fail-over, the route cache (refreshed every 30 s and on demand), the broker
 * address table, heartbeats to brokers (every 30 s) and server→client requests.
 */
import { RemotingClient } from '../net/remoting-client.js';
import type { ConsumerData, HeartbeatData } from '../protocol/client-bodies.js';
import { SerializeType } from '../protocol/frame-codec.js';
import { localIPv4 } from '../protocol/message-id.js';
import { createResponse, type RemotingCommand } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import { MASTER_BROKER_ID, type TopicRouteData } from '../protocol/route-data.js';
import { ClientApi } from './client-api.js';
import { MQClientError } from './errors.js';
import type { RemotingTransport, ServerRequestHandler } from './transport.js';

/** Route lookups a periodic refresh keeps in flight. */
export const ROUTE_REFRESH_IN_FLIGHT = 16;
/** Failures in a row (no success in between) after which a refresh round gives up. */
export const ROUTE_REFRESH_MAX_FAILURES_IN_A_ROW = 64;

/** Options shared by Producer, PushConsumer, SimpleConsumer and Admin. */
export interface ClientOptions {
  /** Name server address(es): `"host:port"`, `"a:9876;b:9876"` or an array. */
  nameServer: string | readonly string[];
  /** Distinguishes several clients in one process (part of the client id). */
  instanceName?: string;
  /** IP reported in the client id. Default: first non-internal IPv4. */
  clientIp?: string;
  /** Timeout of control requests (routes, heartbeats, offsets). Default 3000 ms. */
  requestTimeoutMs?: number;
  /** Route refresh period. Default 30 000 ms. */
  pollNameServerIntervalMs?: number;
  /** Heartbeat period. Default 30 000 ms. */
  heartbeatIntervalMs?: number;
  /** Receives background errors (route refresh, heartbeats, pulls). Default: `console.warn`. */
  onError?: (err: Error) => void;
  /** Connection pool to use instead of a new `RemotingClient` (tests, sharing). */
  transport?: RemotingTransport;
  /**
   * Header encoding of requests: `'ROCKETMQ'` (RocketMQ's binary header, the default: cheaper
   * to write and to parse on both ends) or `'JSON'` (what the Java client sends by default).
   * Brokers and name servers answer in the encoding of the request.
   */
  serializeType?: 'ROCKETMQ' | 'JSON';
}

/** Something that takes part in heartbeats and route refreshes. */
export interface ClientMember {
  /** Producer group, for producers. */
  readonly producerGroup?: string;
  /** Consumer data for heartbeats, for consumers. */
  consumerData?(): ConsumerData;
  /** Topics whose routes this member needs refreshed. */
  topics(): Iterable<string>;
  /** Called after a topic's route was fetched and changed. */
  onRouteChanged?(topic: string, route: TopicRouteData): void;
}

let instanceCounter = 0;

/** Parses the `nameServer` option into a list of addresses. */
export function parseNameServers(value: string | readonly string[]): string[] {
  const list = (typeof value === 'string' ? value.split(/[;,]/) : [...value])
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0) {
    throw new MQClientError(
      'INVALID_ARGUMENT',
      'no name server address given; pass nameServer: "host:9876"',
    );
  }
  return list;
}

/** One client identity: connections, routes, heartbeats. */
export class ClientInstance {
  /** `ip@pid#n[#instanceName]`: unique per instance, so two consumers in one process both count. */
  readonly clientId: string;
  /** Typed remoting calls. */
  readonly api: ClientApi;
  /** Control request timeout (ms). */
  readonly requestTimeoutMs: number;
  private readonly nameServers: string[];
  private nameServerIndex = 0;
  private readonly routes = new Map<string, TopicRouteData>();
  private readonly routeJson = new Map<string, string>();
  private readonly brokerAddrs = new Map<string, Record<string, string>>();
  private readonly members = new Set<ClientMember>();
  private readonly transport: RemotingTransport;
  private readonly ownsTransport: boolean;
  private readonly onErrorOption: ((err: Error) => void) | undefined;
  private readonly pollIntervalMs: number;
  private readonly heartbeatIntervalMs: number;
  private timers: NodeJS.Timeout[] = [];
  private routeUpdates = new Map<string, Promise<TopicRouteData | undefined>>();
  /** The periodic route refresh under way, if any. */
  private refreshing: Promise<void> | undefined;
  private started = false;
  private closed = false;

  constructor(options: ClientOptions) {
    this.nameServers = parseNameServers(options.nameServer);
    this.nameServerIndex = Math.floor(Math.random() * this.nameServers.length);
    const ip = options.clientIp ?? localIPv4();
    const n = ++instanceCounter;
    this.clientId = `${ip}@${process.pid}#${n}${options.instanceName ? `#${options.instanceName}` : ''}`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 3000;
    this.pollIntervalMs = options.pollNameServerIntervalMs ?? 30_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 30_000;
    this.onErrorOption = options.onError;
    this.ownsTransport = options.transport === undefined;
    this.transport =
      options.transport ??
      new RemotingClient({
        onError: (err) => this.reportError(asError(err)),
        serializeType:
          options.serializeType === 'JSON' ? SerializeType.JSON : SerializeType.ROCKETMQ,
      });
    this.api = new ClientApi(this.transport);
  }

  /** Reports a background error to `onError` (or `console.warn`). */
  reportError(err: Error): void {
    if (this.onErrorOption) {
      try {
        this.onErrorOption(err);
      } catch {
        // a failing error listener must not break the client
      }
    } else {
      console.warn(`[sluice-client ${this.clientId}] ${err.message}`);
    }
  }

  /** Adds a member (producer or consumer) to heartbeats and route refreshes. */
  register(member: ClientMember): void {
    this.members.add(member);
  }

  /** Removes a member. */
  unregister(member: ClientMember): void {
    this.members.delete(member);
  }

  /** Installs the handler of a server→client request code. */
  onServerRequest(code: number, handler: ServerRequestHandler): void {
    this.transport.registerHandler(code, handler);
  }

  /** Starts the route-refresh and heartbeat timers. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.timers.push(
      setInterval(() => void this.refreshAllRoutes(), this.pollIntervalMs).unref(),
      setInterval(() => void this.heartbeatAll(), this.heartbeatIntervalMs).unref(),
    );
  }

  /** True after {@link close}. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws `CLIENT_STATE` when closed. */
  assertOpen(what: string): void {
    if (this.closed) {
      throw new MQClientError(
        'CLIENT_STATE',
        `${what}: the client was shut down; create a new one`,
      );
    }
  }

  /** Stops timers and closes connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.ownsTransport) this.transport.close();
  }

  /**
   * Runs `fn` against the name servers, starting with the next one in rotation and moving on
   * when one fails; rethrows the last failure.
   */
  async withNameServer<T>(fn: (addr: string) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let i = 0; i < this.nameServers.length; i++) {
      const addr = this.nameServers[this.nameServerIndex % this.nameServers.length]!;
      try {
        return await fn(addr);
      } catch (err) {
        lastError = err;
        // Only network failures move on to another name server; answers are authoritative.
        if (err instanceof MQClientError && err.code === 'BROKER_ERROR') throw err;
        this.nameServerIndex = (this.nameServerIndex + 1) % this.nameServers.length;
      }
    }
    throw lastError;
  }

  /** Cached route of `topic`, if any. */
  cachedRoute(topic: string): TopicRouteData | undefined {
    return this.routes.get(topic);
  }

  /**
   * Fetches the route of `topic` from a name server and updates the caches. Concurrent calls
   * for the same topic share one request. Resolves `undefined` when the topic does not exist.
   */
  updateRoute(topic: string): Promise<TopicRouteData | undefined> {
    const running = this.routeUpdates.get(topic);
    if (running) return running;
    const update = this.fetchRoute(topic).finally(() => this.routeUpdates.delete(topic));
    this.routeUpdates.set(topic, update);
    return update;
  }

  /** The cached route, fetching it when missing. */
  async route(topic: string): Promise<TopicRouteData | undefined> {
    return this.routes.get(topic) ?? (await this.updateRoute(topic));
  }

  private async fetchRoute(topic: string): Promise<TopicRouteData | undefined> {
    this.assertOpen(`route lookup of '${topic}'`);
    const route = await this.withNameServer((addr) =>
      this.api.getTopicRoute(addr, topic, this.requestTimeoutMs),
    );
    if (!route) {
      this.routes.delete(topic);
      this.routeJson.delete(topic);
      return undefined;
    }
    for (const b of route.brokerDatas) this.brokerAddrs.set(b.brokerName, { ...b.brokerAddrs });
    const json = JSON.stringify(route);
    const changed = this.routeJson.get(topic) !== json;
    this.routes.set(topic, route);
    this.routeJson.set(topic, json);
    if (changed) {
      for (const m of this.members) {
        try {
          m.onRouteChanged?.(topic, route);
        } catch (err) {
          this.reportError(asError(err));
        }
      }
    }
    return route;
  }

  /**
   * Refreshes the routes of every member's topics, {@link ROUTE_REFRESH_IN_FLIGHT} lookups at a
   * time (all at once, 10,000 topics blocked the name server's and this client's event loops for
   * ~130 ms every 30 s). A round still running when the next is due is not doubled. Failures go to
   * `onError` as one report per refresh (the first error, and how many topics failed): with the
   * name server gone, a client of 10,000 topics would otherwise report 10,000 errors every round.
   * A round gives up after {@link ROUTE_REFRESH_MAX_FAILURES_IN_A_ROW} failures without a success
   * in between (a name server that times out would otherwise hold it for hours).
   */
  refreshAllRoutes(): Promise<void> {
    this.refreshing ??= this.refreshRoutesOnce().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshRoutesOnce(): Promise<void> {
    if (this.closed) return;
    const topics = new Set<string>();
    for (const m of this.members) for (const t of m.topics()) topics.add(t);
    const list = [...topics];
    let next = 0;
    let first: Error | undefined;
    let failed = 0;
    let failedInARow = 0;
    const worker = async (): Promise<void> => {
      while (
        next < list.length &&
        !this.closed &&
        failedInARow < ROUTE_REFRESH_MAX_FAILURES_IN_A_ROW
      ) {
        const topic = list[next++]!;
        try {
          await this.updateRoute(topic);
          failedInARow = 0;
        } catch (err) {
          failed++;
          failedInARow++;
          first ??= asError(err);
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(ROUTE_REFRESH_IN_FLIGHT, list.length) }, () => worker()),
    );
    if (first === undefined || this.closed) return;
    if (failed === 1) {
      this.reportError(first);
      return;
    }
    const skipped = list.length - next;
    this.reportError(
      new MQClientError(
        first instanceof MQClientError ? first.code : 'NO_ROUTE',
        `route refresh failed for ${failed} of ${list.length} topics` +
          (skipped > 0 ? ` (${skipped} not tried after ${failedInARow} failures in a row)` : '') +
          `; the first: ${first.message}`,
        { cause: first },
      ),
    );
  }

  /**
   * Address of broker `brokerName`: the master, or (unless `masterOnly`) any replica when the
   * master is unknown.
   */
  brokerAddr(brokerName: string, masterOnly = true): string | undefined {
    const addrs = this.brokerAddrs.get(brokerName);
    if (!addrs) return undefined;
    const master = addrs[String(MASTER_BROKER_ID)];
    if (master || masterOnly) return master;
    return Object.values(addrs)[0];
  }

  /** Names of every broker seen in a route. */
  brokerNames(): string[] {
    return [...this.brokerAddrs.keys()];
  }

  /** Builds the heartbeat body from the members. */
  heartbeatData(): HeartbeatData {
    const producers = new Set<string>();
    const consumers: ConsumerData[] = [];
    for (const m of this.members) {
      if (m.producerGroup) producers.add(m.producerGroup);
      const c = m.consumerData?.();
      if (c) consumers.push(c);
    }
    return {
      clientID: this.clientId,
      producerDataSet: [...producers].map((groupName) => ({ groupName })),
      consumerDataSet: consumers,
    };
  }

  /**
   * Sends a heartbeat to every known broker (masters only when there is no consumer). Errors
   * go to `onError`; resolves when all answered or failed.
   */
  async heartbeatAll(): Promise<void> {
    if (this.closed) return;
    const data = this.heartbeatData();
    if (data.producerDataSet.length === 0 && data.consumerDataSet.length === 0) return;
    const masterOnly = data.consumerDataSet.length === 0;
    const targets = new Set<string>();
    for (const addrs of this.brokerAddrs.values()) {
      for (const [id, addr] of Object.entries(addrs)) {
        if (!masterOnly || id === String(MASTER_BROKER_ID)) targets.add(addr);
      }
    }
    await Promise.all(
      [...targets].map((addr) =>
        this.api
          .heartbeat(addr, data, this.requestTimeoutMs)
          .catch((err) => this.reportError(asError(err))),
      ),
    );
  }

  /** Sends UNREGISTER_CLIENT for a group to every known master; errors are ignored. */
  async unregisterGroup(group: { producerGroup?: string; consumerGroup?: string }): Promise<void> {
    const targets = new Set<string>();
    for (const name of this.brokerAddrs.keys()) {
      const addr = this.brokerAddr(name);
      if (addr) targets.add(addr);
    }
    await Promise.all(
      [...targets].map((addr) =>
        this.api
          .unregisterClient(addr, this.clientId, group, this.requestTimeoutMs)
          .catch(() => undefined),
      ),
    );
  }
}

/** Normalises anything thrown into an Error. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Answers a server request with REQUEST_CODE_NOT_SUPPORTED. */
export function notSupported(request: RemotingCommand, what: string): RemotingCommand {
  return createResponse(
    request,
    ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
    `${what} is not supported by the Sluice client`,
  );
}
