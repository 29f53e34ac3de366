/**
 * Broker configuration: defaults in code, overridden by a RocketMQ-style `broker.conf`
 * (`key=value` lines, `#` comments), then by environment variables (`SLUICE_<KEY>` with the key in
 * upper snake case, e.g. `SLUICE_LISTEN_PORT`), then by command-line flags. Keys are RocketMQ's
 * names where RocketMQ has one, so an existing broker.conf carries over. An unknown key is an
 * error, never silently ignored.
 */
import { readFileSync } from 'node:fs';
import { SluiceError } from '../common/errors.js';
import { MALLOC_RETAIN_LIMIT_BYTES } from '../store/io/native.js';

/** The values of `storeBackend` (broker.conf, `--backend`). */
export const STORE_BACKEND_CHOICES = ['auto', 'mmap', 'file'] as const;
export type StoreBackendChoice = (typeof STORE_BACKEND_CHOICES)[number];

export interface BrokerConfig {
  brokerClusterName: string;
  brokerName: string;
  brokerId: number;
  /** Name servers, `host:port` separated by `;`. */
  namesrvAddr: string;
  /** Address the broker listens on. */
  listenHost: string;
  listenPort: number;
  /** IP advertised to name servers and clients (RocketMQ's brokerIP1). */
  brokerIP1: string;
  /** Root data folder: `store/` and `config/` live beneath it. */
  storePathRootDir: string;
  /**
   * CommitLog backend. `auto` (the default): positional file I/O with sync flush, mmap with
   * async flush — the faster of the two for each (see docs/benchmarks.md).
   */
  storeBackend: StoreBackendChoice;
  mappedFileSizeCommitLog: number;
  mappedFileSizeConsumeQueueEntries: number;
  /** Most ConsumeQueue files open at once for reading (and as many for the writer thread). */
  consumeQueueMaxOpenFiles: number;
  /** Bytes of idle ConsumeQueue buffers kept in memory to serve recent entries. */
  consumeQueueBufferBudgetBytes: number;
  flushDiskType: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  flushIntervalCommitLog: number;
  /**
   * Async flush: the background flush runs when this many pages are ready. On the mmap backend
   * it stops at the last 2 MiB boundary of the log (the kernel's largest page-cache folio), the
   * thorough flush goes to the end; 0 flushes to the end every interval.
   */
  flushCommitLogLeastPages: number;
  flushCommitLogThoroughInterval: number;
  syncFlushTimeout: number;
  /**
   * Warm the CommitLog's segments off the event loop (mmap backend): each is brought into the
   * page cache ahead of time (async flush) and a lead sized to the append rate is made writable
   * ahead of the appends, so appends take no page faults (see `StoreConfig.warmLeadBytes`).
   */
  warmMappedFileEnable: boolean;
  maxMessageSize: number;
  /** Hours at which expired segments are deleted, RocketMQ style: `04` or `04;05`. */
  deleteWhen: string;
  /** Hours to keep CommitLog segments. */
  fileReservedTime: number;
  diskMaxUsedSpaceRatio: number;
  messageIndexEnable: boolean;
  /** Most messages one pull returns (RocketMQ's default 32). */
  maxTransferCountOnMessageInMemory: number;
  /** Most bytes one pull returns (at least one message; default 256 KiB). */
  maxTransferBytesOnMessageInMemory: number;
  autoCreateTopicEnable: boolean;
  autoCreateSubscriptionGroup: boolean;
  defaultTopicQueueNums: number;
  longPollingEnable: boolean;
  /** Short-poll hold when the client did not ask to suspend. */
  shortPollingTimeMills: number;
  enablePropertyFilter: boolean;
  messageDelayLevel: string;
  registerNameServerPeriod: number;
  /**
   * Send the whole topic table to the name servers every `registerNameServerPeriod` (RocketMQ's
   * default). Off (Sluice's default): ask each name server for its data version first
   * (QUERY_DATA_VERSION renews the lease) and send the table only where it differs.
   */
  forceRegister: boolean;
  flushConsumerOffsetInterval: number;
  channelExpiredTimeout: number;
  transactionCheckInterval: number;
  transactionTimeOut: number;
  transactionCheckMax: number;
  timerMaxDelaySec: number;
  maxFrameSizeBytes: number;
  /**
   * Freed memory malloc keeps in the broker process instead of returning it to the kernel (glibc
   * only; 0 leaves malloc's defaults). Pull answers and socket reads are large buffers that are
   * freed at once; returned to the kernel, each 4 KiB of them costs a page fault again on the
   * next use. The analogue of a JVM broker's fixed, pre-touched heap.
   */
  mallocRetainBytes: number;
  /**
   * V8's memory reducer: full collections that shrink the heap once the process looks idle. Off
   * by default (the V8 flag is process-wide): a broker's traffic comes back, and each heap page
   * handed back is faulted in again; a broker at 1,000 sends/s, 10 s after start, took 350-670
   * page faults per 3 s with it and 23-49 without. `true` keeps V8's default.
   */
  heapMemoryReducer: boolean;
  /** Dashboard and /metrics port; 0 turns the HTTP server off. */
  httpPort: number;
  httpHost: string;
  /** Allow write actions (create topic, reset offset, resend) from the dashboard. */
  httpWriteEnable: boolean;
}

export const DEFAULT_BROKER_CONFIG: Readonly<BrokerConfig> = Object.freeze({
  brokerClusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  brokerId: 0,
  namesrvAddr: '127.0.0.1:9876',
  listenHost: '0.0.0.0',
  listenPort: 10911,
  brokerIP1: '127.0.0.1',
  storePathRootDir: './sluice-data',
  storeBackend: 'auto',
  mappedFileSizeCommitLog: 1024 * 1024 * 1024,
  mappedFileSizeConsumeQueueEntries: 300_000,
  consumeQueueMaxOpenFiles: 1024,
  consumeQueueBufferBudgetBytes: 64 * 1024 * 1024,
  flushDiskType: 'ASYNC_FLUSH',
  flushIntervalCommitLog: 500,
  flushCommitLogLeastPages: 4,
  flushCommitLogThoroughInterval: 10_000,
  syncFlushTimeout: 5_000,
  warmMappedFileEnable: true,
  maxMessageSize: 4 * 1024 * 1024,
  deleteWhen: '04',
  fileReservedTime: 72,
  diskMaxUsedSpaceRatio: 75,
  messageIndexEnable: true,
  maxTransferCountOnMessageInMemory: 32,
  maxTransferBytesOnMessageInMemory: 256 * 1024,
  autoCreateTopicEnable: true,
  autoCreateSubscriptionGroup: true,
  defaultTopicQueueNums: 8,
  longPollingEnable: true,
  shortPollingTimeMills: 1_000,
  enablePropertyFilter: true,
  messageDelayLevel: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
  registerNameServerPeriod: 30_000,
  forceRegister: false,
  flushConsumerOffsetInterval: 5_000,
  channelExpiredTimeout: 120_000,
  transactionCheckInterval: 30_000,
  transactionTimeOut: 6_000,
  transactionCheckMax: 15,
  timerMaxDelaySec: 3 * 24 * 3600,
  maxFrameSizeBytes: 16 * 1024 * 1024,
  mallocRetainBytes: 256 * 1024 * 1024,
  heapMemoryReducer: false,
  httpPort: 8080,
  httpHost: '127.0.0.1',
  httpWriteEnable: false,
});

type Kind = 'string' | 'int' | 'number' | 'boolean';

function kindOf(key: keyof BrokerConfig): Kind {
  const value = DEFAULT_BROKER_CONFIG[key];
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'number';
  return 'string';
}

/** RocketMQ spellings that differ from ours, accepted in broker.conf. */
const ALIASES: Readonly<Record<string, keyof BrokerConfig>> = {
  mapedFileSizeCommitLog: 'mappedFileSizeCommitLog',
  warmMapedFileEnable: 'warmMappedFileEnable',
};

const ENUMS: Partial<Record<keyof BrokerConfig, readonly string[]>> = {
  storeBackend: STORE_BACKEND_CHOICES,
  flushDiskType: ['ASYNC_FLUSH', 'SYNC_FLUSH'],
};

function canonicalKey(rawKey: string, source: string): keyof BrokerConfig {
  const key = ALIASES[rawKey] ?? rawKey;
  if (!Object.prototype.hasOwnProperty.call(DEFAULT_BROKER_CONFIG, key)) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `unknown broker config key "${rawKey}" in ${source}; known keys: ${Object.keys(DEFAULT_BROKER_CONFIG).join(', ')}`,
    );
  }
  return key as keyof BrokerConfig;
}

function parseValue(
  key: keyof BrokerConfig,
  raw: string,
  source: string,
): string | number | boolean {
  const text = raw.trim();
  const kind = kindOf(key);
  if (kind === 'boolean') {
    if (text === 'true') return true;
    if (text === 'false') return false;
    throw new SluiceError(
      'CONFIG_INVALID',
      `${key} in ${source} must be true or false, got "${text}"`,
    );
  }
  if (kind === 'int' || kind === 'number') {
    const value = Number(text);
    if (
      text === '' ||
      !Number.isFinite(value) ||
      (kind === 'int' && !Number.isSafeInteger(value))
    ) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `${key} in ${source} must be a number, got "${text}"`,
      );
    }
    return value;
  }
  const allowed = ENUMS[key];
  if (allowed && !allowed.includes(text)) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `${key} in ${source} must be one of ${allowed.join(', ')}, got "${text}"`,
    );
  }
  return text;
}

/** Parses broker.conf text (`key=value` lines; `#` and `!` start comments) into overrides. */
export function parseBrokerConf(text: string, source = 'broker.conf'): Partial<BrokerConfig> {
  const out: Record<string, unknown> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `${source}:${i + 1}: expected key=value, got "${line}"`,
      );
    }
    const key = canonicalKey(line.slice(0, eq).trim(), `${source}:${i + 1}`);
    out[key] = parseValue(key, line.slice(eq + 1), `${source}:${i + 1}`);
  }
  return out as Partial<BrokerConfig>;
}

function toEnvName(key: string): string {
  return 'SLUICE_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Overrides from `SLUICE_*` environment variables; an unknown `SLUICE_` broker key is an error. */
export function brokerConfigFromEnv(
  env: NodeJS.ProcessEnv,
  ignore: readonly string[] = [],
): Partial<BrokerConfig> {
  const byEnvName = new Map<string, keyof BrokerConfig>();
  for (const key of Object.keys(DEFAULT_BROKER_CONFIG) as (keyof BrokerConfig)[]) {
    byEnvName.set(toEnvName(key), key);
  }
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('SLUICE_') || raw === undefined || ignore.includes(name)) continue;
    const key = byEnvName.get(name);
    if (!key) continue; // other SLUICE_ variables (test switches) are not broker keys
    out[key] = parseValue(key, raw, `environment variable ${name}`);
  }
  return out as Partial<BrokerConfig>;
}

/** Validates flag-style overrides (`{key: string}`) with the same rules as the file. */
export function brokerConfigFromPairs(
  pairs: Record<string, string>,
  source: string,
): Partial<BrokerConfig> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, raw] of Object.entries(pairs)) {
    const key = canonicalKey(rawKey, source);
    out[key] = parseValue(key, raw, source);
  }
  return out as Partial<BrokerConfig>;
}

/** Defaults ← file ← environment ← flags. */
export function loadBrokerConfig(options: {
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Partial<BrokerConfig>;
}): BrokerConfig {
  const fromFile = options.configFile
    ? parseBrokerConf(readConfigFile(options.configFile), options.configFile)
    : {};
  const fromEnv = options.env ? brokerConfigFromEnv(options.env) : {};
  const config: BrokerConfig = {
    ...DEFAULT_BROKER_CONFIG,
    ...fromFile,
    ...fromEnv,
    ...(options.overrides ?? {}),
  };
  validateBrokerConfig(config);
  return config;
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `cannot read config file ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function checkPort(name: string, port: number, allowZero: boolean): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `${name} must be a TCP port (${allowZero ? 0 : 1}-65535), got ${port}`,
    );
  }
}

/** Cross-field checks; throws CONFIG_INVALID with the offending key. */
export function validateBrokerConfig(config: BrokerConfig): void {
  checkPort('listenPort', config.listenPort, false);
  checkPort('httpPort', config.httpPort, true);
  if (
    config.maxTransferCountOnMessageInMemory < 1 ||
    config.maxTransferBytesOnMessageInMemory < 1
  ) {
    throw new SluiceError(
      'CONFIG_INVALID',
      'maxTransferCountOnMessageInMemory and maxTransferBytesOnMessageInMemory must be at least 1',
    );
  }
  if (config.mappedFileSizeCommitLog < 64 * 1024 || config.mappedFileSizeCommitLog % 4096 !== 0) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `mappedFileSizeCommitLog must be a multiple of 4096 and at least 64 KiB, got ${config.mappedFileSizeCommitLog}`,
    );
  }
  if (
    config.maxMessageSize <= 0 ||
    config.maxMessageSize + 64 * 1024 > config.mappedFileSizeCommitLog
  ) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `maxMessageSize (${config.maxMessageSize}) must be positive and leave room in a segment of ${config.mappedFileSizeCommitLog} bytes`,
    );
  }
  if (config.consumeQueueMaxOpenFiles < 1 || config.consumeQueueBufferBudgetBytes < 0) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `consumeQueueMaxOpenFiles must be at least 1 and consumeQueueBufferBudgetBytes at least 0, got ${config.consumeQueueMaxOpenFiles} and ${config.consumeQueueBufferBudgetBytes}`,
    );
  }
  if (config.defaultTopicQueueNums < 1 || config.defaultTopicQueueNums > 1024) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `defaultTopicQueueNums must be 1-1024, got ${config.defaultTopicQueueNums}`,
    );
  }
  if (config.diskMaxUsedSpaceRatio < 10 || config.diskMaxUsedSpaceRatio > 95) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `diskMaxUsedSpaceRatio must be 10-95, got ${config.diskMaxUsedSpaceRatio}`,
    );
  }
  if (config.mallocRetainBytes < 0 || config.mallocRetainBytes >= MALLOC_RETAIN_LIMIT_BYTES) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `mallocRetainBytes must be 0 (malloc's defaults) or a byte count below 2 GiB, got ${config.mallocRetainBytes}`,
    );
  }
  parseDeleteWhen(config.deleteWhen);
}

/** `04;05` → [4, 5]. */
export function parseDeleteWhen(text: string): number[] {
  const hours = text.split(';').map((part) => Number(part.trim()));
  for (const hour of hours) {
    if (!Number.isInteger(hour) || hour < 0 || hour > 23) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `deleteWhen must be hours 00-23 separated by ';', got "${text}"`,
      );
    }
  }
  return hours;
}

/**
 * The CommitLog backend `config` asks for: `auto` is the file backend with sync flush (its group
 * commits cost less CPU than msyncs of a mapping, and its reads are still views of a mapping)
 * and mmap with async flush (stores into pre-faulted pages beat a `pwrite` per turn).
 */
export function resolvedStoreBackend(config: BrokerConfig): 'mmap' | 'file' {
  if (config.storeBackend !== 'auto') return config.storeBackend;
  return config.flushDiskType === 'SYNC_FLUSH' ? 'file' : 'mmap';
}
