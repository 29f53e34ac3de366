import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeRecords } from '../common/codec/decoded-message.js';
import { MessageStore } from './message-store.js';
import { STORE_BACKENDS, smallConfig, tempDir } from './message-store-fixture.js';
import type { StoreConfig } from './types.js';

const CYCLES = Number(process.env.SLUICE_CRASH_CYCLES ?? 20);
const CHILD = fileURLToPath(new URL('./message-store-crash-child.js', import.meta.url));

interface Ack {
  seq: number;
  topic: string;
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
}

interface ChildRun {
  acks: Ack[];
  ready: boolean;
  killed: boolean;
  code: number | null;
  stderr: string;
}

function runChild(config: Partial<StoreConfig>, firstSeq: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ config, firstSeq })], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SLUICE_LOG_LEVEL: 'error' },
    });
    const run: ChildRun = { acks: [], ready: false, killed: false, code: null, stderr: '' };
    let buf = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      run.stderr += chunk;
      process.stderr.write(chunk);
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready') {
          run.ready = true;
          setTimeout(() => child.kill('SIGKILL'), 10 + Math.random() * 150);
        } else if (line.startsWith('ack ')) {
          const [, s, topic, q, qo, phy] = line.split(' ');
          run.acks.push({
            seq: Number(s),
            topic,
            queueId: Number(q),
            queueOffset: Number(qo),
            physicalOffset: Number(phy),
          });
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      run.killed = signal === 'SIGKILL';
      run.code = code;
      resolve(run);
    });
  });
}

/**
 * Runs the child until it is SIGKILLed and returns its acknowledgements. A child that could not
 * even load its modules is retried: other builds rewrite dist/ on this shared machine, and a
 * module read half-written fails the import (seen as "child exited with 1").
 */
async function runAndKill(config: Partial<StoreConfig>, firstSeq: number): Promise<Ack[]> {
  for (let attempt = 1; ; attempt++) {
    const run = await runChild(config, firstSeq);
    if (run.killed) return run.acks;
    const halfBuilt = !run.ready && /SyntaxError|ERR_MODULE_NOT_FOUND/.test(run.stderr);
    if (!halfBuilt || attempt === 3) throw new Error(`child exited with ${run.code}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

for (const backend of STORE_BACKENDS) {
  test(`[${backend}] crash: SIGKILL of a store process loses no acknowledged message`, async (t) => {
    // Index spot-check misses, checked after the loop (in a subtest of their own) so that they
    // never hide the strict checks above it. The intermittent miss once seen here (a record whose
    // keys straddled an index file roll lost the new file's key in the crash) is fixed: 0 in 350
    // cycles since, against 1-2 per 150-250 before, so a miss fails the test.
    const indexMisses: string[] = [];
    const dir = tempDir('sluice-crash-');
    try {
      const config = smallConfig(dir, backend, {
        flushMode: 'sync',
        maxTransferCount: 1000,
        maxTransferBytes: 4 * 1024 * 1024,
        consumeQueueFlushIntervalMs: 20,
        consumeQueueFlushThoroughIntervalMs: 60,
      });
      // The latest acknowledgement per topic/queue/offset (a cut tail may reuse offsets).
      const acked = new Map<string, Ack>();
      let seq = 0;
      let total = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const acks = await runAndKill(config, seq);
        seq += 1_000_000;
        total += acks.length;
        for (const a of acks) acked.set(`${a.topic}/${a.queueId}/${a.queueOffset}`, a);

        const store = await MessageStore.open(config);
        try {
          assert.equal(store.recovery.abnormal, true, `cycle ${cycle}`);
          // Every queue: each entry points at a valid record with the right queue offset.
          for (const [topic, ids] of store.listQueues()) {
            for (const q of ids) {
              const min = store.getMinOffsetInQueue(topic, q);
              const max = store.getMaxOffsetInQueue(topic, q);
              let offset = min;
              while (offset < max) {
                const r = store.getMessage(topic, q, offset, 1000);
                assert.equal(r.status, 'FOUND', `cycle ${cycle} ${topic}/${q}@${offset}`);
                const msgs = r.slices!.buffers.flatMap((b) => decodeRecords(b));
                for (const m of msgs) {
                  assert.equal(m.topic, topic);
                  assert.equal(m.queueId, q);
                  assert.equal(m.queueOffset, offset, `cycle ${cycle} ${topic}/${q}`);
                  const a = acked.get(`${topic}/${q}/${offset}`);
                  if (a !== undefined) {
                    assert.equal(m.properties.get('UNIQ_KEY'), `U${a.seq}`, 'acked message intact');
                  }
                  offset++;
                }
                r.slices!.release();
              }
            }
          }
          // Every acknowledged message is within its queue.
          for (const a of acked.values()) {
            assert.ok(
              a.queueOffset < store.getMaxOffsetInQueue(a.topic, a.queueId),
              `cycle ${cycle}: acked ${a.topic}/${a.queueId}@${a.queueOffset} lost`,
            );
          }
          // Spot-check the key index: the last acknowledged message (its record may have been
          // indexed again at open), 30 more of this run (their slots may have been linked again
          // from the entries, see index-slot-table.ts) and 10 of the runs before.
          const all = [...acked.values()];
          const sample = [
            ...acks.filter(
              (_, i) => i === acks.length - 1 || i % Math.ceil(acks.length / 30) === 0,
            ),
            ...Array.from(
              { length: Math.min(10, all.length) },
              (_, i) => all[(i * 7919 + cycle) % all.length],
            ),
          ];
          for (const a of sample) {
            const found = store.queryMessageOffsets(
              a.topic,
              `key-${a.seq}`,
              4,
              0,
              Date.now() + 1000,
            );
            if (found.length !== 1 || found[0] !== a.physicalOffset) {
              // With where recovery started and what it re-dispatched, so that an occurrence
              // says whether the record was re-indexed at open or claimed indexed before it.
              const r = store.recovery;
              indexMisses.push(
                `cycle ${cycle}: key-${a.seq} at ${a.physicalOffset} found ${JSON.stringify(found)}` +
                  `${a === acks[acks.length - 1] ? ' (the last acknowledged)' : ''}; ` +
                  `recovery from ${r.fromOffset} to ${r.logEndOffset}, ${r.recordsRedispatched} re-dispatched, ` +
                  `${r.indexEntriesDropped} index entries dropped`,
              );
            }
          }
        } finally {
          // Also after a failed check: a store left open would keep writing into a removed dir.
          await store.shutdown();
        }
      }
      assert.ok(total > CYCLES, `only ${total} acknowledgements in ${CYCLES} cycles`);
      await t.test('the key index finds the sampled acknowledged messages after every crash', () =>
        assert.deepEqual(indexMisses, []),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('[file] crash: async flush acknowledges only what a SIGKILL cannot take', async () => {
  const dir = tempDir('sluice-crash-async-');
  try {
    // No background flush and no checkpoints during the run: only the end-of-turn write-out
    // can have put the acknowledged records into the file.
    const config = smallConfig(dir, 'file', {
      flushMode: 'async',
      flushIntervalMs: 3_600_000,
      flushThoroughIntervalMs: 3_600_000,
      commitLogSegmentSizeBytes: 1024 * 1024,
      maxTransferCount: 1000,
      maxTransferBytes: 4 * 1024 * 1024,
      indexMaxEntries: 100_000,
      consumeQueueFlushIntervalMs: 3_600_000,
    });
    let seq = 0;
    let total = 0;
    for (let cycle = 0; cycle < Math.max(3, Math.floor(CYCLES / 4)); cycle++) {
      const acks = await runAndKill(config, seq);
      seq += 1_000_000;
      total += acks.length;
      const store = await MessageStore.open(config);
      try {
        for (const a of acks) {
          const slices = store.lookMessageByOffset(a.physicalOffset);
          assert.ok(slices !== null, `cycle ${cycle}: acked message ${a.seq} lost`);
          const [m] = decodeRecords(slices.buffers[0]);
          slices.release();
          assert.equal(m.properties.get('UNIQ_KEY'), `U${a.seq}`, `cycle ${cycle}`);
          assert.ok(a.queueOffset < store.getMaxOffsetInQueue(a.topic, a.queueId));
        }
      } finally {
        await store.shutdown();
      }
    }
    assert.ok(total > 100, `only ${total} acknowledgements`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
