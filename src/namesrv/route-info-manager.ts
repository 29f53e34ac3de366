/**
 * The name server's route table: which broker groups exist (per cluster), which addresses they
 * have, which topics each master serves with how many queues, and when each broker last spoke.
 * Pure data structure: the caller passes the clock, so tests drive expiry without sleeping.
 */
import type { RegisterBrokerRequestHeader } from '../protocol/headers/broker-registration.js';
import type { BrokerIdentityHeader } from '../protocol/headers/broker-registration.js';
import {
  MASTER_BROKER_ID,
  dataVersionEquals,
  type BrokerData,
  type ClusterInfo,
  type DataVersion,
  type QueueData,
  type RegisterBrokerBody,
  type TopicRouteData,
} from '../protocol/route-data.js';

/** A broker's topic table as registered. */
type TopicTable = RegisterBrokerBody['topicConfigSerializeWrapper']['topicConfigTable'];

/** Liveness record of one broker address. */
interface BrokerLiveInfo {
  lastUpdateMs: number;
  timeoutMs: number;
  dataVersion: DataVersion;
  haServerAddr: string;
  clusterName: string;
  brokerName: string;
  brokerId: number;
  /** Connection the broker registered on (its closing drops the broker at once). */
  connectionId: number | undefined;
}

/** What REGISTER_BROKER answers: the master of the group (meaningful for slaves). */
export interface RegisterResult {
  masterAddr: string | undefined;
  haServerAddr: string | undefined;
}

/** A broker removed from the table (expired, unregistered or disconnected). */
export interface RemovedBroker {
  brokerAddr: string;
  brokerName: string;
  clusterName: string;
}

/** Route table of a name server. */
export class RouteInfoManager {
  /** topic → brokerName → queue layout. */
  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  /** brokerName → broker group. */
  private readonly brokerAddrTable = new Map<string, BrokerData>();
  /** cluster → broker names. */
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  /** broker address → liveness. */
  private readonly brokerLiveTable = new Map<string, BrokerLiveInfo>();

  /**
   * @param defaultBrokerTimeoutMs a broker silent for longer is dropped by
   *   {@link scanNotActiveBroker} (RocketMQ: 120 s).
   */
  constructor(private readonly defaultBrokerTimeoutMs = 120_000) {}

  /**
   * Records a broker registration (also the 30 s keep-alive). A master's topics are merged into
   * the table (RocketMQ's default: a broker sends only the changed topics after creating one).
   * A complete table (`header.completeTopicTable`, Sluice brokers' periodic registration)
   * replaces the previous one when its data version changed, so topics the broker no longer has
   * are removed.
   */
  registerBroker(
    header: RegisterBrokerRequestHeader,
    body: RegisterBrokerBody,
    nowMs: number,
    connectionId?: number,
  ): RegisterResult {
    const { clusterName, brokerName, brokerAddr, brokerId } = header;
    let names = this.clusterAddrTable.get(clusterName);
    if (!names) this.clusterAddrTable.set(clusterName, (names = new Set()));
    names.add(brokerName);

    let brokerData = this.brokerAddrTable.get(brokerName);
    const firstRegistration = !brokerData;
    if (!brokerData) {
      brokerData = { cluster: clusterName, brokerName, brokerAddrs: {} };
      this.brokerAddrTable.set(brokerName, brokerData);
    }
    // The same address under another id (a slave promoted to master, or the reverse).
    for (const [id, addr] of Object.entries(brokerData.brokerAddrs)) {
      if (addr === brokerAddr && Number(id) !== brokerId) delete brokerData.brokerAddrs[id];
    }
    const idKey = String(brokerId);
    const newAddress = brokerData.brokerAddrs[idKey] !== brokerAddr;
    brokerData.brokerAddrs[idKey] = brokerAddr;

    const wrapper = body.topicConfigSerializeWrapper;
    const previous = this.brokerLiveTable.get(brokerAddr);
    const knownBefore = !firstRegistration && !newAddress && previous !== undefined;
    let dataVersion = wrapper.dataVersion;
    if (header.completeTopicTable === true) {
      const changed = !knownBefore || !dataVersionEquals(previous.dataVersion, dataVersion);
      if (brokerId === MASTER_BROKER_ID && changed) {
        this.replaceTopicsOf(brokerName, wrapper.topicConfigTable);
      }
    } else {
      if (brokerId === MASTER_BROKER_ID) this.mergeTopicsOf(brokerName, wrapper.topicConfigTable);
      // Only a delta on top of a table we hold makes us current; otherwise (e.g. this name
      // server restarted) keep a version no broker has, so the next complete table replaces.
      if (!knownBefore) dataVersion = { timestamp: -1, counter: -1 };
    }

    this.brokerLiveTable.set(brokerAddr, {
      lastUpdateMs: nowMs,
      timeoutMs: header.heartbeatTimeoutMillis ?? this.defaultBrokerTimeoutMs,
      dataVersion,
      haServerAddr: header.haServerAddr,
      clusterName,
      brokerName,
      brokerId,
      connectionId,
    });

    if (brokerId === MASTER_BROKER_ID) return { masterAddr: undefined, haServerAddr: undefined };
    const masterAddr = brokerData.brokerAddrs[String(MASTER_BROKER_ID)];
    return {
      masterAddr,
      haServerAddr: masterAddr ? this.brokerLiveTable.get(masterAddr)?.haServerAddr : undefined,
    };
  }

  private replaceTopicsOf(brokerName: string, table: TopicTable): void {
    for (const [topic, perBroker] of this.topicQueueTable) {
      if (!(topic in table) && perBroker.delete(brokerName) && perBroker.size === 0) {
        this.topicQueueTable.delete(topic);
      }
    }
    this.mergeTopicsOf(brokerName, table);
  }

  /** Adds or updates the broker's queue layout of every topic in `table`. */
  private mergeTopicsOf(brokerName: string, table: TopicTable): void {
    for (const [name, cfg] of Object.entries(table)) {
      const topic = cfg.topicName || name;
      let perBroker = this.topicQueueTable.get(topic);
      if (!perBroker) this.topicQueueTable.set(topic, (perBroker = new Map()));
      perBroker.set(brokerName, {
        brokerName,
        readQueueNums: cfg.readQueueNums,
        writeQueueNums: cfg.writeQueueNums,
        perm: cfg.perm,
        topicSysFlag: cfg.topicSysFlag,
      });
    }
  }

  /** Removes one broker address (UNREGISTER_BROKER). */
  unregisterBroker(header: BrokerIdentityHeader): RemovedBroker | undefined {
    return this.removeBroker(header.brokerAddr);
  }

  /** Removes the broker that registered over connection `connectionId`, if any. */
  onConnectionClosed(connectionId: number): RemovedBroker[] {
    const removed: RemovedBroker[] = [];
    for (const [addr, live] of this.brokerLiveTable) {
      if (live.connectionId === connectionId) {
        const r = this.removeBroker(addr);
        if (r) removed.push(r);
      }
    }
    return removed;
  }

  /** Drops brokers silent for longer than their timeout. */
  scanNotActiveBroker(nowMs: number): RemovedBroker[] {
    const removed: RemovedBroker[] = [];
    for (const [addr, live] of this.brokerLiveTable) {
      if (nowMs - live.lastUpdateMs > live.timeoutMs) {
        const r = this.removeBroker(addr);
        if (r) removed.push(r);
      }
    }
    return removed;
  }

  private removeBroker(brokerAddr: string): RemovedBroker | undefined {
    const live = this.brokerLiveTable.get(brokerAddr);
    this.brokerLiveTable.delete(brokerAddr);
    let brokerName = live?.brokerName;
    let clusterName = live?.clusterName;
    for (const [name, data] of this.brokerAddrTable) {
      for (const [id, addr] of Object.entries(data.brokerAddrs)) {
        if (addr !== brokerAddr) continue;
        delete data.brokerAddrs[id];
        brokerName = name;
        clusterName = data.cluster;
      }
    }
    if (brokerName === undefined || clusterName === undefined) return undefined;
    const group = this.brokerAddrTable.get(brokerName);
    if (group && Object.keys(group.brokerAddrs).length === 0) {
      this.brokerAddrTable.delete(brokerName);
      const names = this.clusterAddrTable.get(clusterName);
      names?.delete(brokerName);
      if (names && names.size === 0) this.clusterAddrTable.delete(clusterName);
      for (const [topic, perBroker] of this.topicQueueTable) {
        if (perBroker.delete(brokerName) && perBroker.size === 0)
          this.topicQueueTable.delete(topic);
      }
    }
    return { brokerAddr, brokerName, clusterName };
  }

  /** The route of `topic`, or undefined when no live broker serves it. */
  pickupTopicRouteData(topic: string, orderTopicConf?: string): TopicRouteData | undefined {
    const perBroker = this.topicQueueTable.get(topic);
    if (!perBroker || perBroker.size === 0) return undefined;
    const queueDatas: QueueData[] = [];
    const brokerDatas: BrokerData[] = [];
    for (const [brokerName, qd] of perBroker) {
      queueDatas.push({ ...qd });
      const bd = this.brokerAddrTable.get(brokerName);
      if (bd) brokerDatas.push({ ...bd, brokerAddrs: { ...bd.brokerAddrs } });
    }
    if (brokerDatas.length === 0) return undefined;
    return { orderTopicConf, queueDatas, brokerDatas, filterServerTable: {} };
  }

  /** Every topic with at least one broker. */
  getAllTopicList(): string[] {
    return [...this.topicQueueTable.keys()];
  }

  /** Topics served by the brokers of `clusterName`. */
  getTopicsByCluster(clusterName: string): string[] {
    const names = this.clusterAddrTable.get(clusterName);
    if (!names) return [];
    const out: string[] = [];
    for (const [topic, perBroker] of this.topicQueueTable) {
      for (const name of perBroker.keys()) {
        if (names.has(name)) {
          out.push(topic);
          break;
        }
      }
    }
    return out;
  }

  /** Brokers and clusters (GET_BROKER_CLUSTER_INFO). */
  getClusterInfo(): ClusterInfo {
    const brokerAddrTable: ClusterInfo['brokerAddrTable'] = {};
    for (const [name, bd] of this.brokerAddrTable) {
      brokerAddrTable[name] = { ...bd, brokerAddrs: { ...bd.brokerAddrs } };
    }
    const clusterAddrTable: ClusterInfo['clusterAddrTable'] = {};
    for (const [cluster, names] of this.clusterAddrTable) clusterAddrTable[cluster] = [...names];
    return { brokerAddrTable, clusterAddrTable };
  }

  /**
   * Removes a topic from the table (all brokers, or only those of `clusterName`).
   * @returns true when something was removed.
   */
  deleteTopic(topic: string, clusterName?: string): boolean {
    const perBroker = this.topicQueueTable.get(topic);
    if (!perBroker) return false;
    if (clusterName === undefined) return this.topicQueueTable.delete(topic);
    const names = this.clusterAddrTable.get(clusterName);
    let removed = false;
    for (const name of names ?? []) removed = perBroker.delete(name) || removed;
    if (perBroker.size === 0) this.topicQueueTable.delete(topic);
    return removed;
  }

  /**
   * QUERY_DATA_VERSION: refreshes the broker's liveness and tells whether its topic
   * configuration differs from what the name server holds.
   */
  queryDataVersion(
    brokerAddr: string,
    dataVersion: DataVersion,
    nowMs: number,
  ): { changed: boolean; stored: DataVersion | undefined } {
    const live = this.brokerLiveTable.get(brokerAddr);
    if (!live) return { changed: true, stored: undefined };
    live.lastUpdateMs = nowMs;
    return { changed: !dataVersionEquals(live.dataVersion, dataVersion), stored: live.dataVersion };
  }

  /** Number of live broker addresses. */
  get liveBrokerCount(): number {
    return this.brokerLiveTable.size;
  }
}
