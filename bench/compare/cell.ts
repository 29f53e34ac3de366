/**
 * One run of one cell (system × durability × topic count): start the server on a fresh data
 * folder, create the topics, warm up (at least one message to every topic, unmeasured), send an
 * unmeasured lead-in at the latency phase's fixed rate, measure publish latency at that rate,
 * publish the throughput batch, read everything back, stop the server, delete its data.
 */
import hdr from 'hdr-histogram-js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchSettings, ComparedSystem, Durability, RunningSystem } from './config.js';
import { processCpuSeconds, processMinorFaults } from './server-process.js';

/** Figures of one run of one cell. */
export interface CellSample {
  publishMsgsPerSec: number;
  publishMBPerSec: number;
  readMsgsPerSec: number;
  /** Publish latency percentiles at the fixed rate, in milliseconds. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Server CPU seconds (user + system) per 100,000 messages published. */
  publishCpuSecPer100k: number;
  /** Server minor page faults per 100,000 messages published (a diagnostic, console only). */
  publishFaultsPer100k: number;
  /** Server CPU seconds per 100,000 messages read back. */
  readCpuSecPer100k: number;
  /** Messages read back, and how many were expected. */
  readCount: number;
  expectedCount: number;
  /** Seconds `prepare` took (topic creation; for Sluice over the wire). */
  prepareSec: number;
}

const MB = 1024 * 1024;

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/**
 * Waits until the server process is idle (under 10 % of a core over 500 ms), at most
 * `maxWaitMs`: start-up work (e.g. pre-faulting a fresh log segment) must not land in the
 * measured phases. Applied to every system alike.
 */
async function waitForIdleServer(pid: number, maxWaitMs: number): Promise<void> {
  const windowMs = 500;
  const endMs = Date.now() + maxWaitMs;
  let before = processCpuSeconds(pid);
  while (Date.now() < endMs) {
    await sleep(windowMs);
    const now = processCpuSeconds(pid);
    if (now - before < (0.1 * windowMs) / 1000) return;
    before = now;
  }
}

/**
 * Sends `count` messages at `ratePerSec`, round-robin over the topics, each timed from its
 * scheduled send time to its acknowledgement (so a stall also delays the messages queued behind
 * it: no coordinated omission). Returns [p50, p99] in milliseconds. `firstTopic` lets a second
 * call continue the round-robin where a first one stopped.
 */
async function measureLatency(
  system: RunningSystem,
  topicCount: number,
  body: Buffer,
  count: number,
  ratePerSec: number,
  deadlineMs: number,
  firstTopic = 0,
): Promise<[number, number]> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const intervalMs = 1000 / ratePerSec;
  const startMs = performance.now();
  let sent = 0;
  let acked = 0;
  let failure: unknown;
  const onAck = (scheduledMs: number): void => {
    histogram.recordValue(Math.max(1, Math.round((performance.now() - scheduledMs) * 1000)));
    acked++;
  };
  while (sent < count) {
    if (failure !== undefined) throw failure;
    if (Date.now() > deadlineMs) throw new Error('latency phase did not finish in time');
    const dueCount = Math.min(count, Math.floor((performance.now() - startMs) / intervalMs) + 1);
    while (sent < dueCount) {
      const scheduledMs = startMs + sent * intervalMs;
      system.publishOne((firstTopic + sent) % topicCount, body).then(
        () => onAck(scheduledMs),
        (error: unknown) => (failure = error),
      );
      sent++;
    }
    await sleep(1);
  }
  while (acked < count) {
    if (failure !== undefined) throw failure;
    if (Date.now() > deadlineMs) throw new Error('latency phase: acknowledgements missing');
    await sleep(1);
  }
  const p50 = histogram.getValueAtPercentile(50) / 1000;
  const p99 = histogram.getValueAtPercentile(99) / 1000;
  histogram.destroy();
  return [p50, p99];
}

/** Runs one cell once and returns its figures; the server is always stopped and data deleted. */
export async function runCell(
  compared: ComparedSystem,
  durability: Durability,
  topicCount: number,
  runIndex: number,
  settings: BenchSettings,
): Promise<CellSample> {
  const dataDir = join(
    settings.dataRoot,
    `${compared.key}-${durability}-${topicCount}-${runIndex}-${process.pid}`,
  );
  rmSync(dataDir, { recursive: true, force: true });
  const body = Buffer.alloc(settings.bodyBytes, 0x61);
  const system = await compared.start(durability, dataDir, topicCount);
  try {
    const prepareStart = performance.now();
    await system.prepare(topicCount);
    const prepareSec = (performance.now() - prepareStart) / 1000;
    // Warm-up, not measured: opens every connection, touches every topic once (a system's first
    // write to a topic creates its files/keys) and lets the JIT compile the publish path. Without
    // it the latency phase times connection set-up and first-write work, not steady state.
    const warmupCount = Math.max(settings.warmupMessages, topicCount);
    await system.publishAll(
      warmupCount,
      body,
      settings.window,
      Date.now() + settings.phaseTimeoutMs,
    );
    await waitForIdleServer(system.serverPid, 30_000);
    // The harness's own garbage (earlier cells' reads: hundreds of MB) is collected now, not by
    // a major GC of the client in the middle of the latency phase, whichever system runs.
    collectGarbage();
    // Lead-in, not measured: the latency phase's own pattern. One send at a time takes other
    // paths than the windowed warm-up (a socket read holds one request, not dozens), and a
    // JIT-compiled server or client compiles them now: in the first 3 s of single sends Sluice's
    // broker spent ~330 ms of extra CPU, most of it on V8's compiler threads, which showed as
    // the phase's p99, and it still recompiled ~20 functions in the next 3 s. The latency phase
    // reports the steady state that follows.
    const leadIn = settings.latencyLeadInMessages;
    if (leadIn > 0) {
      await measureLatency(
        system,
        topicCount,
        body,
        leadIn,
        settings.latencyRatePerSec,
        Date.now() + settings.phaseTimeoutMs,
      );
    }
    const [latencyP50Ms, latencyP99Ms] = await measureLatency(
      system,
      topicCount,
      body,
      settings.latencyMessages,
      settings.latencyRatePerSec,
      Date.now() + settings.phaseTimeoutMs,
      leadIn,
    );
    collectGarbage();

    const total = settings.messagesPerCell;
    const cpuBeforePublish = processCpuSeconds(system.serverPid);
    const faultsBeforePublish = processMinorFaults(system.serverPid);
    const publishStart = performance.now();
    await system.publishAll(total, body, settings.window, Date.now() + settings.phaseTimeoutMs);
    const publishSec = (performance.now() - publishStart) / 1000;
    const cpuAfterPublish = processCpuSeconds(system.serverPid);
    const faultsAfterPublish = processMinorFaults(system.serverPid);
    collectGarbage();

    const expectedCount = warmupCount + leadIn + settings.latencyMessages + total;
    const readStart = performance.now();
    const readCount = await system.readAll(expectedCount, Date.now() + settings.phaseTimeoutMs);
    const readSec = (performance.now() - readStart) / 1000;
    const cpuAfterRead = processCpuSeconds(system.serverPid);
    if (readCount !== expectedCount) {
      process.stdout.write(`    ! read back ${readCount} of ${expectedCount} messages\n`);
    }
    return {
      publishMsgsPerSec: total / publishSec,
      publishMBPerSec: (total * settings.bodyBytes) / MB / publishSec,
      readMsgsPerSec: readCount / readSec,
      latencyP50Ms,
      latencyP99Ms,
      publishCpuSecPer100k: ((cpuAfterPublish - cpuBeforePublish) * 100_000) / total,
      publishFaultsPer100k: ((faultsAfterPublish - faultsBeforePublish) * 100_000) / total,
      readCpuSecPer100k:
        readCount > 0 ? ((cpuAfterRead - cpuAfterPublish) * 100_000) / readCount : Number.NaN,
      readCount,
      expectedCount,
      prepareSec,
    };
  } catch (error) {
    const tail = system.serverOutput().slice(-1500).trim();
    if (tail !== '') process.stdout.write(`    server output (tail):\n${tail}\n`);
    throw error;
  } finally {
    await system.stop().catch((error: unknown) => {
      process.stderr.write(`    stopping ${compared.name} failed: ${String(error)}\n`);
    });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
