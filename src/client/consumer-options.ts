/** Options of the consumers (PushConsumer, SimpleConsumer) and of their shared runtime. */
import type { AllocateStrategy } from './allocate.js';
import type { ClientOptions } from './client-instance.js';

/** Where a group with no stored offset starts. */
export type ConsumeFrom = 'LAST_OFFSET' | 'FIRST_OFFSET' | { timestampMs: number };

/** Options shared by the consumers. */
export interface ConsumerOptions extends ClientOptions {
  /** Consumer group. */
  group: string;
  /** `CLUSTERING` (queues split among the group, default) or `BROADCASTING` (all get all). */
  messageModel?: 'CLUSTERING' | 'BROADCASTING';
  /** Start position for queues without a stored offset. Default `LAST_OFFSET`. */
  consumeFrom?: ConsumeFrom;
  /** Messages per pull. Default 32. */
  pullBatchSize?: number;
  /** Long-poll hold time requested from the broker. Default 15 000 ms. */
  pullSuspendMs?: number;
  /** Pull RPC timeout; must exceed `pullSuspendMs`. Default 30 000 ms. */
  pullTimeoutMs?: number;
  /** Pause after a failed pull. Default 3000 ms. */
  pullErrorDelayMs?: number;
  /** Pull pauses while a queue caches more messages than this. Default 1000. */
  maxCachedMessagesPerQueue?: number;
  /** Pull pauses while a queue caches more bytes than this. Default 100 MiB. */
  maxCachedBytesPerQueue?: number;
  /** Pull pauses while the whole consumer caches more messages than this. Default 10 000. */
  maxCachedMessagesTotal?: number;
  /** Pull pauses while the whole consumer caches more bytes than this. Default 256 MiB. */
  maxCachedBytesTotal?: number;
  /** Concurrent mode: pull pauses while a queue's cached offsets span more than this. Default 2000. */
  maxOffsetSpan?: number;
  /** Rebalance period. Default 20 000 ms. */
  rebalanceIntervalMs?: number;
  /** Offset commit period. Default 5000 ms. */
  persistOffsetIntervalMs?: number;
  /** Redeliveries before a message goes to the dead-letter queue. Default 16. */
  maxReconsumeTimes?: number;
  /** Broadcasting: folder of the local offset files. Default `~/.sluice_offsets`. */
  offsetStoreDir?: string;
  /** Queue allocation strategy (clustering). Default averagely. */
  allocateStrategy?: AllocateStrategy;
}

/** Internal options of the runtime. */
export interface RuntimeSettings {
  orderly: boolean;
  consumeType: 'CONSUME_PASSIVELY' | 'CONSUME_ACTIVELY';
  maxConcurrency: number;
  maxConcurrencyPerQueue: number;
  suspendAfterFailureMs: number;
  lockIntervalMs: number;
}
