/**
 * Test support for the CommitLog suites (not a test file itself): temp store folders,
 * configs with small segments, a simple queue-offset assigner and message builders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommitLog, type QueueOffsetAssigner } from './commit-log.js';
import type { TopicSlot } from './topic-slot.js';
import { nativeAvailable } from './io/native.js';
import {
  DEFAULT_STORE_CONFIG,
  type MessageToStore,
  type StoreBackend,
  type StoreConfig,
} from './types.js';

/** Backends to run each suite with (mmap only when the addon is built). */
export const BACKENDS: StoreBackend[] = nativeAvailable ? ['mmap', 'file'] : ['file'];

/** In-memory queue offsets per topic/queue. */
export class MapAssigner implements QueueOffsetAssigner {
  readonly offsets = new Map<string, number>();
  next(slot: TopicSlot, queueId: number, count: number): number {
    const key = `${slot.topic}@${queueId}`;
    const cur = this.offsets.get(key) ?? 0;
    this.offsets.set(key, cur + count);
    return cur;
  }
}

/** A fresh temp folder and a remover. */
export function tempStore(prefix = 'sluice-cl-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A config for tests: small segments, warm-up off, short intervals. */
export function testConfig(
  dir: string,
  backend: StoreBackend,
  over: Partial<StoreConfig> = {},
): StoreConfig {
  return {
    ...DEFAULT_STORE_CONFIG,
    storePath: dir,
    backend,
    commitLogSegmentSizeBytes: 64 * 1024,
    warmSegments: false,
    flushIntervalMs: 20,
    flushThoroughIntervalMs: 200,
    syncFlushTimeoutMs: 2000,
    maxMessageSizeBytes: 16 * 1024,
    ...over,
  };
}

/** A message with the given body and topic. */
export function message(
  body: Uint8Array | string,
  topic = 'TopicTest',
  queueId = 0,
  over: Partial<MessageToStore> = {},
): MessageToStore {
  return {
    topic,
    queueId,
    flag: 0,
    body: typeof body === 'string' ? Buffer.from(body) : body,
    properties: 'TAGS\u0001a\u0002',
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { address: new Uint8Array([127, 0, 0, 1]), port: 5555 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    ...over,
  };
}

/** Opens a log and recovers it from its min offset (what the facade does on start). */
export async function openLog(
  config: StoreConfig,
  assigner: QueueOffsetAssigner = new MapAssigner(),
): Promise<CommitLog> {
  const log = await CommitLog.open(config, assigner);
  log.recover(log.minOffset);
  return log;
}

/** Concatenated bytes of slices (copies), releasing them. */
export function takeBytes(s: { buffers: Uint8Array[]; release(): void } | null): Buffer | null {
  if (s === null) return null;
  const b = Buffer.concat(s.buffers.map((x) => Buffer.from(x)));
  s.release();
  return b;
}
