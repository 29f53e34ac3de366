/**
 * Soak run: a broker process under a steady load of 50 % of its measured peak send rate (with a
 * consumer group reading everything) for SLUICE_SOAK_SECONDS (default 600). Every second it
 * samples the broker process: JS heap (Node diagnostic report on SIGUSR2), RSS and CPU
 * (/proc/<pid>/status, /stat), open fds (/proc/<pid>/fd; store files counted apart, they grow
 * with the log until retention) and the send latency of the last second.
 * Prints a table, writes a CSV and a JSON summary under bench/results/, and fails (exit 1) when
 * heap or fds keep growing (last fifth vs second fifth of the run, after warm-up).
 *
 *   SLUICE_SOAK=1 SLUICE_SOAK_SECONDS=60 node --expose-gc dist/bench/soak.js
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeProperties } from '../src/common/codec/properties.js';
import { RemotingClient } from '../src/net/remoting-client.js';
import {
  encodePullMessageRequestHeader,
  PullSysFlag,
} from '../src/protocol/headers/pull-message.js';
import { encodeSendMessageRequestHeaderV2 } from '../src/protocol/headers/send-message.js';
import { createRequest } from '../src/protocol/remoting-command.js';
import { RequestCode } from '../src/protocol/request-code.js';
import { ResponseCode } from '../src/protocol/response-code.js';
import { startSluice, type SluiceProcess } from '../test/support/sluice-process.js';

const TOPIC = 'SOAK';
const QUEUES = 4;
const BODY = Buffer.alloc(1024, 0x61);
const CLK_TCK = 100;
const here = dirname(fileURLToPath(import.meta.url));
const RESULTS = resolve(here, '../../bench/results');

interface Sample {
  second: number;
  heapUsedMb: number;
  rssMb: number;
  /** Open fds outside the data folder (sockets, pipes, ...): must stay flat. */
  fds: number;
  /** Open fds of store files (segments, queues, indexes): grow with the log until retention. */
  storeFds: number;
  cpuPercent: number;
  sent: number;
  consumed: number;
  p50Ms: number;
  p99Ms: number;
}

function sendOnce(client: RemotingClient, addr: string, queueId: number): Promise<number> {
  const start = performance.now();
  const ext = encodeSendMessageRequestHeaderV2({
    producerGroup: 'PG',
    topic: TOPIC,
    defaultTopic: 'TBW102',
    defaultTopicQueueNums: QUEUES,
    queueId,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    flag: 0,
    properties: encodeProperties({ TAGS: 'soak' }),
  });
  return client
    .invoke(addr, createRequest(RequestCode.SEND_MESSAGE_V2, { extFields: ext, body: BODY }), 5_000)
    .then((r) => {
      if (r.code !== ResponseCode.SUCCESS) throw new Error(`send failed: ${r.code} ${r.remark}`);
      return performance.now() - start;
    });
}

/** Sends with `inFlight` concurrent loops for `ms`; returns messages per second. */
async function measurePeak(
  client: RemotingClient,
  addr: string,
  ms: number,
  inFlight: number,
): Promise<number> {
  let count = 0;
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, i) => {
      while (Date.now() < end) {
        await sendOnce(client, addr, (i + count) % QUEUES);
        count++;
      }
    }),
  );
  return (count * 1000) / ms;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Open fds of `pid`: [outside the data folder, inside it]. */
function countFds(pid: number, dataDir: string): [number, number] {
  let other = 0;
  let store = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (target.startsWith(dataDir)) store++;
    else other++;
  }
  return [other, store];
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** JS heap used by the broker: asks it for a diagnostic report (SIGUSR2) and reads it. */
async function heapUsedMb(broker: SluiceProcess, reportDir: string): Promise<number> {
  broker.child.kill('SIGUSR2');
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const files = readdirSync(reportDir).filter((f) => f.endsWith('.json'));
    for (const f of files) {
      try {
        const report = JSON.parse(readFileSync(join(reportDir, f), 'utf8')) as {
          javascriptHeap: { usedMemory: number };
        };
        rmSync(join(reportDir, f));
        return report.javascriptHeap.usedMemory / (1024 * 1024);
      } catch {
        // still being written
      }
    }
  }
  return Number.NaN;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main(): Promise<number> {
  if (process.env.SLUICE_SOAK !== '1') {
    console.log(
      'soak: set SLUICE_SOAK=1 to run (npm run bench:soak); SLUICE_SOAK_SECONDS sets the duration',
    );
    return 0;
  }
  const seconds = Number(process.env.SLUICE_SOAK_SECONDS ?? 600);
  const reportDir = mkdtempSync(join(tmpdir(), 'sluice-soak-reports-'));
  const broker = await startSluice({
    env: {
      NODE_OPTIONS: `--report-on-signal --report-signal=SIGUSR2 --report-compact --report-directory=${reportDir}`,
    },
  });
  const pid = broker.child.pid!;
  const client = new RemotingClient();
  const samples: Sample[] = [];
  try {
    const peak = await measurePeak(client, broker.brokerAddr, 5_000, 32);
    const rate = Math.max(1, Math.round(peak / 2));
    console.log(
      `peak ${peak.toFixed(0)} msg/s (1 KiB, 32 in flight); soaking at ${rate} msg/s for ${seconds} s`,
    );
    let running = true;
    let sent = 0;
    let consumed = 0;
    let latencies: number[] = [];
    let failures = 0;
    // Producer: a 10 ms tick releases rate/100 sends (fractions carried over).
    let credit = 0;
    const tick = setInterval(() => {
      credit += rate / 100;
      while (credit >= 1) {
        credit -= 1;
        sendOnce(client, broker.brokerAddr, sent++ % QUEUES).then(
          (ms) => latencies.push(ms),
          () => failures++,
        );
      }
    }, 10);
    // Consumer group: pulls every queue from its offset, commits by nextBeginOffset locally.
    const next = new Array<number>(QUEUES).fill(0);
    const consumer = (async () => {
      while (running) {
        let got = 0;
        for (let q = 0; q < QUEUES; q++) {
          const r = await client.invoke(
            broker.brokerAddr,
            createRequest(RequestCode.PULL_MESSAGE, {
              extFields: encodePullMessageRequestHeader({
                consumerGroup: 'SOAK_GROUP',
                topic: TOPIC,
                queueId: q,
                queueOffset: next[q]!,
                maxMsgNums: 32,
                sysFlag: PullSysFlag.SUBSCRIPTION,
                commitOffset: 0,
                suspendTimeoutMillis: 0,
                subscription: '*',
                subVersion: 0,
              }),
            }),
            5_000,
          );
          if (r.code === ResponseCode.SUCCESS) {
            const n = Number(r.extFields.nextBeginOffset) - next[q]!;
            next[q] = Number(r.extFields.nextBeginOffset);
            consumed += n;
            got += n;
          }
        }
        if (got === 0) await new Promise((res) => setTimeout(res, 5));
      }
    })();
    let lastTicks = cpuTicks(pid);
    let lastAt = performance.now();
    console.log('   s  heapMB   rssMB  fds storeFds  cpu%    sent/s  consumed/s  p50ms  p99ms');
    for (let s = 1; s <= seconds; s++) {
      await new Promise((r) => setTimeout(r, 1000 - ((performance.now() - lastAt) % 1000)));
      const ticks = cpuTicks(pid);
      const now = performance.now();
      const sorted = latencies.sort((a, b) => a - b);
      latencies = [];
      const [fds, storeFds] = countFds(pid, broker.dataDir);
      const sample: Sample = {
        second: s,
        heapUsedMb: await heapUsedMb(broker, reportDir),
        rssMb: rssMb(pid),
        fds,
        storeFds,
        cpuPercent: (((ticks - lastTicks) / CLK_TCK) * 100_000) / (now - lastAt),
        sent: sorted.length,
        consumed,
        p50Ms: quantile(sorted, 0.5),
        p99Ms: quantile(sorted, 0.99),
      };
      consumed = 0;
      lastTicks = ticks;
      lastAt = now;
      samples.push(sample);
      console.log(
        `${String(s).padStart(4)} ${sample.heapUsedMb.toFixed(1).padStart(7)} ${sample.rssMb.toFixed(1).padStart(7)} ${String(sample.fds).padStart(4)} ${String(sample.storeFds).padStart(8)} ${sample.cpuPercent.toFixed(0).padStart(5)} ${String(sample.sent).padStart(9)} ${String(sample.consumed).padStart(11)} ${sample.p50Ms.toFixed(2).padStart(6)} ${sample.p99Ms.toFixed(2).padStart(6)}`,
      );
    }
    running = false;
    clearInterval(tick);
    await consumer;
    // Growth check: compare the second fifth (after warm-up) with the last fifth.
    const fifth = Math.max(1, Math.floor(samples.length / 5));
    const early = samples.slice(fifth, 2 * fifth);
    const late = samples.slice(-fifth);
    const heapGrowthMb = mean(late.map((x) => x.heapUsedMb)) - mean(early.map((x) => x.heapUsedMb));
    const fdGrowth = mean(late.map((x) => x.fds)) - mean(early.map((x) => x.fds));
    const rssGrowthMb = mean(late.map((x) => x.rssMb)) - mean(early.map((x) => x.rssMb));
    const allLat = samples.map((x) => x.p99Ms).sort((a, b) => a - b);
    const summary = {
      seconds,
      peakMsgPerSec: Math.round(peak),
      targetMsgPerSec: rate,
      sendFailures: failures,
      heapEarlyMb: mean(early.map((x) => x.heapUsedMb)),
      heapLateMb: mean(late.map((x) => x.heapUsedMb)),
      heapGrowthMb,
      rssGrowthMb,
      fdGrowth,
      maxFds: Math.max(...samples.map((x) => x.fds)),
      maxStoreFds: Math.max(...samples.map((x) => x.storeFds)),
      sentPerSec: mean(samples.map((x) => x.sent)),
      meanCpuPercent: mean(samples.map((x) => x.cpuPercent)),
      medianOfSecondP99Ms: quantile(allLat, 0.5),
      worstSecondP99Ms: allLat[allLat.length - 1] ?? 0,
      pass: heapGrowthMb < 20 && fdGrowth < 5 && failures === 0,
    };
    mkdirSync(RESULTS, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const csv = join(RESULTS, `soak-${stamp}.csv`);
    writeFileSync(
      csv,
      'second,heapUsedMb,rssMb,fds,storeFds,cpuPercent,sent,consumed,p50Ms,p99Ms\n' +
        samples
          .map((x) =>
            Object.values(x)
              .map((v) => (typeof v === 'number' ? +v.toFixed(3) : v))
              .join(','),
          )
          .join('\n') +
        '\n',
    );
    writeFileSync(join(RESULTS, `soak-${stamp}.json`), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(JSON.stringify(summary, null, 2));
    console.log(`samples: ${csv}`);
    return summary.pass ? 0 : 1;
  } finally {
    client.close();
    await broker.stop();
    broker.cleanup();
    rmSync(reportDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
