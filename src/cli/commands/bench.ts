/**
 * `sluice bench produce|consume`: a load generator with a live progress line (rate, total,
 * p99 latency from an HDR histogram) and a summary at the end.
 */
import type { Command } from 'commander';
import { build, type Histogram } from 'hdr-histogram-js';
import { PushConsumer } from '../../client/push-consumer.js';
import { Producer } from '../../client/producer.js';
import { operatorCommand, out, parseCount, printJson, type CommonFlags } from './admin-common.js';

interface BenchFlags extends CommonFlags {
  topic: string;
  group?: string;
  size?: string;
  count?: string;
  duration?: string;
  concurrency?: string;
  tag?: string;
  fromBeginning?: boolean;
  quiet?: boolean;
}

/** Summary of a run. */
interface BenchSummary {
  mode: 'produce' | 'consume';
  topic: string;
  messages: number;
  errors: number;
  elapsedSeconds: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

function newHistogram(): Histogram {
  // microseconds, up to one hour
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

function ms(h: Histogram, percentile: number): number {
  return Math.round(h.getValueAtPercentile(percentile) / 10) / 100;
}

function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`--duration "${text}" is not a duration (e.g. 30s, 2m, 500ms)`);
  const unit = m[2] ?? 's';
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

/** Prints the live line every second and returns a stop function. */
function progress(
  label: string,
  quiet: boolean | undefined,
  read: () => { total: number; h: Histogram },
): () => void {
  let lastTotal = 0;
  let lastMs = performance.now();
  const tty = process.stderr.isTTY;
  const timer = setInterval(() => {
    const { total, h } = read();
    const now = performance.now();
    const rate = ((total - lastTotal) * 1000) / (now - lastMs);
    lastTotal = total;
    lastMs = now;
    if (quiet) return;
    const line = `${label}: ${Math.round(rate).toLocaleString('en-US')} msg/s  total ${total.toLocaleString('en-US')}  p99 ${ms(h, 99)} ms`;
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  }, 1000);
  return () => {
    clearInterval(timer);
    if (tty && !quiet) process.stderr.write('\n');
  };
}

function summarize(
  mode: BenchSummary['mode'],
  topic: string,
  messages: number,
  errors: number,
  bytes: number,
  startMs: number,
  h: Histogram,
): BenchSummary {
  const elapsedSeconds = (performance.now() - startMs) / 1000;
  return {
    mode,
    topic,
    messages,
    errors,
    elapsedSeconds: Math.round(elapsedSeconds * 1000) / 1000,
    messagesPerSecond: Math.round(messages / elapsedSeconds),
    bytesPerSecond: Math.round(bytes / elapsedSeconds),
    latencyMs: {
      p50: ms(h, 50),
      p90: ms(h, 90),
      p99: ms(h, 99),
      p999: ms(h, 99.9),
      max: Math.round(h.maxValue / 10) / 100,
    },
  };
}

function printSummary(s: BenchSummary, json: boolean | undefined): void {
  if (json) {
    printJson(s);
    return;
  }
  out(
    `${s.mode} ${s.topic}: ${s.messages} messages in ${s.elapsedSeconds} s = ${s.messagesPerSecond} msg/s, ${(s.bytesPerSecond / 1048576).toFixed(2)} MiB/s, ${s.errors} errors`,
  );
  out(
    `latency ms: p50 ${s.latencyMs.p50}  p90 ${s.latencyMs.p90}  p99 ${s.latencyMs.p99}  p99.9 ${s.latencyMs.p999}  max ${s.latencyMs.max}`,
  );
}

/** Registers `bench produce` and `bench consume`. */
export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('load generators');

  operatorCommand(
    bench
      .command('produce')
      .description(
        'send messages as fast as the given concurrency allows; latency = send round trip',
      )
      .requiredOption('-t, --topic <topic>', 'target topic')
      .option('-s, --size <bytes>', 'body size', '128')
      .option('-c, --count <n>', 'messages to send (default: until --duration, else 10000)')
      .option('-d, --duration <time>', 'run this long (30s, 2m)')
      .option('--concurrency <n>', 'sends in flight', '16')
      .option('--tag <tag>', 'tag of every message')
      .option('-q, --quiet', 'no progress line'),
    'sluice bench produce --topic bench --size 1024 --duration 30s --concurrency 32',
  ).action(async (flags: BenchFlags) => {
    const size = parseCount(flags.size, '--size', 128);
    const durationMs = parseDuration(flags.duration);
    const count =
      flags.count !== undefined
        ? parseCount(flags.count, '--count', 1)
        : durationMs
          ? Infinity
          : 10_000;
    const concurrency = parseCount(flags.concurrency, '--concurrency', 16);
    const body = Buffer.alloc(size, 0x61);
    const producer = new Producer({
      nameServer: flags.namesrv,
      group: 'SLUICE_BENCH_PRODUCER',
      onError: () => undefined,
    });
    await producer.start();
    const h = newHistogram();
    let sent = 0;
    let started = 0;
    let errors = 0;
    const startMs = performance.now();
    const deadline = durationMs ? startMs + durationMs : Infinity;
    const stop = progress('produce', flags.quiet, () => ({ total: sent, h }));
    const worker = async (): Promise<void> => {
      while (started < count && performance.now() < deadline) {
        started++;
        const t0 = performance.now();
        try {
          await producer.send({ topic: flags.topic, body, tags: flags.tag });
          h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
          sent++;
        } catch {
          errors++;
          if (errors > 100 && sent === 0)
            throw new Error(
              `every send to ${flags.topic} fails; is the topic there and the broker up?`,
            );
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      stop();
      await producer.shutdown();
    }
    printSummary(
      summarize('produce', flags.topic, sent, errors, sent * size, startMs, h),
      flags.json,
    );
  });

  operatorCommand(
    bench
      .command('consume')
      .description('consume with a push consumer; latency = receive time - store time')
      .requiredOption('-t, --topic <topic>', 'topic')
      .option('-g, --group <group>', 'consumer group', 'SLUICE_BENCH_CONSUMER')
      .option('-c, --count <n>', 'stop after this many messages')
      .option('-d, --duration <time>', 'run this long (default 30s)')
      .option('--from-beginning', 'a new group starts at the oldest message (default: newest)')
      .option('-q, --quiet', 'no progress line'),
    'sluice bench consume --topic bench --group bench-consumers --count 100000 --from-beginning',
  ).action(async (flags: BenchFlags) => {
    const count = flags.count !== undefined ? parseCount(flags.count, '--count', 1) : Infinity;
    const durationMs =
      parseDuration(flags.duration) ?? (Number.isFinite(count) ? 3_600_000 : 30_000);
    const h = newHistogram();
    let received = 0;
    let bytes = 0;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((r) => (finish = r));
    const consumer = new PushConsumer({
      nameServer: flags.namesrv,
      group: flags.group ?? 'SLUICE_BENCH_CONSUMER',
      consumeFrom: flags.fromBeginning ? 'FIRST_OFFSET' : 'LAST_OFFSET',
      onError: () => undefined,
      handler: (msg) => {
        received++;
        bytes += msg.body.length;
        h.recordValue(Math.max(1, (Date.now() - msg.storeTimestampMs) * 1000));
        if (received >= count) finish();
      },
    });
    consumer.subscribe(flags.topic, flags.tag ?? '*');
    const startMs = performance.now();
    await consumer.start();
    const stop = progress('consume', flags.quiet, () => ({ total: received, h }));
    const timer = setTimeout(finish, durationMs);
    await finished;
    clearTimeout(timer);
    stop();
    const summary = summarize('consume', flags.topic, received, 0, bytes, startMs, h);
    await consumer.shutdown();
    printSummary(summary, flags.json);
  });
}
