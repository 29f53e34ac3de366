import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, closeSync, writeSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { recordSizeBytes } from '../common/codec/message-record.js';
import { decodeRecord, decodeRecords } from '../common/codec/decoded-message.js';
import { CommitLog } from './commit-log.js';
import {
  BACKENDS,
  MapAssigner,
  message,
  openLog,
  takeBytes,
  tempStore,
  testConfig,
} from './commit-log.fixture.js';
import { waitFor } from '../common/wait-for.fixture.js';
import type { AppendResult, StoreBackend } from './types.js';

const PROPS = 'TAGS\u0001a\u0002';
const TOPIC = 'TopicTest';
const BASE = recordSizeBytes(0, TOPIC.length, PROPS.length, 0);

for (const backend of BACKENDS) {
  test(`[${backend}] append/read round trip`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const assigner = new MapAssigner();
      const log = await openLog(testConfig(dir, backend), assigner);
      let appendedCalls = 0;
      log.onAppended(() => appendedCalls++);
      const results: AppendResult[] = [];
      for (let i = 0; i < 200; i++) {
        results.push(log.append(message(`body-${i}-${'x'.repeat(i * 7)}`, TOPIC, i % 3)));
      }
      assert.equal(appendedCalls, 200);
      const batch = log.appendBatch([message('b1'), message('b2'), message('b3')]);
      assert.equal(appendedCalls, 201);
      assert.equal(batch[1].physicalOffset, batch[0].physicalOffset + batch[0].sizeBytes);
      for (let i = 0; i < 200; i++) {
        const r = results[i];
        assert.equal(r.queueOffset, Math.floor(i / 3));
        const rec = takeBytes(log.readRecord(r.physicalOffset));
        assert.ok(rec);
        const d = decodeRecord(rec);
        assert.equal(d.physicalOffset, r.physicalOffset);
        assert.equal(d.queueOffset, r.queueOffset);
        assert.equal(d.queueId, i % 3);
        assert.equal(Buffer.from(d.body).toString(), `body-${i}-${'x'.repeat(i * 7)}`);
        assert.equal(d.storeTimestamp, r.storeTimestamp);
        assert.equal(d.storeHost, '127.0.0.1:10911');
      }
      assert.equal(log.readRecord(results[0].physicalOffset + 1), null);
      assert.equal(log.readRecord(log.maxOffset), null);
      // read(): whole records only, at least one, within a segment
      const s = log.read(results[0].physicalOffset, 1000);
      assert.ok(s);
      const recs = decodeRecords(s.buffers[0]);
      assert.ok(recs.length >= 1 && s.totalBytes <= Math.max(1000, results[0].sizeBytes));
      assert.equal(recs[0].queueOffset, 0);
      s.release();
      const big = log.read(results[150].physicalOffset, 10);
      assert.ok(big);
      assert.equal(big.totalBytes, results[150].sizeBytes);
      big.release();
      assert.ok(log.segments().length > 1, 'rolled over several segments');
      await log.close();
      // reopen: everything still there, end found by recovery
      const log2 = await openLog(testConfig(dir, backend));
      assert.equal(log2.maxOffset, batch[2].physicalOffset + batch[2].sizeBytes);
      const d = decodeRecord(takeBytes(log2.readRecord(results[123].physicalOffset)) as Buffer);
      assert.equal(d.queueOffset, 41);
      await log2.close();
    } finally {
      cleanup();
    }
  });

  test(`[${backend}] segment roll-over at exact boundaries`, async () => {
    const seg = 8192;
    const body = 100;
    const rec = BASE + body;
    for (const [leftBefore, expectRoll] of [
      [rec + 8, false],
      [rec + 9, false],
      [rec + 7, true],
      [rec, true],
      [rec - 1, true],
    ] as const) {
      const { dir, cleanup } = tempStore();
      try {
        const cfg = testConfig(dir, backend, {
          commitLogSegmentSizeBytes: seg,
          maxMessageSizeBytes: seg,
        });
        const log = await openLog(cfg);
        const filler = log.append(message(new Uint8Array(seg - leftBefore - BASE)));
        assert.equal(filler.physicalOffset + filler.sizeBytes, seg - leftBefore);
        const r = log.append(message(new Uint8Array(body)));
        assert.equal(r.sizeBytes, rec);
        if (expectRoll) {
          assert.equal(r.physicalOffset, seg, `left ${leftBefore}: rolled`);
          assert.equal(log.segments().length, 2);
          assert.equal(log.segments()[0].wroteBytes, seg);
        } else {
          assert.equal(r.physicalOffset, seg - leftBefore, `left ${leftBefore}: fits`);
        }
        const next = log.append(message('after'));
        assert.ok(next.physicalOffset >= r.physicalOffset + rec);
        await log.close();
        const log2 = await openLog(cfg);
        assert.equal(log2.maxOffset, next.physicalOffset + next.sizeBytes);
        const got = decodeRecord(takeBytes(log2.readRecord(r.physicalOffset)) as Buffer);
        assert.equal(got.body.length, body);
        await log2.close();
      } finally {
        cleanup();
      }
    }
  });

  test(`[${backend}] validation errors write nothing`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const assigner = new MapAssigner();
      const log = await openLog(
        testConfig(dir, backend, { maxMessageSizeBytes: 1000, maxPropertiesSizeBytes: 100 }),
        assigner,
      );
      log.append(message('first'));
      const end = log.maxOffset;
      assert.throws(() => log.append(message(new Uint8Array(1001))), { code: 'MESSAGE_TOO_LARGE' });
      assert.throws(
        () => log.append(message('x', TOPIC, 0, { properties: 'K\u0001' + 'v'.repeat(200) })),
        {
          code: 'PROPERTIES_TOO_LARGE',
        },
      );
      for (const t of ['', 'a b', 'x'.repeat(128), 'ü', '%RETRY%' + 'x'.repeat(249)]) {
        assert.throws(() => log.append(message('x', t)), { code: 'TOPIC_ILLEGAL' }, t);
      }
      log.append(message('ok', '%RETRY%' + 'x'.repeat(248)));
      log.append(message('ok', 'A-b_c|d%e'));
      assert.throws(() => log.appendBatch([message('fine'), message(new Uint8Array(5000))]), {
        code: 'MESSAGE_TOO_LARGE',
      });
      log.setWritable(false);
      assert.throws(() => log.append(message('x')), { code: 'DISK_FULL' });
      log.setWritable(true);
      assert.equal(assigner.offsets.get(`${TOPIC}@0`), 1);
      assert.ok(log.maxOffset > end);
      // prepared / rollback transaction records take queue offset 0 and do not advance it
      const prep = log.append(message('half', TOPIC, 0, { sysFlag: 0x4 }));
      const rb = log.append(message('rb', TOPIC, 0, { sysFlag: 0xc }));
      const commit = log.append(message('commit', TOPIC, 0, { sysFlag: 0x8 }));
      assert.equal(prep.queueOffset, 0);
      assert.equal(rb.queueOffset, 0);
      assert.equal(commit.queueOffset, 1);
      // IPv6 born host sets the sysflag bit
      const v6 = log.append(
        message('v6', TOPIC, 1, { bornHost: { address: new Uint8Array(16), port: 1 } }),
      );
      assert.equal(
        decodeRecord(takeBytes(log.readRecord(v6.physicalOffset)) as Buffer).sysFlag,
        0x10,
      );
      await log.close();
      assert.throws(() => log.append(message('x')), { code: 'STORE_CLOSED' });
    } finally {
      cleanup();
    }
  });

  for (const writers of [1, 16, 256]) {
    test(`[${backend}] sync flush group commit with ${writers} writers`, async () => {
      const { dir, cleanup } = tempStore();
      try {
        const log = await openLog(testConfig(dir, backend, { flushMode: 'sync' }));
        const perWriter = Math.max(4, Math.floor(512 / writers));
        let acked = 0;
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < perWriter; i++) {
              const r = log.append(message(`w${w}-${i}`));
              await log.waitDurable(r.physicalOffset + r.sizeBytes);
              assert.ok(log.flushedOffset >= r.physicalOffset + r.sizeBytes);
              acked++;
            }
          }),
        );
        assert.equal(acked, writers * perWriter);
        if (writers > 1) assert.ok(log.flusher.flushCount < acked, 'flushes were shared');
        else assert.ok(log.flusher.inlineFlushCount > 0, "a lone writer's flushes ran inline");
        await log.close();
      } finally {
        cleanup();
      }
    });
  }

  test(`[${backend}] waitDurable rejects with FLUSH_TIMEOUT when the disk stalls`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const log = await openLog(
        testConfig(dir, backend, { flushMode: 'sync', syncFlushTimeoutMs: 50 }),
      );
      const r0 = log.append(message('before'));
      await log.waitDurable(r0.physicalOffset + r0.sizeBytes);
      const seg = log.segmentQueue.last;
      assert.ok(seg);
      const realFlush = seg.flush.bind(seg);
      let unstall: () => void = () => undefined;
      seg.flush = () =>
        new Promise<number>((resolve) => {
          unstall = () => resolve(realFlush());
        });
      const r = log.append(message('stalled'));
      const t0 = Date.now();
      await assert.rejects(log.waitDurable(r.physicalOffset + r.sizeBytes), {
        code: 'FLUSH_TIMEOUT',
      });
      assert.ok(Date.now() - t0 < 1000);
      seg.flush = realFlush;
      unstall();
      await log.waitDurable(r.physicalOffset + r.sizeBytes);
      await log.close();
    } finally {
      cleanup();
    }
  });

  test(`[${backend}] async flusher makes data durable in the background`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const log = await openLog(testConfig(dir, backend, { flushLeastPages: 1 }));
      for (let i = 0; i < 100; i++) log.append(message('y'.repeat(100)));
      await waitFor('the background flush', () => log.flushedOffset >= log.maxOffset, 2000);
      assert.equal(log.flushedOffset, log.maxOffset);
      await log.close();
    } finally {
      cleanup();
    }
  });

  test(`[${backend}] recovery truncates a garbage tail and a torn record`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const cfg = testConfig(dir, backend, { commitLogSegmentSizeBytes: 16384 });
      let log = await openLog(cfg);
      const rs: AppendResult[] = [];
      for (let i = 0; i < 40; i++) rs.push(log.append(message(`m${i}-${'z'.repeat(200)}`)));
      const end = log.maxOffset;
      await log.close();
      const segOf = (off: number) =>
        join(dir, 'commitlog', String(Math.floor(off / 16384) * 16384).padStart(20, '0'));
      // 1) garbage after the end
      let fd = openSync(segOf(end), 'r+');
      writeSync(fd, Buffer.from('garbage!'.repeat(50)), 0, 400, end % 16384);
      closeSync(fd);
      log = await CommitLog.open(cfg, new MapAssigner());
      let seen = 0;
      assert.equal(
        log.recover(log.minOffset, () => seen++),
        end,
      );
      assert.equal(seen, 40);
      const again = log.append(message('after-garbage'));
      assert.equal(again.physicalOffset, end);
      await log.close();
      // 2) tear the last record in half (and leave a stale later segment)
      const last = again;
      fd = openSync(segOf(last.physicalOffset), 'r+');
      writeSync(fd, Buffer.alloc(20, 0x5a), 0, 20, (last.physicalOffset % 16384) + 30);
      closeSync(fd);
      const extra = segOf(Math.floor(last.physicalOffset / 16384) * 16384 + 16384);
      fd = openSync(extra, 'w');
      writeSync(fd, Buffer.alloc(16384, 0x77), 0, 16384, 0);
      closeSync(fd);
      log = await CommitLog.open(cfg, new MapAssigner());
      assert.equal(log.recover(rs[20].physicalOffset), last.physicalOffset);
      // Dropped; in its place a fresh, all-zero pre-allocated next segment.
      assert.ok(
        !existsSync(extra) || readFileSync(extra).every((b) => b === 0),
        'later segment dropped',
      );
      const torn = log.readRecord(last.physicalOffset);
      assert.equal(torn, null, 'torn record gone');
      const fresh = log.append(message('fresh'));
      assert.equal(fresh.physicalOffset, last.physicalOffset);
      const d = decodeRecord(takeBytes(log.readRecord(fresh.physicalOffset)) as Buffer);
      assert.equal(Buffer.from(d.body).toString(), 'fresh');
      // the tail beyond the new end is zero (nothing torn remains)
      const tail = takeBytes(log.read(fresh.physicalOffset + fresh.sizeBytes, 100));
      assert.equal(tail, null);
      await log.close();
    } finally {
      cleanup();
    }
  });

  test(`[${backend}] retention deletes head segments but never the active one`, async () => {
    const { dir, cleanup } = tempStore();
    try {
      const log = await openLog(testConfig(dir, backend, { commitLogSegmentSizeBytes: 8192 }));
      for (let i = 0; i < 100; i++) log.append(message('r'.repeat(500)));
      const n = log.segments().length;
      assert.ok(n >= 5);
      const held = log.read(log.minOffset, 100);
      assert.ok(held);
      assert.equal(log.deleteExpiredSegments(3_600_000, false, 10), 0);
      assert.equal(log.deleteExpiredSegments(0, true, 2), 2);
      assert.equal(log.minOffset, 2 * 8192);
      // a held segment stays readable until released, then its file goes
      const firstFile = join(dir, 'commitlog', '0'.repeat(20));
      assert.equal(existsSync(firstFile), true);
      assert.ok(held.buffers[0].length > 0);
      held.release();
      assert.equal(existsSync(firstFile), false);
      assert.equal(log.read(0, 100), null);
      assert.equal(log.deleteExpiredSegments(0, true, 1000), n - 3);
      assert.equal(log.segments().length, 1);
      assert.ok(log.firstRecordStoreTimestamp(0) === -1 || log.firstRecordStoreTimestamp(0) > 0);
      await log.close();
      const files = readdirSync(join(dir, 'commitlog'));
      assert.ok(files.length <= 2);
    } finally {
      cleanup();
    }
  });

  test(`[${backend}] property: append/read/reopen sequences`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('append' as const),
              len: fc.integer({ min: 0, max: 3000 }),
              topic: fc.constantFrom('A', 'B', '%RETRY%g'),
            }),
            fc.record({ op: fc.constant('reopen' as const) }),
          ),
          { minLength: 1, maxLength: 60 },
        ),
        async (ops) => {
          await runModel(backend, ops);
        },
      ),
      { numRuns: 12 },
    );
  });
}

type Op = { op: 'append'; len: number; topic: string } | { op: 'reopen' };

async function runModel(backend: StoreBackend, ops: Op[]): Promise<void> {
  const { dir, cleanup } = tempStore();
  try {
    const cfg = testConfig(dir, backend, {
      commitLogSegmentSizeBytes: 8192,
      maxMessageSizeBytes: 8000,
    });
    let log = await openLog(cfg);
    const model: Array<{ off: number; body: Buffer; topic: string }> = [];
    let seq = 0;
    for (const o of ops) {
      if (o.op === 'reopen') {
        await log.close();
        log = await openLog(cfg);
        continue;
      }
      const body = Buffer.alloc(o.len, seq++ & 0xff);
      const r = log.append(message(body, o.topic));
      model.push({ off: r.physicalOffset, body, topic: o.topic });
    }
    for (const m of model) {
      const d = decodeRecord(takeBytes(log.readRecord(m.off)) as Buffer);
      assert.equal(d.topic, m.topic);
      assert.ok(Buffer.from(d.body).equals(m.body));
    }
    // scanning with read() visits exactly the model's records
    let off = log.minOffset;
    let count = 0;
    while (off < log.maxOffset) {
      const s = log.read(off, 5000);
      if (s === null) {
        off = (Math.floor(off / 8192) + 1) * 8192; // BLANK: next segment
        continue;
      }
      count += decodeRecords(s.buffers[0]).length;
      off += s.totalBytes;
      s.release();
    }
    assert.equal(count, model.length);
    await log.close();
  } finally {
    cleanup();
  }
}
