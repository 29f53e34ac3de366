/**
 * Sluice as a compared system: `sluice start` (name server + broker in one process) with its
 * data on the work disk, async or sync flush; topics created over the wire with the SDK's
 * `Admin.createTopic` (UPDATE_AND_CREATE_TOPIC), one queue each (one ordered log per topic, like
 * a Redis stream key or a JetStream subject); published with the SDK's `Producer.send` (many
 * sends outstanding) and read back with pulls at known offsets.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '../../src/client/admin.js';
import { Producer } from '../../src/client/producer.js';
import { decodeMessages } from '../../src/client/received-message.js';
import { messageQueue } from '../../src/client/message-queue.js';
import type { Message } from '../../src/client/message.js';
import { PullSysFlag } from '../../src/protocol/headers/pull-message.js';
import { topicNames, type ComparedSystem, type Durability, type RunningSystem } from './config.js';
import { freePort, startServer, type ServerProcess } from './server-process.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, found from dist/bench/compare. */
const CLI_PATH = resolve(here, '../../src/cli/main.js');

/** Queues per topic. */
const QUEUES_PER_TOPIC = 1;
/**
 * Messages per pull: 1,000, as the peers read (Redis XRANGE COUNT 1000, JetStream fetch
 * 1000). The broker's default limit is RocketMQ's 32 per pull; the benchmark raises it with
 * the RocketMQ setting a user would change for bulk reads (see {@link brokerArgs}).
 */
const PULL_BATCH = 1000;
/** Most bytes one pull may return (the broker's setting; 1,000 records of ~1.1 KiB fit). */
const PULL_MAX_BYTES = 4 * 1024 * 1024;
/** Pulls in flight while reading back. */
const READ_PULLS_IN_FLIGHT = 16;
/** Topic creations and route lookups in flight while preparing. */
const PREPARE_IN_FLIGHT = 32;
const REQUEST_TIMEOUT_MS = 30_000;
const READER_GROUP = 'bench_reader';

/**
 * Sluice's broker settings for the benchmark: the defaults, plus the flush mode and a pull
 * limit of {@link PULL_BATCH} messages (`maxTransferCountOnMessageInMemory`).
 */
function brokerArgs(durability: Durability, dataDir: string, nsPort: number, port: number) {
  return [
    CLI_PATH,
    'start',
    '--namesrv-port',
    String(nsPort),
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--http-port',
    '0',
    '--data',
    dataDir,
    '--flush',
    durability,
    '--set',
    `maxTransferCountOnMessageInMemory=${PULL_BATCH}`,
    '--set',
    `maxTransferBytesOnMessageInMemory=${PULL_MAX_BYTES}`,
  ];
}

/**
 * `--cpu-prof` flags for the broker when `SLUICE_BENCH_CPU_PROF` names a folder: each Sluice
 * server then writes a .cpuprofile there when it stops (open in Chrome DevTools).
 */
function profileArgs(): string[] {
  const dir = process.env.SLUICE_BENCH_CPU_PROF;
  if (dir === undefined || dir === '') return [];
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`];
}

/** Runs `task` for every item, {@link PREPARE_IN_FLIGHT} at a time. */
async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: PREPARE_IN_FLIGHT }, () => worker()));
}

class RunningSluice implements RunningSystem {
  private topics: string[] = [];
  /** One message object per topic, reused for every send to it. */
  private messages: Message[] = [];

  constructor(
    private readonly server: ServerProcess,
    private readonly producer: Producer,
    private readonly admin: Admin,
    private readonly brokerAddr: string,
  ) {}

  get serverPid(): number {
    return this.server.pid;
  }

  serverOutput(): string {
    return this.server.output();
  }

  async prepare(topicCount: number): Promise<void> {
    this.topics = topicNames('bench', '-', topicCount);
    this.messages = this.topics.map((topic) => ({ topic, body: Buffer.alloc(0) }));
    // Created as a user would: UPDATE_AND_CREATE_TOPIC on the broker (which registers the new
    // topics with the name server before answering), then every route fetched once (the
    // producer would do that on its first send anyway).
    await inParallel(this.topics, async (topic) => {
      await this.admin.createTopic(topic, {
        brokerAddr: this.brokerAddr,
        queueNums: QUEUES_PER_TOPIC,
        waitForRouteMs: 0,
      });
    });
    await inParallel(this.topics, async (topic) => {
      if ((await this.producer.client.route(topic)) === undefined) {
        throw new Error(`Sluice: the name server has no route for ${topic}`);
      }
    });
  }

  private message(topicIndex: number, body: Buffer): Message {
    const msg = this.messages[topicIndex % this.messages.length]!;
    msg.body = body;
    return msg;
  }

  async publishAll(total: number, body: Buffer, window: number, deadlineMs: number): Promise<void> {
    let next = 0;
    let failure: unknown;
    // `window` senders, each with one send outstanding: `window` unacknowledged in all.
    const worker = async (): Promise<void> => {
      while (next < total && failure === undefined) {
        if (Date.now() > deadlineMs) throw new Error('Sluice: publishing did not finish in time');
        const i = next++;
        try {
          await this.producer.send(this.message(i, body), { timeoutMs: REQUEST_TIMEOUT_MS });
        } catch (error) {
          failure = error;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, total) }, () => worker()));
  }

  async publishOne(topicIndex: number, body: Buffer): Promise<void> {
    await this.producer.send(this.message(topicIndex, body), { timeoutMs: REQUEST_TIMEOUT_MS });
  }

  async readAll(expected: number, deadlineMs: number): Promise<number> {
    const api = this.producer.client.api;
    const brokerName = (await this.producer.client.route(this.topics[0]!))?.brokerDatas[0]
      ?.brokerName;
    if (brokerName === undefined) throw new Error('Sluice: no route for the benchmark topics');
    // The ConsumeQueues are written behind the log: wait (bounded) until they hold everything.
    const queues = this.topics.flatMap((topic) =>
      Array.from({ length: QUEUES_PER_TOPIC }, (_, queueId) => ({ topic, queueId, max: 0 })),
    );
    for (;;) {
      let indexed = 0;
      let cursor = 0;
      const offsetWorker = async (): Promise<void> => {
        while (cursor < queues.length) {
          const q = queues[cursor++]!;
          const mq = messageQueue(q.topic, brokerName, q.queueId);
          q.max = await api.getMaxOffset(this.brokerAddr, mq, REQUEST_TIMEOUT_MS);
          indexed += q.max;
        }
      };
      await Promise.all(Array.from({ length: READ_PULLS_IN_FLIGHT }, () => offsetWorker()));
      if (indexed >= expected) break;
      if (Date.now() > deadlineMs) break;
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }
    // Work items: (topic, queue, offset) pulls of PULL_BATCH, issued ahead of the answers.
    const work: Array<{ topic: string; queueId: number; offset: number; max: number }> = [];
    for (const q of queues) {
      for (let offset = 0; offset < q.max; offset += PULL_BATCH) {
        work.push({ topic: q.topic, queueId: q.queueId, offset, max: q.max });
      }
    }
    let cursor = 0;
    let count = 0;
    const worker = async (): Promise<void> => {
      while (cursor < work.length) {
        if (Date.now() > deadlineMs) {
          throw new Error(`Sluice: reading did not finish in time (${count} of ${expected})`);
        }
        const item = work[cursor++]!;
        let offset = item.offset;
        const end = Math.min(item.max, item.offset + PULL_BATCH);
        // A pull may return fewer than asked (byte limit): continue until the slice is read.
        while (offset < end) {
          const result = await api.pullMessage(
            this.brokerAddr,
            {
              consumerGroup: READER_GROUP,
              topic: item.topic,
              queueId: item.queueId,
              queueOffset: offset,
              maxMsgNums: end - offset,
              sysFlag: PullSysFlag.SUBSCRIPTION,
              commitOffset: 0,
              suspendTimeoutMillis: 0,
              subscription: '*',
              subVersion: 0,
              expressionType: 'TAG',
            },
            REQUEST_TIMEOUT_MS,
          );
          if (result.status !== 'FOUND') {
            throw new Error(
              `Sluice: pull ${item.topic}:${item.queueId}@${offset}: ${result.status}`,
            );
          }
          const received = decodeMessages(result.body, undefined, brokerName);
          count += received.length;
          if (result.nextBeginOffset <= offset) throw new Error('Sluice: pull made no progress');
          offset = result.nextBeginOffset;
        }
      }
    };
    await Promise.all(Array.from({ length: READ_PULLS_IN_FLIGHT }, () => worker()));
    return count;
  }

  async stop(): Promise<void> {
    await this.admin.shutdown().catch(() => undefined);
    await this.producer.shutdown().catch(() => undefined);
    await this.server.stop(30_000);
  }
}

/** Sluice started as a process through its CLI. */
export const sluiceSystem: ComparedSystem = {
  key: 'sluice',
  name: 'Sluice',
  unavailableReason() {
    return undefined;
  },
  describe(durability: Durability) {
    return durability === 'async'
      ? `\`sluice start --flush async\` (mmap CommitLog, background flush every 500 ms), broker defaults otherwise except maxTransferCountOnMessageInMemory=${PULL_BATCH}; one queue per topic, created with SDK Admin.createTopic (UPDATE_AND_CREATE_TOPIC); SDK Producer.send with a window of outstanding sends; pulls of ${PULL_BATCH} at known offsets, ${READ_PULLS_IN_FLIGHT} in flight`
      : `\`sluice start --flush sync\` (group commit: acknowledged after the CommitLog is flushed), broker defaults otherwise except maxTransferCountOnMessageInMemory=${PULL_BATCH}; one queue per topic, created with SDK Admin.createTopic (UPDATE_AND_CREATE_TOPIC); SDK Producer.send with a window of outstanding sends; pulls of ${PULL_BATCH} at known offsets, ${READ_PULLS_IN_FLIGHT} in flight`;
  },
  async start(durability: Durability, dataDir: string): Promise<RunningSystem> {
    mkdirSync(dataDir, { recursive: true });
    const nsPort = await freePort();
    const port = await freePort();
    const server = await startServer({
      name: 'sluice',
      command: process.execPath,
      args: [...profileArgs(), ...brokerArgs(durability, dataDir, nsPort, port)],
      readyText: 'Sluice is ready',
      env: { ...process.env, SLUICE_LOG_LEVEL: process.env.SLUICE_LOG_LEVEL ?? 'warn' },
    });
    const producer = new Producer({
      nameServer: `127.0.0.1:${nsPort}`,
      group: 'bench_producer',
      sendTimeoutMs: REQUEST_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      onError: (error) => process.stderr.write(`    sluice client: ${error.message}\n`),
    });
    const admin = new Admin({
      nameServer: `127.0.0.1:${nsPort}`,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    try {
      await producer.start();
      await admin.start();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return new RunningSluice(server, producer, admin, `127.0.0.1:${port}`);
  },
};
