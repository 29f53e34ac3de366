import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeRecord } from '../common/codec/decoded-message.js';
import { CommitLog } from './commit-log.js';
import { crashBody } from './commit-log.crash-child.js';
import { BACKENDS, MapAssigner, takeBytes, tempStore, testConfig } from './commit-log.fixture.js';
import type { StoreConfig } from './types.js';

const CYCLES = Number(process.env.SLUICE_CRASH_CYCLES ?? 20);
const CHILD = fileURLToPath(new URL('./commit-log.crash-child.js', import.meta.url));

interface Ack {
  offset: number;
  size: number;
  seq: number;
}

/**
 * Runs the child until it is SIGKILLed at a random moment; returns its acknowledgements. A
 * child that dies before "ready" (e.g. a concurrent rebuild of dist/ on a shared machine) is
 * retried twice.
 */
async function runAndKill(config: StoreConfig, firstSeq: number): Promise<Ack[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOnce(config, firstSeq);
    } catch (err) {
      if (attempt >= 2 || !(err instanceof EarlyExit)) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

class EarlyExit extends Error {}

function runOnce(config: StoreConfig, firstSeq: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CHILD, JSON.stringify({ config, firstSeq, writers: 1 + (firstSeq % 7) })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const acks: Ack[] = [];
    let buf = '';
    let timer: NodeJS.Timeout | null = null;
    let ready = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready') {
          ready = true;
          timer = setTimeout(() => child.kill('SIGKILL'), 5 + Math.random() * 120);
        } else if (line.startsWith('ack ')) {
          const [, o, s, q] = line.split(' ');
          acks.push({ offset: Number(o), size: Number(s), seq: Number(q) });
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        const msg = `child exited early: code ${code} ${signal}`;
        reject(ready ? new Error(msg) : new EarlyExit(msg));
      } else resolve(acks);
    });
  });
}

for (const backend of BACKENDS) {
  test(`[${backend}] crash: SIGKILL during sync-flushed appends loses no acknowledged record`, async (t) => {
    const { dir, cleanup } = tempStore('sluice-crash-');
    try {
      const config = testConfig(dir, backend, {
        flushMode: 'sync',
        commitLogSegmentSizeBytes: 64 * 1024,
        warmSegments: backend === 'mmap',
      });
      const acked = new Map<number, Ack>();
      let seq = 0;
      let totalAcks = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const acks = await runAndKill(config, seq);
        totalAcks += acks.length;
        for (const a of acks) acked.set(a.offset, a);
        seq += 100_000;
        // reopen, recover, verify
        const log = await CommitLog.open(config, new MapAssigner());
        let valid = 0;
        const end = log.recover(log.minOffset, () => valid++);
        for (const a of acked.values()) {
          assert.ok(a.offset + a.size <= end, `cycle ${cycle}: acked record at ${a.offset} lost`);
          const rec = takeBytes(log.readRecord(a.offset));
          assert.ok(rec, `cycle ${cycle}: record at ${a.offset} unreadable`);
          const d = decodeRecord(rec);
          assert.equal(d.totalSize, a.size);
          assert.ok(Buffer.from(d.body).equals(crashBody(a.seq)), `record ${a.seq} differs`);
        }
        assert.ok(valid >= acked.size);
        // nothing torn remains: the bytes after the end are zero up to the segment end
        const seg = log.segmentQueue.last;
        if (seg !== undefined && end - seg.startOffset < seg.sizeBytes) {
          const pos = end - seg.startOffset;
          const tail = Buffer.from(seg.read(pos, seg.sizeBytes - pos));
          assert.ok(
            tail.every((b) => b === 0),
            `cycle ${cycle}: torn bytes after the end`,
          );
        }
        await log.close();
      }
      assert.ok(totalAcks > 0, 'the child acknowledged something');
      t.diagnostic(`${CYCLES} kills, ${totalAcks} acknowledged records, ${acked.size} verified`);
    } finally {
      cleanup();
    }
  });
}
