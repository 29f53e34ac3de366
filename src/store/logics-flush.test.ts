import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCheckpoint, type Checkpoint, type CheckpointData } from './checkpoint.js';
import type { ConsumeQueueStore } from './consume-queue-store.js';
import type { Dispatcher } from './dispatcher.js';
import type { IndexService } from './index-service.js';
import { LogicsFlusher } from './logics-flush.js';

/** A flusher over stand-ins: files always written, fsyncs instant, every pass thorough. */
function flusherWith(
  log: { flushedOffset: number },
  dispatcher: { dispatchedOffset: number; lastStoreTimestamp: number },
): { flusher: LogicsFlusher; data: CheckpointData } {
  const data = emptyCheckpoint();
  const checkpoint = { data, save: () => undefined, saveAsync: () => Promise.resolve() };
  const cqStore = {
    flushSome: () => true,
    writer: null,
    unwrittenFloor: -1,
    releaseIdleBuffers: () => undefined,
    filesCreatedSinceSync: 0,
    syncAllAsync: () => Promise.resolve(),
  };
  const index = { flush: () => undefined, syncAsync: () => Promise.resolve(), endTimestamp: 0 };
  const flusher = new LogicsFlusher(
    {
      commitLog: log,
      cqStore: cqStore as unknown as ConsumeQueueStore,
      index: index as unknown as IndexService,
      dispatcher: dispatcher as unknown as Dispatcher,
      checkpoint: checkpoint as unknown as Checkpoint,
    },
    { intervalMs: 3_600_000, thoroughIntervalMs: 0 },
  );
  return { flusher, data };
}

test('the synced offset moves under steady load: an earlier pass start the log has flushed', async () => {
  const log = { flushedOffset: 0 };
  const dispatcher = { dispatchedOffset: 0, lastStoreTimestamp: 0 };
  const { flusher, data } = flusherWith(log, dispatcher);
  const pass = async (dispatched: number, flushed: number): Promise<number> => {
    dispatcher.dispatchedOffset = dispatched;
    log.flushedOffset = flushed;
    flusher.flush();
    await flusher.settled();
    return data.logicsSyncedOffset;
  };
  // The dispatcher is always ahead of the flushed log, as with batched flush under load.
  assert.equal(await pass(1000, 500), 0, 'no record boundary known at or below the flushed log');
  assert.equal(await pass(2000, 1500), 1000, "the first pass's start");
  assert.equal(await pass(3000, 2999), 2000);
  // Caught up: the pass's own position.
  assert.equal(await pass(3500, 4096), 3500);
  // Never backwards.
  assert.equal(await pass(3600, 100), 3500);
  flusher.stop();
});
