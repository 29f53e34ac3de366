/**
 * Sluice as a compared system: `sluice start` (name server + broker in one process) with its
 * data on the work disk, async or sync flush; topics created over the wire with the SDK's
 * `Admin.createTopic` (UPDATE_AND_CREATE_TOPIC), one queue each (one ordered log per topic, like
 * a Redis stream key or a JetStream subject); published with the SDK's `Producer.send` (many
 * sends outstanding) and read back with pulls (one per queue to learn its end, in groups issued
 * together, then slices of it in parallel).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '../../src/client/admin.js';
import { Producer } from '../../src/client/producer.js';
import { decodeMessages } from '../../src/client/received-message.js';
import type { Message } from '../../src/client/message.js';
import { plainPullHeader } from '../plain-pull.js';
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
/** Pulls in flight while reading back the rest of each queue (after its first pull). */
const READ_PULLS_IN_FLIGHT = 16;
/** First pulls (one per queue) issued together, and such groups in flight (as the Redis reader). */
const FIRST_PULLS_PER_GROUP = 64;
const FIRST_PULL_GROUPS_IN_FLIGHT = 4;
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
    ...extraBrokerArgs(),
  ];
}

/**
 * Extra `sluice start` arguments from `SLUICE_BENCH_BROKER_ARGS` (space-separated, e.g.
 * `--backend file` or `--set warmMappedFileEnable=false`), for comparing broker settings; none
 * by default. The report's description of the system lists them.
 */
function extraBrokerArgs(): string[] {
  return spaceSeparatedEnv('SLUICE_BENCH_BROKER_ARGS');
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

/**
 * Extra Node.js flags for the broker from `SLUICE_BENCH_NODE_FLAGS` (space-separated, e.g.
 * `--trace-gc --cpu-prof-interval=100`), for looking into a cell; none by default.
 */
function extraNodeFlags(): string[] {
  return spaceSeparatedEnv('SLUICE_BENCH_NODE_FLAGS');
}

/** The space-separated words of environment variable `name` (none when it is unset). */
function spaceSeparatedEnv(name: string): string[] {
  return (process.env[name] ?? '').split(' ').filter((word) => word !== '');
}

/** Runs `task` for every item, `inFlight` at a time. */
async function inParallel<T>(
  inFlight: number,
  items: readonly T[],
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: inFlight }, () => worker()));
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
    await inParallel(PREPARE_IN_FLIGHT, this.topics, async (topic) => {
      await this.admin.createTopic(topic, {
        brokerAddr: this.brokerAddr,
        queueNums: QUEUES_PER_TOPIC,
        waitForRouteMs: 0,
      });
    });
    await inParallel(PREPARE_IN_FLIGHT, this.topics, async (topic) => {
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
    const brokerAddr = this.brokerAddr;
    let count = 0;
    /**
     * Pulls [from, end) of one queue (less when the queue ends first); returns the next offset
     * and the queue's max offset as the broker last reported it.
     */
    const pullRange = async (
      topic: string,
      queueId: number,
      from: number,
      end: number,
    ): Promise<{ next: number; max: number }> => {
      let offset = from;
      let max = end;
      while (offset < end) {
        if (Date.now() > deadlineMs) {
          throw new Error(`Sluice: reading did not finish in time (${count} of ${expected})`);
        }
        const result = await api.pullMessage(
          brokerAddr,
          plainPullHeader(READER_GROUP, topic, queueId, offset, Math.min(PULL_BATCH, end - offset)),
          REQUEST_TIMEOUT_MS,
        );
        max = result.maxOffset;
        if (result.status === 'NO_NEW_MSG') break;
        if (result.status !== 'FOUND') {
          throw new Error(`Sluice: pull ${topic}:${queueId}@${offset}: ${result.status}`);
        }
        count += decodeMessages(result.body, undefined, brokerName).length;
        if (result.nextBeginOffset <= offset) throw new Error('Sluice: pull made no progress');
        offset = result.nextBeginOffset;
        if (offset >= max) break;
      }
      return { next: offset, max };
    };
    // Each round first pulls one batch from every queue's cursor: the answer carries the
    // queue's max offset, so no separate offset queries are needed (at 10,000 topics that is
    // one request per topic, as a consumer makes). The rest of each queue is then read in
    // PULL_BATCH slices, READ_PULLS_IN_FLIGHT at a time. The ConsumeQueues are written behind
    // the log: while the total is short, another round continues from the cursors.
    const cursors = this.topics.flatMap((topic) =>
      Array.from({ length: QUEUES_PER_TOPIC }, (_, queueId) => ({ topic, queueId, offset: 0 })),
    );
    const groups: Array<typeof cursors> = [];
    for (let i = 0; i < cursors.length; i += FIRST_PULLS_PER_GROUP) {
      groups.push(cursors.slice(i, i + FIRST_PULLS_PER_GROUP));
    }
    for (;;) {
      const rest: Array<{ topic: string; queueId: number; from: number; end: number }> = [];
      // The first pulls go out in groups (issued together, so they share a socket write), a few
      // groups at a time: the way the Redis reader pipelines XRANGEs over many keys.
      await inParallel(FIRST_PULL_GROUPS_IN_FLIGHT, groups, async (group) => {
        await Promise.all(
          group.map(async (c) => {
            const first = await pullRange(c.topic, c.queueId, c.offset, c.offset + PULL_BATCH);
            for (let from = first.next; from < first.max; from += PULL_BATCH) {
              rest.push({
                topic: c.topic,
                queueId: c.queueId,
                from,
                end: Math.min(first.max, from + PULL_BATCH),
              });
            }
            c.offset = Math.max(c.offset, first.max);
          }),
        );
      });
      await inParallel(READ_PULLS_IN_FLIGHT, rest, async (r) => {
        await pullRange(r.topic, r.queueId, r.from, r.end);
      });
      if (count >= expected || Date.now() > deadlineMs) return count;
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }
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
    const flush =
      durability === 'async'
        ? '`sluice start --flush async` (mmap CommitLog, background flush every 500 ms)'
        : '`sluice start --flush sync` (group commit: acknowledged after the CommitLog is flushed)';
    const extra = extraBrokerArgs();
    const started = extra.length > 0 ? `${flush} with \`${extra.join(' ')}\`` : flush;
    return `${started}, broker defaults otherwise except maxTransferCountOnMessageInMemory=${PULL_BATCH}; one queue per topic, created with SDK Admin.createTopic (UPDATE_AND_CREATE_TOPIC); SDK Producer.send with a window of outstanding sends; pulls of up to ${PULL_BATCH}: first one per queue, ${FIRST_PULLS_PER_GROUP} issued together, ${FIRST_PULL_GROUPS_IN_FLIGHT} such groups in flight (as the Redis reader pipelines XRANGE), then the rest of each queue in slices, ${READ_PULLS_IN_FLIGHT} in flight`;
  },
  async start(durability: Durability, dataDir: string): Promise<RunningSystem> {
    mkdirSync(dataDir, { recursive: true });
    const nsPort = await freePort();
    const port = await freePort();
    const server = await startServer({
      name: 'sluice',
      command: process.execPath,
      args: [
        ...extraNodeFlags(),
        ...profileArgs(),
        ...brokerArgs(durability, dataDir, nsPort, port),
      ],
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
