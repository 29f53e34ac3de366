/**
 * The store facade the broker uses: CommitLog + ConsumeQueues + key index + checkpoint +
 * recovery + retention behind {@link MessageStoreApi}.
 *
 * {@link MessageStore.open} recovers the parts (`message-store-open.ts`) and starts them; an
 * `abort` marker stays in the folder until a clean {@link MessageStore.shutdown}.
 */
import { invariant, SluiceError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { removeAbortMarker, type Checkpoint } from './checkpoint.js';
import type { CommitLog } from './commit-log.js';
import type { ConsumeQueueStore } from './consume-queue-store.js';
import type { Dispatcher } from './dispatcher.js';
import { DurableWaitGroups } from './durable-wait-groups.js';
import type { IndexService } from './index-service.js';
import { LogicsFlusher } from './logics-flush.js';
import { MessageReader } from './message-store-read.js';
import {
  closeStoreParts,
  openStoreParts,
  type MessageStoreOptions,
  type RecoveryInfo,
  type StoreParts,
} from './message-store-open.js';
import { oneAppended, PutOutcome } from './put-results.js';
import type { QueueOffsetTable } from './queue-offset-table.js';
import type { RetentionService } from './retention.js';
import {
  DEFAULT_STORE_CONFIG,
  type AppendResult,
  type DispatchedMessage,
  type GetResult,
  type LogSlices,
  type MessageFilter,
  type MessageStoreApi,
  type MessageToStore,
  type PutResult,
  type PutStatus,
  type StoreConfig,
  type StoreStats,
  type TopicSlot,
} from './types.js';

const log = createLogger('store');

export type { MessageStoreOptions, RecoveryInfo } from './message-store-open.js';

function putStatusOf(err: unknown): PutStatus | null {
  if (!(err instanceof SluiceError)) return null;
  switch (err.code) {
    case 'MESSAGE_TOO_LARGE':
    case 'MESSAGE_ILLEGAL':
    case 'TOPIC_ILLEGAL':
      return 'MESSAGE_ILLEGAL';
    case 'PROPERTIES_TOO_LARGE':
      return 'PROPERTIES_SIZE_EXCEEDED';
    case 'DISK_FULL':
      return 'DISK_FULL';
    case 'STORE_CLOSED':
      return 'SERVICE_NOT_AVAILABLE';
    case 'FLUSH_TIMEOUT':
      return 'FLUSH_DISK_TIMEOUT';
    default:
      return null;
  }
}

const WAIT_FALSE = 'WAIT\u0001false\u0002';

/** The message store. */
export class MessageStore implements MessageStoreApi {
  private closed = false;
  private putMessageCount = 0;
  private putMessageBytes = 0;
  private readonly reader: MessageReader;
  private readonly unsubscribeAppended: () => void;
  private readonly durableGroups: DurableWaitGroups;
  private readonly logics: LogicsFlusher;

  /** What recovery found and did at open. */
  readonly recovery: RecoveryInfo;
  private readonly commitLog: CommitLog;
  private readonly cqStore: ConsumeQueueStore;
  private readonly index: IndexService;
  private readonly dispatcher: Dispatcher;
  private readonly checkpoint: Checkpoint;
  private readonly offsets: QueueOffsetTable;
  private readonly retention: RetentionService;
  private readonly diskRatio: () => number;
  private readonly releaseLock: () => void;

  private constructor(
    readonly config: Readonly<StoreConfig>,
    parts: StoreParts,
  ) {
    this.recovery = parts.recovery;
    this.commitLog = parts.commitLog;
    this.cqStore = parts.cqStore;
    this.index = parts.index;
    this.dispatcher = parts.dispatcher;
    this.checkpoint = parts.checkpoint;
    this.offsets = parts.offsets;
    this.retention = parts.retention;
    this.diskRatio = parts.diskRatio;
    this.releaseLock = parts.releaseLock;
    const { commitLog, cqStore, index, dispatcher, checkpoint } = parts;
    this.reader = new MessageReader(config, commitLog, cqStore, index);
    this.durableGroups = new DurableWaitGroups((end) => commitLog.waitDurable(end));
    this.unsubscribeAppended = commitLog.onAppended(() => dispatcher.wake());
    this.logics = new LogicsFlusher(
      { commitLog, cqStore, index, dispatcher, checkpoint },
      {
        intervalMs: config.consumeQueueFlushIntervalMs ?? 1000,
        thoroughIntervalMs: config.consumeQueueFlushThoroughIntervalMs ?? 60_000,
      },
    );
  }

  /** Opens (and recovers) the store at `config.storePath`; defaults from DEFAULT_STORE_CONFIG. */
  static async open(
    config: Partial<StoreConfig>,
    options: MessageStoreOptions = {},
  ): Promise<MessageStore> {
    const cfg: Readonly<StoreConfig> = Object.freeze({ ...DEFAULT_STORE_CONFIG, ...config });
    let storeRef: MessageStore | null = null;
    const parts = await openStoreParts(cfg, options, (min) => storeRef?.followLogMinOffset(min));
    try {
      const store = new MessageStore(cfg, parts);
      storeRef = store;
      store.logics.recordNow();
      store.start();
      return store;
    } catch (err) {
      await closeStoreParts(parts);
      throw err;
    }
  }

  private start(): void {
    this.dispatcher.start();
    // A first round right away so that a full disk is noticed before the first put.
    this.retention.runRound();
    this.retention.start();
    this.logics.start();
  }

  /** ConsumeQueues and index follow the log's min offset after segments were deleted. */
  private followLogMinOffset(minOffset: number): void {
    const cqFiles = this.cqStore.deleteExpiredFiles(minOffset);
    const indexFiles = this.index.deleteExpiredFiles(minOffset);
    if (cqFiles + indexFiles > 0) {
      log.info(
        `deleted ${cqFiles} ConsumeQueue and ${indexFiles} index file(s) below ${minOffset}`,
      );
    }
  }

  async putMessage(message: MessageToStore): Promise<PutResult> {
    return this.putMessageNow(message);
  }

  async putMessages(messages: MessageToStore[]): Promise<PutResult> {
    return this.putMessagesNow(messages);
  }

  topicSlot(topic: string): TopicSlot {
    return this.commitLog.slots.slotOf(topic);
  }

  /**
   * Appends one message. The append itself is synchronous: the result comes back directly unless
   * the message has to wait — for a sync flush, or (file backend) for the end-of-turn write that
   * puts it into the page cache — in which case a promise of it comes back.
   */
  putMessageNow(message: MessageToStore): PutResult | Promise<PutResult> {
    if (this.closed) return { status: 'SERVICE_NOT_AVAILABLE', appended: [] };
    let r: AppendResult;
    try {
      r = this.commitLog.append(message);
    } catch (err) {
      return { status: this.failedPutStatus(err), appended: [] };
    }
    this.putMessageCount++;
    this.putMessageBytes += r.sizeBytes;
    const appended = oneAppended(r);
    if (this.config.flushMode === 'sync' && !this.noWait(message)) {
      return this.waitDurable(r.physicalOffset + r.sizeBytes, appended);
    }
    return this.acknowledged(appended);
  }

  /** Like {@link putMessageNow} for a batch of one topic+queue, stored contiguously. */
  putMessagesNow(messages: MessageToStore[]): PutResult | Promise<PutResult> {
    if (this.closed) return { status: 'SERVICE_NOT_AVAILABLE', appended: [] };
    if (messages.length === 0) return { status: 'PUT_OK', appended: [] };
    let appended: AppendResult[];
    try {
      appended = this.commitLog.appendBatch(messages);
    } catch (err) {
      return { status: this.failedPutStatus(err), appended: [] };
    }
    let end = 0;
    for (const r of appended) {
      this.putMessageBytes += r.sizeBytes;
      end = Math.max(end, r.physicalOffset + r.sizeBytes);
    }
    this.putMessageCount += appended.length;
    if (this.config.flushMode === 'sync') return this.waitDurable(end, appended);
    return this.acknowledged(appended);
  }

  /**
   * PUT_OK for records appended without waiting for a flush — once they are in the page cache,
   * where they survive a crash of the process. The mmap backend stores them there directly; the
   * file backend writes them at the end of the event-loop turn, for all of the turn's puts.
   */
  private acknowledged(appended: AppendResult[]): PutResult | Promise<PutResult> {
    const writtenOut = this.commitLog.writtenOut;
    if (writtenOut === null) return new PutOutcome('PUT_OK', appended);
    return writtenOut.then(
      () => new PutOutcome('PUT_OK', appended),
      (err: unknown) => ({ status: this.failedPutStatus(err), appended: [] }),
    );
  }

  private noWait(message: MessageToStore): boolean {
    return typeof message.properties === 'string' && message.properties.includes(WAIT_FALSE);
  }

  private waitDurable(end: number, appended: PutResult['appended']): Promise<PutResult> {
    return this.durableGroups.wait(end).then(
      (): PutResult => new PutOutcome('PUT_OK', appended),
      (err: unknown): PutResult => {
        const status = putStatusOf(err);
        if (status === null) log.error('waiting for the flush failed', err);
        return { status: status ?? 'FLUSH_DISK_TIMEOUT', appended };
      },
    );
  }

  private failedPutStatus(err: unknown): PutStatus {
    const status = putStatusOf(err);
    if (status !== null) return status;
    log.error('append failed', err);
    return 'SERVICE_NOT_AVAILABLE';
  }

  getMessage(
    topic: string,
    queueId: number,
    queueOffset: number,
    maxMessages: number,
    filter?: MessageFilter,
  ): GetResult {
    this.checkOpen();
    return this.reader.getMessage(topic, queueId, queueOffset, maxMessages, filter);
  }

  getMaxOffsetInQueue(topic: string, queueId: number): number {
    return this.cqStore.get(topic, queueId)?.maxOffset ?? 0;
  }

  getMinOffsetInQueue(topic: string, queueId: number): number {
    return this.cqStore.get(topic, queueId)?.minOffset ?? 0;
  }

  getOffsetInQueueByTime(topic: string, queueId: number, timestampMs: number): number {
    this.checkOpen();
    return this.reader.offsetByTime(topic, queueId, timestampMs);
  }

  getEarliestMessageTime(topic: string, queueId: number): number {
    this.checkOpen();
    const cq = this.cqStore.get(topic, queueId);
    if (cq === undefined) return -1;
    return this.reader.storeTimestampAt(cq, cq.minOffset);
  }

  getMessageStoreTimestamp(topic: string, queueId: number, queueOffset: number): number {
    this.checkOpen();
    const cq = this.cqStore.get(topic, queueId);
    if (cq === undefined) return -1;
    return this.reader.storeTimestampAt(cq, queueOffset);
  }

  lookMessageByOffset(physicalOffset: number): LogSlices | null {
    this.checkOpen();
    return this.commitLog.readRecord(physicalOffset);
  }

  queryMessageOffsets(
    topic: string,
    key: string,
    maxCount: number,
    beginTimestampMs: number,
    endTimestampMs: number,
  ): number[] {
    this.checkOpen();
    return this.reader.queryByKey(topic, key, maxCount, beginTimestampMs, endTimestampMs);
  }

  onDispatched(listener: (message: DispatchedMessage) => void): () => void {
    return this.dispatcher.onDispatched(listener);
  }

  deleteTopic(topic: string): void {
    this.checkOpen();
    // Index what is pending first, so that a restart does not re-dispatch the deleted queues.
    this.dispatcher.dispatchUntil();
    this.cqStore.deleteTopic(topic);
    this.offsets.deleteTopic(topic);
    this.cqStore.flushAll();
    this.index.flush();
    this.logics.recordNow();
  }

  listQueues(): Map<string, number[]> {
    return this.cqStore.listQueues();
  }

  stats(): StoreStats {
    const l = this.commitLog;
    return {
      minPhysicalOffset: l.minOffset,
      maxPhysicalOffset: l.maxOffset,
      flushedPhysicalOffset: l.flushedOffset,
      dispatchedPhysicalOffset: this.dispatcher.dispatchedOffset,
      segments: l.segments(),
      diskUsedRatio: Math.max(0, this.diskRatio()),
      putMessageCount: this.putMessageCount,
      putMessageBytes: this.putMessageBytes,
      writable: l.isWritable,
      commitLogFlushes: l.flusher.flushCount,
      commitLogInlineFlushes: l.flusher.inlineFlushCount,
    };
  }

  /** Resolves once every appended record has ConsumeQueue/index entries (tests, tools). */
  whenDispatched(): Promise<void> {
    return this.dispatcher.whenCaughtUp();
  }

  /**
   * Resolves once the segments are warmed and the folders and files of new queues exist
   * (benchmarks: so that set-up work does not run into the measured phase; creating the files of
   * 80,000 queues took the writer thread several seconds here).
   */
  async warmedUp(): Promise<void> {
    await this.commitLog.segmentQueue.allocator.idle();
    await this.cqStore.dirsSettled();
    // One lazy pass writes, and so creates the files of, the queues that have none yet.
    const passDone = this.cqStore.flushSome(Number.POSITIVE_INFINITY, true);
    invariant(passDone, 'a flush pass without a deadline ends in one call');
    await this.cqStore.writesDone();
  }

  /** Runs one retention round now (admin "delete expired files" and tests). */
  runRetention(manual = false): ReturnType<RetentionService['runRound']> {
    if (manual) this.retention.requestDelete();
    return this.retention.runRound();
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError('STORE_CLOSED', 'the store is shut down');
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retention.stop();
    this.logics.stop();
    this.unsubscribeAppended();
    try {
      this.dispatcher.dispatchUntil();
      this.dispatcher.stop();
      await this.commitLog.flushAll();
      this.cqStore.flushAll();
      this.index.flush();
      await this.logics.settled();
      await this.checkpoint.settled();
      this.logics.recordNow();
      await this.logics.sync(this.dispatcher.dispatchedOffset);
      await this.checkpoint.settled();
      await this.commitLog.close();
      this.index.close();
      await this.cqStore.dirsSettled();
      this.cqStore.close();
      await this.cqStore.closeWriter();
      removeAbortMarker(this.config.storePath);
    } finally {
      this.releaseLock();
    }
  }
}
