/**
 * Shared set-up of the message-semantics end-to-end tests: a name server and a BrokerController
 * in this process on port 0, with short delay levels (100 ms steps), fast client timers, a
 * restart that keeps the data folder, and helpers to read a queue straight from the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerController } from '../src/broker/broker-controller.js';
import { DEFAULT_BROKER_CONFIG, type BrokerConfig } from '../src/broker/broker-config.js';
import { decodeRecords, type DecodedMessage } from '../src/common/codec/decoded-message.js';
import { NameServer } from '../src/namesrv/name-server.js';

/** 18 levels: 100ms, 200ms, … 1800ms. */
export const TEST_DELAY_LEVELS = Array.from({ length: 18 }, (_, i) => `${(i + 1) * 100}ms`).join(
  ' ',
);

/** A name server + broker pair that can restart the broker on the same data. */
export class SemanticsCluster {
  readonly dir: string;
  namesrv!: NameServer;
  broker!: BrokerController;
  private readonly overrides: Partial<BrokerConfig>;

  constructor(overrides: Partial<BrokerConfig> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'sluice-semantics-'));
    this.overrides = overrides;
  }

  /** `127.0.0.1:<port>` of the name server. */
  get nameServer(): string {
    return `127.0.0.1:${this.namesrv.port}`;
  }

  /** The broker config used for every start. */
  config(): BrokerConfig {
    return {
      ...DEFAULT_BROKER_CONFIG,
      namesrvAddr: this.nameServer,
      listenHost: '127.0.0.1',
      listenPort: 0,
      brokerIP1: '127.0.0.1',
      storePathRootDir: join(this.dir, 'broker'),
      mappedFileSizeCommitLog: 4 * 1024 * 1024,
      maxMessageSize: 512 * 1024,
      mappedFileSizeConsumeQueueEntries: 1000,
      warmMappedFileEnable: false,
      flushConsumerOffsetInterval: 200,
      registerNameServerPeriod: 1000,
      messageDelayLevel: TEST_DELAY_LEVELS,
      httpPort: 0,
      ...this.overrides,
    };
  }

  async start(): Promise<void> {
    this.namesrv = new NameServer();
    await this.namesrv.start({ host: '127.0.0.1', port: 0 });
    this.broker = await BrokerController.start(this.config());
  }

  /** Stops the broker cleanly and starts it again on the same data (new port). */
  async restartBroker(): Promise<void> {
    await this.broker.stop();
    this.broker = await BrokerController.start(this.config());
  }

  async stop(): Promise<void> {
    await this.broker?.stop();
    await this.namesrv?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Every message of a queue, read from the store (no consumer, no permission check). */
  readQueue(topic: string, queueId = 0): DecodedMessage[] {
    const store = this.broker.store;
    const out: DecodedMessage[] = [];
    let offset = store.getMinOffsetInQueue(topic, queueId);
    const max = store.getMaxOffsetInQueue(topic, queueId);
    while (offset < max) {
      const r = store.getMessage(topic, queueId, offset, 32);
      if (r.status !== 'FOUND') {
        r.slices?.release();
        if (r.nextBeginOffset <= offset) break;
        offset = r.nextBeginOffset;
        continue;
      }
      try {
        for (const b of r.slices!.buffers) {
          for (const m of decodeRecords(b)) out.push({ ...m, body: Buffer.from(m.body) });
        }
      } finally {
        r.slices!.release();
      }
      offset = r.nextBeginOffset;
    }
    return out;
  }

  /** Every message of every queue of a topic. */
  readTopic(topic: string): DecodedMessage[] {
    const queues = this.broker.store.listQueues().get(topic) ?? [];
    return queues.flatMap((q) => this.readQueue(topic, q));
  }
}

/** Client options for fast tests. */
export function fastClient(nameServer: string): {
  nameServer: string;
  pollNameServerIntervalMs: number;
  heartbeatIntervalMs: number;
  onError: (err: Error) => void;
} {
  return {
    nameServer,
    pollNameServerIntervalMs: 500,
    heartbeatIntervalMs: 500,
    onError: () => undefined,
  };
}

/** Consumer options for fast tests. */
export const FAST_CONSUMER = {
  pullSuspendMs: 1000,
  pullTimeoutMs: 5000,
  pullErrorDelayMs: 200,
  rebalanceIntervalMs: 500,
  persistOffsetIntervalMs: 200,
} as const;
