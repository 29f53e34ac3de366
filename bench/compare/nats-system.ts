/**
 * NATS JetStream as a compared system: `nats-server -js` with file storage, one stream over
 * `bench.>` whose subjects are the topics, driven by the `nats` client (JetStream publish with
 * acks, read back by an ordered consumer).
 *
 * nats-server 2.9 has no per-message fsync setting: `sync_interval` (including `always`) arrived
 * in 2.10 and 2.9.10 rejects it as an unknown field. 2.9's file store writes each message to the
 * OS (buffered) and fsyncs blocks on an internal timer, so the "sync" class runs the same server
 * configuration as the "async" class, and the report says so.
 */
import { connect, StorageType, RetentionPolicy, DiscardPolicy, type NatsConnection } from 'nats';
import type { JetStreamClient } from 'nats';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicNames, type ComparedSystem, type Durability, type RunningSystem } from './config.js';
import { findBinary, freePort, startServer, type ServerProcess } from './server-process.js';

const STREAM = 'BENCH';
/** Messages asked for per pull of the ordered consumer. */
const READ_BATCH_MESSAGES = 1000;

class RunningNats implements RunningSystem {
  private subjects: string[] = [];
  private readonly js: JetStreamClient;

  constructor(
    private readonly server: ServerProcess,
    private readonly nc: NatsConnection,
  ) {
    this.js = nc.jetstream();
  }

  get serverPid(): number {
    return this.server.pid;
  }

  serverOutput(): string {
    return this.server.output();
  }

  async prepare(topicCount: number): Promise<void> {
    this.subjects = topicNames('bench', '.', topicCount);
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.add({
      name: STREAM,
      subjects: ['bench.>'],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: 1,
    });
  }

  async publishAll(total: number, body: Buffer, window: number, deadlineMs: number): Promise<void> {
    const subjects = this.subjects;
    let next = 0;
    let failure: unknown;
    // `window` publishers, each with one publish outstanding: `window` unacknowledged in all.
    const worker = async (): Promise<void> => {
      while (next < total && failure === undefined) {
        if (Date.now() > deadlineMs) throw new Error('NATS: publishing did not finish in time');
        const i = next++;
        try {
          await this.js.publish(subjects[i % subjects.length]!, body);
        } catch (error) {
          failure = error;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, total) }, () => worker()));
  }

  async publishOne(topicIndex: number, body: Buffer): Promise<void> {
    await this.js.publish(this.subjects[topicIndex % this.subjects.length]!, body);
  }

  async readAll(expected: number, deadlineMs: number): Promise<number> {
    const consumer = await this.js.consumers.get(STREAM);
    const messages = await consumer.consume({ max_messages: READ_BATCH_MESSAGES });
    const timer = setTimeout(() => void messages.close(), Math.max(0, deadlineMs - Date.now()));
    let count = 0;
    try {
      for await (const message of messages) {
        if (message.data.length === 0) throw new Error('NATS: empty message read back');
        count++;
        if (count >= expected) break;
      }
    } finally {
      clearTimeout(timer);
      await messages.close();
    }
    return count;
  }

  async stop(): Promise<void> {
    await this.nc.close().catch(() => undefined);
    await this.server.stop();
  }
}

/** NATS JetStream (nats-server 2.9) with file storage. */
export const natsSystem: ComparedSystem = {
  key: 'nats',
  name: 'NATS JetStream',
  unavailableReason() {
    return findBinary('nats-server') === undefined
      ? 'nats-server not found: install it with `apt-get install nats-server`'
      : undefined;
  },
  describe(durability: Durability) {
    const base =
      'nats-server -js, file storage, one stream over `bench.>` (a subject per topic); nats.js JetStream publish with acks, window of outstanding publishes; ordered consumer reads back';
    return durability === 'async'
      ? `${base}; fsync on the file store's internal timer (default)`
      : `${base}; **no per-message fsync available in 2.9** (sync_interval/always is 2.10+), so same settings as async`;
  },
  async start(_durability: Durability, dataDir: string): Promise<RunningSystem> {
    const binary = findBinary('nats-server');
    if (binary === undefined) throw new Error(this.unavailableReason() ?? 'nats-server missing');
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const confPath = join(dataDir, 'nats.conf');
    writeFileSync(
      confPath,
      [
        `listen: 127.0.0.1:${port}`,
        'max_payload: 1048576',
        'jetstream {',
        `  store_dir: ${JSON.stringify(join(dataDir, 'js'))}`,
        '  max_memory_store: 268435456',
        '}',
        '',
      ].join('\n'),
    );
    const server = await startServer({
      name: 'nats-server',
      command: binary,
      args: ['-c', confPath],
      readyText: 'Server is ready',
    });
    try {
      const nc = await connect({ servers: `127.0.0.1:${port}`, maxReconnectAttempts: 0 });
      return new RunningNats(server, nc);
    } catch (error) {
      await server.stop();
      throw error;
    }
  },
};
