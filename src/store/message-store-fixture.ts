/**
 * Test support for the MessageStore suites (not a test file itself): temp folders, small
 * configs and message builders.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeProperties } from '../common/codec/properties.js';
import { nativeAvailable } from './io/native.js';
import type { MessageToStore, StoreBackend, StoreConfig } from './types.js';

/** Backends each store suite runs with (mmap only when the addon is built). */
export const STORE_BACKENDS: StoreBackend[] = nativeAvailable ? ['mmap', 'file'] : ['file'];

/** A fresh temp folder. */
export function tempDir(prefix = 'sluice-ms-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Small sizes and short intervals for tests. */
export function smallConfig(
  dir: string,
  backend: StoreBackend,
  over: Partial<StoreConfig> = {},
): Partial<StoreConfig> {
  return {
    storePath: dir,
    backend,
    commitLogSegmentSizeBytes: 64 * 1024,
    consumeQueueEntriesPerFile: 50,
    warmSegments: false,
    flushIntervalMs: 20,
    flushThoroughIntervalMs: 200,
    syncFlushTimeoutMs: 2000,
    maxMessageSizeBytes: 16 * 1024,
    indexMaxHashSlots: 101,
    indexMaxEntries: 400,
    deleteWhenHours: [],
    cleanResourceIntervalMs: 3_600_000,
    consumeQueueFlushIntervalMs: 50,
    consumeQueueFlushThoroughIntervalMs: 200,
    ...over,
  };
}

/** Fields of a test message. */
export interface TestMessageSpec {
  topic: string;
  queueId?: number;
  body: string;
  tags?: string;
  keys?: string;
  uniqKey?: string;
  extra?: Record<string, string>;
  sysFlag?: number;
}

/** Builds a message the way the broker would. */
export function testMessage(spec: TestMessageSpec): MessageToStore {
  const props: Record<string, string | undefined> = {
    TAGS: spec.tags,
    KEYS: spec.keys,
    UNIQ_KEY: spec.uniqKey,
    ...spec.extra,
  };
  return {
    topic: spec.topic,
    queueId: spec.queueId ?? 0,
    flag: 0,
    body: Buffer.from(spec.body),
    properties: encodeProperties(props),
    sysFlag: spec.sysFlag ?? 0,
    bornTimestamp: Date.now(),
    bornHost: { address: new Uint8Array([10, 0, 0, 1]), port: 40000 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
}
