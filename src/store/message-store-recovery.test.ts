import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { decodeRecords } from '../common/codec/decoded-message.js';
import { Checkpoint } from './checkpoint.js';
import {
  HEADER_INDEX_COUNT,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER_SIZE,
  INDEX_SLOT_SIZE,
} from './index-file-layout.js';
import { MessageStore } from './message-store.js';
import { STORE_BACKENDS, smallConfig, tempDir, testMessage } from './message-store-fixture.js';
import type { AppendResult } from './types.js';

const QUEUES = 2;
const COUNT = 40;

/** Fills a store, then copies its folder while it is open (what a crash leaves behind). */
async function crashedCopy(backend: 'mmap' | 'file'): Promise<{
  src: string;
  appended: AppendResult[];
  copy: () => string;
  close: () => Promise<void>;
}> {
  const src = tempDir('sluice-rec-');
  // Sync flush: the file backend's staging buffer would otherwise hold the log's tail.
  const store = await MessageStore.open(
    smallConfig(src, backend, { maxTransferCount: 100, flushMode: 'sync' }),
  );
  const appended: AppendResult[] = [];
  for (let i = 0; i < COUNT; i++) {
    const r = await store.putMessage(
      testMessage({ topic: 'R', queueId: i % QUEUES, body: `r${i}`, keys: `k${i}` }),
    );
    appended.push(r.appended[0]);
  }
  await store.whenDispatched();
  // Let the periodic ConsumeQueue flush + checkpoint run (small queues wait a few rounds).
  await new Promise((r) => setTimeout(r, 500));
  return {
    src,
    appended,
    copy: () => {
      const dst = tempDir('sluice-rec-copy-');
      fs.cpSync(src, dst, { recursive: true });
      fs.rmSync(path.join(dst, 'lock'));
      assert.ok(fs.existsSync(path.join(dst, 'abort')));
      return dst;
    },
    close: async () => {
      await store.shutdown();
      fs.rmSync(src, { recursive: true, force: true });
    },
  };
}

/** Where entries start in the store's index files (smallConfig's 101 slots). */
const INDEX_SLOTS = 101;
const INDEX_ENTRIES_START = INDEX_HEADER_SIZE + INDEX_SLOTS * INDEX_SLOT_SIZE;
const ZERO_ENTRY = Buffer.alloc(INDEX_ENTRY_SIZE);

/**
 * Calls `visit` for every counted entry, in every index file of the store, whose record is at or
 * past `phy`: with the file open for writing at `fd` and the entry read into `entry`.
 */
function forEachIndexEntryFrom(
  dir: string,
  phy: number,
  visit: (fd: number, index: number, entry: Buffer) => void,
): void {
  const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
  const header = Buffer.alloc(INDEX_HEADER_SIZE);
  for (const name of fs.readdirSync(path.join(dir, 'index'))) {
    const fd = fs.openSync(path.join(dir, 'index', name), 'r+');
    try {
      fs.readSync(fd, header, 0, INDEX_HEADER_SIZE, 0);
      for (let i = 1; i < header.readInt32BE(HEADER_INDEX_COUNT); i++) {
        fs.readSync(fd, entry, 0, INDEX_ENTRY_SIZE, INDEX_ENTRIES_START + i * INDEX_ENTRY_SIZE);
        if (Number(entry.readBigInt64BE(4)) >= phy) visit(fd, i, entry);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Zeroes entry `index` of the index file open at `fd` (its page never reached the disk). */
function loseIndexEntry(fd: number, index: number): void {
  fs.writeSync(fd, ZERO_ENTRY, 0, INDEX_ENTRY_SIZE, INDEX_ENTRIES_START + index * INDEX_ENTRY_SIZE);
}

/**
 * Zeroes, in every index file of the store, the entries of records at or past `phy` (their pages
 * never reached the disk before a machine crash), leaving the headers that count them.
 */
function loseIndexEntriesFrom(dir: string, phy: number): number {
  let lost = 0;
  forEachIndexEntryFrom(dir, phy, (fd, index) => {
    loseIndexEntry(fd, index);
    lost++;
  });
  return lost;
}

/** A small seeded PRNG (mulberry32): the same damage for the same seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Zeroes a random half of the ConsumeQueue and index entries of records at or past `synced`
 * (pages lost by a machine crash, in any order), and points the slot of some lost index entries
 * at them (slot pages that did reach the disk).
 */
function loseRandomUnsyncedEntries(
  dir: string,
  synced: number,
  appended: AppendResult[],
  random: () => number,
): void {
  const zeros = Buffer.alloc(20);
  for (let queueId = 0; queueId < QUEUES; queueId++) {
    const cqFile = path.join(dir, 'consumequeue', 'R', String(queueId), '00000000000000000000');
    const fd = fs.openSync(cqFile, 'r+');
    for (let q = 0; q < COUNT / QUEUES; q++) {
      const message = q * QUEUES + queueId;
      if (appended[message].physicalOffset >= synced && random() < 0.5) {
        fs.writeSync(fd, zeros, 0, 20, q * 20);
      }
    }
    fs.closeSync(fd);
  }
  const slot = Buffer.alloc(INDEX_SLOT_SIZE);
  forEachIndexEntryFrom(dir, synced, (fd, index, entry) => {
    if (random() < 0.5) return;
    if (random() < 0.5) {
      slot.writeInt32BE(index);
      const slotAt = INDEX_HEADER_SIZE + (entry.readInt32BE(0) % INDEX_SLOTS) * INDEX_SLOT_SIZE;
      fs.writeSync(fd, slot, 0, INDEX_SLOT_SIZE, slotAt);
    }
    loseIndexEntry(fd, index);
  });
}

type CrashedStore = Awaited<ReturnType<typeof crashedCopy>>;

/**
 * Reopens a copy of the crashed store as after a machine crash (the abort marker names another
 * boot): the checkpoint says logics data was fsynced below `synced`, and `damage` first changes
 * the copy's files the way lost pages would.
 */
async function reopenAfterMachineCrash(
  fixture: CrashedStore,
  backend: 'mmap' | 'file',
  synced: number,
  damage: (dir: string, synced: number) => void,
  check: (store: MessageStore, appended: AppendResult[]) => Promise<void> | void,
): Promise<void> {
  const dir = fixture.copy();
  try {
    const cp = new Checkpoint(dir);
    cp.data.logicsSyncedOffset = synced;
    cp.save();
    damage(dir, synced);
    fs.writeFileSync(path.join(dir, 'abort'), '12345 another-boot-id\n');
    const store = await MessageStore.open(smallConfig(dir, backend, { maxTransferCount: 100 }));
    try {
      await check(store, fixture.appended);
    } finally {
      await store.shutdown();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** {@link reopenAfterMachineCrash} on a store of its own, synced below `syncedOffset(appended)`. */
async function afterMachineCrash(
  backend: 'mmap' | 'file',
  syncedOffset: (appended: AppendResult[]) => number,
  damage: (dir: string, synced: number) => void,
  check: (store: MessageStore, appended: AppendResult[]) => Promise<void> | void,
): Promise<void> {
  const fixture = await crashedCopy(backend);
  try {
    await reopenAfterMachineCrash(fixture, backend, syncedOffset(fixture.appended), damage, check);
  } finally {
    await fixture.close();
  }
}

/** Both queues hold every message sent to them, in order. */
function assertQueuesWhole(store: MessageStore): void {
  assert.deepEqual(
    readAll(store, 0),
    Array.from({ length: COUNT / 2 }, (_, i) => `r${i * 2}`),
  );
  assert.deepEqual(
    readAll(store, 1),
    Array.from({ length: COUNT / 2 }, (_, i) => `r${i * 2 + 1}`),
  );
}

function readAll(store: MessageStore, queueId: number): string[] {
  const r = store.getMessage('R', queueId, store.getMinOffsetInQueue('R', queueId), 100);
  if (r.slices === undefined) return [];
  const out = r.slices.buffers.flatMap((b) =>
    decodeRecords(b).map((m) => Buffer.from(m.body).toString()),
  );
  r.slices.release();
  return out;
}

for (const backend of STORE_BACKENDS) {
  test(`[${backend}] recovery: ConsumeQueue ahead of a torn log is cut back`, async () => {
    const fixture = await crashedCopy(backend);
    const dir = fixture.copy();
    try {
      // The checkpoint lags (message 20) and message 35 is torn: the log ends before it.
      const cp = new Checkpoint(dir);
      cp.data.logicsWrittenOffset = fixture.appended[20].physicalOffset;
      cp.save();
      const torn = fixture.appended[35];
      const seg = path.join(dir, 'commitlog', '00000000000000000000');
      const fd = fs.openSync(seg, 'r+');
      fs.writeSync(fd, Buffer.from([0xff, 0xfe]), 0, 2, torn.physicalOffset + 88);
      fs.closeSync(fd);
      const store = await MessageStore.open(smallConfig(dir, backend, { maxTransferCount: 100 }));
      try {
        assert.equal(store.recovery.abnormal, true);
        assert.equal(store.recovery.logEndOffset, torn.physicalOffset);
        assert.ok(store.recovery.consumeQueueEntriesDropped >= 5);
        const q1 = readAll(store, 1);
        assert.deepEqual(
          q1,
          Array.from({ length: 17 }, (_, i) => `r${i * 2 + 1}`),
        );
        assert.equal(readAll(store, 0).length, 18);
        assert.deepEqual(store.queryMessageOffsets('R', 'k36', 5, 0, Date.now() + 1000), []);
        assert.equal(store.queryMessageOffsets('R', 'k34', 5, 0, Date.now() + 1000).length, 1);
        // New messages take the freed queue offsets and are indexed.
        const r = await store.putMessage(
          testMessage({ topic: 'R', queueId: 1, body: 'new', keys: 'k36' }),
        );
        assert.equal(r.appended[0].queueOffset, 17);
        await store.whenDispatched();
        assert.deepEqual(store.queryMessageOffsets('R', 'k36', 5, 0, Date.now() + 1000), [
          r.appended[0].physicalOffset,
        ]);
      } finally {
        await store.shutdown();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await fixture.close();
    }
  });

  test(`[${backend}] recovery: ConsumeQueue behind the log is rebuilt from it`, async () => {
    // Queue 0 lost its tail, queue 1 its folder, and the checkpoint points to the start.
    await afterMachineCrash(
      backend,
      () => 0,
      (dir) => {
        fs.truncateSync(path.join(dir, 'consumequeue', 'R', '0', '00000000000000000000'), 3 * 20);
        fs.rmSync(path.join(dir, 'consumequeue', 'R', '1'), { recursive: true });
      },
      async (store) => {
        assert.equal(store.recovery.fromOffset, 0);
        assert.equal(store.recovery.recordsRedispatched, COUNT);
        assertQueuesWhole(store);
        const r = await store.putMessage(testMessage({ topic: 'R', queueId: 0, body: 'x' }));
        assert.equal(r.appended[0].queueOffset, 20);
        assert.equal(store.queryMessageOffsets('R', 'k7', 5, 0, Date.now() + 1000).length, 1);
      },
    );
  });

  test(`[${backend}] recovery after a machine crash: keys whose index entries were lost are indexed again`, async () => {
    // The index was last fsynced below message 30; the pages of the later entries are lost,
    // though the header (page 0) counts them.
    await afterMachineCrash(
      backend,
      (appended) => appended[30].physicalOffset,
      (dir, synced) => assert.ok(loseIndexEntriesFrom(dir, synced) >= 10),
      (store, appended) => {
        assert.equal(store.recovery.fromOffset, appended[30].physicalOffset);
        for (let i = 0; i < COUNT; i++) {
          assert.deepEqual(
            store.queryMessageOffsets('R', `k${i}`, 5, 0, Date.now() + 1000),
            [appended[i].physicalOffset],
            `k${i}`,
          );
        }
      },
    );
  });

  test(`[${backend}] recovery after a machine crash: ConsumeQueue entries lost before surviving ones are written again`, async () => {
    // Fsynced below message 20. Queue 0 holds messages 0, 2, .. 38 at offsets 0..19: the page
    // of offsets 12 and 13 (messages 24, 26) was lost, the later ones reached the disk.
    await afterMachineCrash(
      backend,
      (appended) => appended[20].physicalOffset,
      (dir) => {
        const cqFile = path.join(dir, 'consumequeue', 'R', '0', '00000000000000000000');
        assert.equal(fs.statSync(cqFile).size, 20 * 20);
        const fd = fs.openSync(cqFile, 'r+');
        fs.writeSync(fd, Buffer.alloc(2 * 20), 0, 2 * 20, 12 * 20);
        fs.closeSync(fd);
      },
      async (store) => {
        assertQueuesWhole(store);
        const r = await store.putMessage(testMessage({ topic: 'R', queueId: 0, body: 'x' }));
        assert.equal(r.appended[0].queueOffset, 20);
      },
    );
  });

  test(`[${backend}] recovery after a machine crash: random lost entries past the synced offset`, async () => {
    const fixture = await crashedCopy(backend);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: COUNT - 1 }),
          fc.integer(),
          async (syncedMessage, seed) => {
            const synced = fixture.appended[syncedMessage].physicalOffset;
            await reopenAfterMachineCrash(
              fixture,
              backend,
              synced,
              (dir) => loseRandomUnsyncedEntries(dir, synced, fixture.appended, seeded(seed)),
              (store, appended) => {
                assertQueuesWhole(store);
                for (let i = 0; i < COUNT; i++) {
                  assert.deepEqual(
                    store.queryMessageOffsets('R', `k${i}`, 5, 0, Date.now() + 1000),
                    [appended[i].physicalOffset],
                    `k${i}`,
                  );
                }
              },
            );
          },
        ),
        { numRuns: 12 },
      );
    } finally {
      await fixture.close();
    }
  });
}
