/**
 * Redis Streams as a compared system: `redis-server` with AOF (`appendfsync everysec`, or
 * `always` for per-message durability), one stream key per topic, driven by `ioredis`.
 */
import { Redis } from 'ioredis';
import { mkdirSync } from 'node:fs';
import { topicNames, type ComparedSystem, type Durability, type RunningSystem } from './config.js';
import { findBinary, freePort, startServer, type ServerProcess } from './server-process.js';

/** XADD commands per pipeline in the throughput phase. */
const PIPELINE_COMMANDS = 256;
/** Entries per XRANGE page when reading back. */
const READ_PAGE_ENTRIES = 1000;
/** Keys per read pipeline. */
const READ_KEYS_PER_PIPELINE = 64;
/** Read pipelines in flight. */
const READ_WORKERS = 4;

function checkDeadline(deadlineMs: number, what: string): void {
  if (Date.now() > deadlineMs) throw new Error(`Redis: ${what} did not finish before the deadline`);
}

class RunningRedis implements RunningSystem {
  private keys: string[] = [];

  constructor(
    private readonly server: ServerProcess,
    private readonly client: Redis,
  ) {}

  get serverPid(): number {
    return this.server.pid;
  }

  serverOutput(): string {
    return this.server.output();
  }

  async prepare(topicCount: number): Promise<void> {
    // Streams are created by their first XADD; nothing to declare.
    this.keys = topicNames('bench', ':', topicCount);
    await this.client.ping();
  }

  async publishAll(total: number, body: Buffer, window: number, deadlineMs: number): Promise<void> {
    const keys = this.keys;
    const workers = Math.max(1, Math.floor(window / PIPELINE_COMMANDS));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        checkDeadline(deadlineMs, 'publishing');
        const start = next;
        const end = Math.min(total, start + PIPELINE_COMMANDS);
        next = end;
        const pipeline = this.client.pipeline();
        for (let i = start; i < end; i++) pipeline.xadd(keys[i % keys.length]!, '*', 'b', body);
        const results = await pipeline.exec();
        if (results === null) throw new Error('Redis: pipeline returned no results');
        for (const [error] of results) if (error) throw error;
      }
    };
    await Promise.all(Array.from({ length: workers }, () => worker()));
  }

  async publishOne(topicIndex: number, body: Buffer): Promise<void> {
    await this.client.xadd(this.keys[topicIndex % this.keys.length]!, '*', 'b', body);
  }

  async readAll(expected: number, deadlineMs: number): Promise<number> {
    // Work items: a key and the id to read after ('-' for the start).
    const pending: Array<{ key: string; after: string }> = this.keys.map((key) => ({
      key,
      after: '-',
    }));
    let count = 0;
    const worker = async (): Promise<void> => {
      while (pending.length > 0) {
        checkDeadline(deadlineMs, `reading (${count} of ${expected} read)`);
        const batch = pending.splice(0, READ_KEYS_PER_PIPELINE);
        const pipeline = this.client.pipeline();
        for (const item of batch) {
          pipeline.xrangeBuffer(item.key, item.after, '+', 'COUNT', READ_PAGE_ENTRIES);
        }
        const results = await pipeline.exec();
        if (results === null) throw new Error('Redis: pipeline returned no results');
        for (let i = 0; i < batch.length; i++) {
          const [error, value] = results[i]!;
          if (error) throw error;
          const entries = value as Array<[Buffer, Buffer[]]>;
          count += entries.length;
          if (entries.length === READ_PAGE_ENTRIES) {
            const lastId = entries[entries.length - 1]![0].toString('latin1');
            pending.push({ key: batch[i]!.key, after: `(${lastId}` });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: READ_WORKERS }, () => worker()));
    return count;
  }

  async stop(): Promise<void> {
    this.client.disconnect();
    await this.server.stop();
  }
}

/** Redis 7 Streams with AOF persistence. */
export const redisSystem: ComparedSystem = {
  key: 'redis',
  name: 'Redis Streams',
  unavailableReason() {
    return findBinary('redis-server') === undefined
      ? 'redis-server not found: install it with `apt-get install redis-server`'
      : undefined;
  },
  describe(durability: Durability) {
    return durability === 'async'
      ? 'redis-server, AOF on, `appendfsync everysec`, RDB snapshots off; one stream key per topic; ioredis pipelines of 256 XADD'
      : 'redis-server, AOF on, `appendfsync always` (fsync before replies), RDB snapshots off; one stream key per topic; ioredis pipelines of 256 XADD';
  },
  async start(durability: Durability, dataDir: string): Promise<RunningSystem> {
    const binary = findBinary('redis-server');
    if (binary === undefined) throw new Error(this.unavailableReason() ?? 'redis-server missing');
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const server = await startServer({
      name: 'redis-server',
      command: binary,
      args: [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        dataDir,
        '--appendonly',
        'yes',
        '--appendfsync',
        durability === 'async' ? 'everysec' : 'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
        '--logfile',
        '',
      ],
      readyText: 'Ready to accept connections',
    });
    const client = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
    });
    try {
      await client.connect();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return new RunningRedis(server, client);
  },
};
