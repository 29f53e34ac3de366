/**
 * Routing bodies exchanged with the name server: TopicRouteData (GET_ROUTEINFO_BY_TOPIC),
 * the register-broker body (topic configs + data version), cluster info, topic lists and the
 * KV table. All decoders accept fastjson's unquoted integer keys; encoders write standard JSON
 * unless asked for the fastjson form.
 */
import { parseLenientJson, stringifyCompat } from './json-compat.js';
import { asArray, asObject, boolField, intField, stringField, stringMap } from './body-fields.js';

/** Master broker id inside a broker group. */
export const MASTER_BROKER_ID = 0;

/** One broker group: its name, cluster and the address of each member (id → `host:port`). */
export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** Broker id (as a decimal string, `"0"` = master) → address. */
  brokerAddrs: Record<string, string>;
}

/** Queue layout of a topic on one broker group. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  /** Permission bits (4 read, 2 write, 1 inherit). */
  perm: number;
  topicSysFlag: number;
}

/** The route of one topic. `brokerDatas` and `queueDatas` are always arrays (ali-ons sorts them). */
export interface TopicRouteData {
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  filterServerTable: Record<string, string[]>;
}

/** Decodes one broker group entry. */
export function decodeBrokerData(v: unknown): BrokerData {
  const o = asObject(v, 'brokerData');
  return {
    cluster: stringField(o, 'cluster', 'brokerData', ''),
    brokerName: stringField(o, 'brokerName', 'brokerData'),
    brokerAddrs: stringMap(o.brokerAddrs, 'brokerData.brokerAddrs'),
  };
}

function decodeQueueData(v: unknown): QueueData {
  const o = asObject(v, 'queueData');
  return {
    brokerName: stringField(o, 'brokerName', 'queueData'),
    readQueueNums: intField(o, 'readQueueNums', 'queueData'),
    writeQueueNums: intField(o, 'writeQueueNums', 'queueData'),
    perm: intField(o, 'perm', 'queueData'),
    topicSysFlag: intField(
      o,
      'topicSysFlag',
      'queueData',
      intField(o, 'topicSynFlag', 'queueData', 0),
    ),
  };
}

/** Options of the body encoders. */
export interface EncodeBodyOptions {
  /** Write integer map keys unquoted (fastjson style) for old clients. Default false. */
  fastjson?: boolean;
}

/** Encodes a topic route as the GET_ROUTEINFO_BY_TOPIC response body. */
export function encodeTopicRouteData(
  route: TopicRouteData,
  options: EncodeBodyOptions = {},
): Buffer {
  const ordered = {
    orderTopicConf: route.orderTopicConf,
    queueDatas: route.queueDatas,
    brokerDatas: route.brokerDatas,
    filterServerTable: route.filterServerTable,
  };
  return Buffer.from(stringifyCompat(ordered, { fastjsonIntegerKeys: options.fastjson }), 'utf8');
}

/** Decodes a GET_ROUTEINFO_BY_TOPIC response body (standard or fastjson JSON). */
export function decodeTopicRouteData(body: Buffer | string): TopicRouteData {
  const o = asObject(parseLenientJson(body), 'topic route');
  const filter: Record<string, string[]> = {};
  if (o.filterServerTable !== undefined && o.filterServerTable !== null) {
    for (const [k, v] of Object.entries(asObject(o.filterServerTable, 'filterServerTable'))) {
      filter[k] = asArray(v, 'filterServerTable entry').map(String);
    }
  }
  return {
    orderTopicConf: typeof o.orderTopicConf === 'string' ? o.orderTopicConf : undefined,
    queueDatas: asArray(o.queueDatas, 'queueDatas').map(decodeQueueData),
    brokerDatas: asArray(o.brokerDatas, 'brokerDatas').map(decodeBrokerData),
    filterServerTable: filter,
  };
}

/** Version stamp of a broker's topic configuration. */
export interface DataVersion {
  timestamp: number;
  counter: number;
  stateVersion?: number;
}

/** Decodes a DataVersion JSON object (already parsed) or body. */
export function decodeDataVersion(v: unknown): DataVersion {
  const o = asObject(
    typeof v === 'string' || Buffer.isBuffer(v) ? parseLenientJson(v) : v,
    'dataVersion',
  );
  const counter = o.counter;
  return {
    timestamp: intField(o, 'timestamp', 'dataVersion', 0),
    counter:
      typeof counter === 'object' && counter !== null
        ? intField(counter as Record<string, unknown>, 'value', 'dataVersion.counter', 0)
        : intField(o, 'counter', 'dataVersion', 0),
    stateVersion: typeof o.stateVersion === 'number' ? o.stateVersion : undefined,
  };
}

/** True when both versions are the same. */
export function dataVersionEquals(a: DataVersion, b: DataVersion): boolean {
  return (
    a.timestamp === b.timestamp &&
    a.counter === b.counter &&
    (a.stateVersion ?? 0) === (b.stateVersion ?? 0)
  );
}

/** One topic's configuration on a broker. */
export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: string;
  topicSysFlag: number;
  order: boolean;
  attributes?: Record<string, string>;
}

/** Decodes one TopicConfig object. */
export function decodeTopicConfig(v: unknown, fallbackName = ''): TopicConfig {
  const o = asObject(v, 'topicConfig');
  return {
    topicName: stringField(o, 'topicName', 'topicConfig', fallbackName),
    readQueueNums: intField(o, 'readQueueNums', 'topicConfig', 16),
    writeQueueNums: intField(o, 'writeQueueNums', 'topicConfig', 16),
    perm: intField(o, 'perm', 'topicConfig', 6),
    topicFilterType: stringField(o, 'topicFilterType', 'topicConfig', 'SINGLE_TAG'),
    topicSysFlag: intField(o, 'topicSysFlag', 'topicConfig', 0),
    order: boolField(o, 'order', false),
    attributes: o.attributes ? stringMap(o.attributes, 'topicConfig.attributes') : undefined,
  };
}

/** REGISTER_BROKER body: the broker's topics with their version, plus filter servers. */
export interface RegisterBrokerBody {
  topicConfigSerializeWrapper: {
    topicConfigTable: Record<string, TopicConfig>;
    dataVersion: DataVersion;
  };
  filterServerList: string[];
}

/** Encodes a REGISTER_BROKER body. */
export function encodeRegisterBrokerBody(body: RegisterBrokerBody): Buffer {
  return Buffer.from(stringifyCompat(body), 'utf8');
}

/** Decodes a REGISTER_BROKER body (also accepts a bare TopicConfigSerializeWrapper). */
export function decodeRegisterBrokerBody(body: Buffer | string | undefined): RegisterBrokerBody {
  if (body === undefined || body.length === 0) {
    return {
      topicConfigSerializeWrapper: {
        topicConfigTable: {},
        dataVersion: { timestamp: 0, counter: 0 },
      },
      filterServerList: [],
    };
  }
  const o = asObject(parseLenientJson(body), 'register broker body');
  const wrapper = asObject(o.topicConfigSerializeWrapper ?? o, 'topicConfigSerializeWrapper');
  const table: Record<string, TopicConfig> = {};
  if (wrapper.topicConfigTable !== undefined && wrapper.topicConfigTable !== null) {
    for (const [name, cfg] of Object.entries(
      asObject(wrapper.topicConfigTable, 'topicConfigTable'),
    )) {
      table[name] = decodeTopicConfig(cfg, name);
    }
  }
  return {
    topicConfigSerializeWrapper: {
      topicConfigTable: table,
      dataVersion: wrapper.dataVersion
        ? decodeDataVersion(wrapper.dataVersion)
        : { timestamp: 0, counter: 0 },
    },
    filterServerList: asArray(o.filterServerList, 'filterServerList').map(String),
  };
}

/** GET_BROKER_CLUSTER_INFO body. */
export interface ClusterInfo {
  /** brokerName → broker group. */
  brokerAddrTable: Record<string, BrokerData>;
  /** cluster name → broker names. */
  clusterAddrTable: Record<string, string[]>;
}

/** Encodes a cluster info body. */
export function encodeClusterInfo(info: ClusterInfo, options: EncodeBodyOptions = {}): Buffer {
  return Buffer.from(stringifyCompat(info, { fastjsonIntegerKeys: options.fastjson }), 'utf8');
}

/** Decodes a cluster info body. */
export function decodeClusterInfo(body: Buffer | string): ClusterInfo {
  const o = asObject(parseLenientJson(body), 'cluster info');
  const brokers: Record<string, BrokerData> = {};
  for (const [k, v] of Object.entries(asObject(o.brokerAddrTable ?? {}, 'brokerAddrTable'))) {
    brokers[k] = decodeBrokerData(v);
  }
  const clusters: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(asObject(o.clusterAddrTable ?? {}, 'clusterAddrTable'))) {
    clusters[k] = asArray(v, 'clusterAddrTable entry').map(String);
  }
  return { brokerAddrTable: brokers, clusterAddrTable: clusters };
}

/** A list of topic names (GET_ALL_TOPIC_LIST_FROM_NAMESERVER and friends). */
export interface TopicList {
  topicList: string[];
  brokerAddr?: string;
}

/** Encodes a topic list body. */
export function encodeTopicList(list: TopicList): Buffer {
  return Buffer.from(stringifyCompat(list), 'utf8');
}

/** Decodes a topic list body. */
export function decodeTopicList(body: Buffer | string): TopicList {
  const o = asObject(parseLenientJson(body), 'topic list');
  return {
    topicList: asArray(o.topicList, 'topicList').map(String),
    brokerAddr: typeof o.brokerAddr === 'string' ? o.brokerAddr : undefined,
  };
}

/** A KV table body `{"table": {...}}` (REGISTER_BROKER answer, GET_KVLIST_BY_NAMESPACE). */
export function encodeKVTable(table: Record<string, string>): Buffer {
  return Buffer.from(stringifyCompat({ table }), 'utf8');
}

/** Decodes a KV table body. */
export function decodeKVTable(body: Buffer | string | undefined): Record<string, string> {
  if (body === undefined || body.length === 0) return {};
  const o = asObject(parseLenientJson(body), 'kv table');
  return stringMap(o.table, 'table');
}
