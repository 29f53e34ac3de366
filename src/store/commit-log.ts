/**
 * The CommitLog: one append-only log of every message of every topic, stored as a chain of
 * fixed-size segments (see segment-queue.ts). Appends are synchronous encodes into the active
 * segment; a record never spans segments (a BLANK record fills the tail instead). Flushing is
 * delegated to {@link FlushService}, reads to {@link CommitLogReader} (commit-log-read.ts),
 * recovery to commit-log-recovery.ts.
 */
import { join } from 'node:path';
import { SluiceError, invariant } from '../common/errors.js';
import {
  BLANK_MIN_BYTES,
  SYSFLAG_TRANSACTION_MASK,
  SYSFLAG_TRANSACTION_PREPARED,
  SYSFLAG_TRANSACTION_ROLLBACK,
  encodeBlank,
  encodeRecord,
  recordSizeBytes,
  sysFlagWithHosts,
  type RecordHeader,
} from '../common/codec/message-record.js';
import { CommitLogReader } from './commit-log-read.js';
import { FlushService, LARGE_FOLIO_BYTES } from './flush.js';
import { SegmentQueue } from './segment-queue.js';
import { AppendedRecord } from './put-results.js';
import { bodyCrcFast, nativeAvailable } from './io/native.js';
import type { SegmentFile } from './io/segment-file.js';
import { recoverLog, type RecoveryMode } from './commit-log-recovery.js';
import { RecentSlots, TopicSlots, type TopicSlot } from './topic-slot.js';
import type { AppendResult, LogSlices, MessageToStore, SegmentInfo, StoreConfig } from './types.js';

function noop(): void {
  // Placeholder for an unset resolve/reject.
}

/** Assigns queue offsets; implemented by the store facade. */
export interface QueueOffsetAssigner {
  /**
   * Returns the first queue offset for `count` messages to `slot`'s topic and advances the
   * queue by `count` (the assigner may cache the topic's offsets on the slot).
   */
  next(slot: TopicSlot, queueId: number, count: number): number;
}

/** Properties length is stored as an int16. */
export const PROPERTIES_HARD_MAX_BYTES = 32767;

/** The append-only message log. */
export class CommitLog {
  /** Every topic appended to, by name (the slot carries the name's checked bytes). */
  readonly slots = new TopicSlots();
  /** The slot of each recent append, for the dispatcher ({@link slotAt}). */
  private readonly recentSlots = new RecentSlots();
  private readonly header: RecordHeader;
  private readonly listeners: Array<() => void> = [];
  private writable = true;
  private closed = false;
  private recovered: boolean;
  /** Offset where the log starts when it has no segment (after recovery of an empty log). */
  private emptyOffset = 0;
  /** True for the file backend: appends sit in a user-space buffer until written out. */
  private readonly stagesWrites: boolean;
  /** The write-out at the end of this event-loop turn, once an append asked for one. */
  private writeOutPending: Promise<void> | null = null;
  private writeOutResolve: () => void = noop;
  private writeOutReject: (err: unknown) => void = noop;
  private readonly writeOutBound = (): void => this.runWriteOut();
  /** Topic slot and properties length of the message {@link validate} last accepted. */
  private validSlot: TopicSlot | null = null;
  private validPropsLength = 0;
  private readonly reader: CommitLogReader;
  readonly flusher: FlushService;

  private constructor(
    readonly config: Readonly<StoreConfig>,
    private readonly queue: SegmentQueue,
    private readonly assigner: QueueOffsetAssigner,
  ) {
    const host = config.storeHost;
    this.header = {
      bodyCrc: 0,
      queueId: 0,
      flag: 0,
      queueOffset: 0,
      physicalOffset: 0,
      sysFlag: 0,
      bornTimestamp: 0,
      bornHostAddress: host.address,
      bornHostPort: 0,
      storeTimestamp: 0,
      storeHostAddress: host.address,
      storeHostPort: host.port,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
    };
    // Until recover() runs, loaded segments count as full except the last.
    const segs = queue.segments;
    for (let i = 0; i < segs.length; i++) {
      const pos = i === segs.length - 1 ? 0 : segs[i].sizeBytes;
      segs[i].resetPosition(pos);
    }
    this.recovered = segs.length === 0;
    this.stagesWrites = queue.options.backend === 'file';
    // Background flushes of an mmap log end on large-folio boundaries (see LARGE_FOLIO_BYTES);
    // with sync flush its segments are written back page by page (pageGranularWriteback).
    const wholeBlockBytes = queue.options.backend === 'mmap' ? LARGE_FOLIO_BYTES : 0;
    this.flusher = new FlushService(queue, { ...config, wholeBlockBytes }, this.maxOffset);
    this.reader = new CommitLogReader(queue);
  }

  /**
   * Opens the log under `<storePath>/commitlog/`. When segments exist, call {@link recover}
   * before appending: it finds the end of the log. Backend `mmap` falls back to `file` (with a
   * process warning) when the native addon is not built.
   */
  static async open(config: StoreConfig, queueOffsets: QueueOffsetAssigner): Promise<CommitLog> {
    if (config.storeHost.address.length !== 4 && config.storeHost.address.length !== 16) {
      throw new SluiceError('CONFIG_INVALID', 'storeHost.address must have 4 or 16 bytes');
    }
    let backend = config.backend;
    if (backend === 'mmap' && !nativeAvailable) {
      process.emitWarning(
        'the sluice_mmap addon is not built; the CommitLog uses the "file" backend instead ' +
          '(run `npm rebuild` with a C compiler to get mmap)',
        { code: 'SLUICE_NO_MMAP' },
      );
      backend = 'file';
    }
    const queue = SegmentQueue.open({
      dir: join(config.storePath, 'commitlog'),
      backend,
      segmentSizeBytes: config.commitLogSegmentSizeBytes,
      warmSegments: config.warmSegments,
      warmWhileWriting: true,
      warmLeadBytes: config.warmLeadBytes,
      pageGranularWriteback: config.flushMode === 'sync',
      mapReads: backend === 'file' && nativeAvailable && (config.fileReadsMapped ?? true),
    });
    const log = new CommitLog(config, queue, queueOffsets);
    log.flusher.start();
    return log;
  }

  /** Log offset of the next append (end of the log). */
  get maxOffset(): number {
    const last = this.queue.last;
    return last === undefined ? this.emptyOffset : last.startOffset + last.wrotePosition;
  }

  /** Offset of the first byte still stored. */
  get minOffset(): number {
    return this.queue.first?.startOffset ?? this.emptyOffset;
  }

  /** Offset below which every byte is durable. */
  get flushedOffset(): number {
    return this.flusher.flushedOffset;
  }

  /** Whether appends are accepted (false when the disk is nearly full). */
  get isWritable(): boolean {
    return this.writable;
  }

  /** The segment queue (for the store facade and tools). */
  get segmentQueue(): SegmentQueue {
    return this.queue;
  }

  /** Registers a callback run once per append/appendBatch call; returns an unsubscribe. */
  onAppended(cb: () => void): () => void {
    this.listeners.push(cb);
    return () => {
      const i = this.listeners.indexOf(cb);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Marks the store (un)writable; appends throw DISK_FULL while unwritable. */
  setWritable(writable: boolean): void {
    this.writable = writable;
  }

  private propsLength(msg: MessageToStore): number {
    const p = msg.properties;
    return typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
  }

  /**
   * Validates a message; returns its record size and leaves its topic slot and properties
   * length in {@link validSlot}/{@link validPropsLength} for the append that follows. Throws
   * typed errors; writes nothing.
   */
  private validate(msg: MessageToStore): number {
    if (this.closed) throw new SluiceError('STORE_CLOSED', 'the CommitLog is closed');
    invariant(this.recovered, 'CommitLog.recover() must run after open() before appending');
    if (!this.writable) {
      throw new SluiceError(
        'DISK_FULL',
        'the store is not writable (disk nearly full): free space or raise diskMaxUsedSpaceRatio',
      );
    }
    const slot = this.slots.slotFor(msg.topic, msg.slot);
    if (msg.body.length > this.config.maxMessageSizeBytes) {
      throw new SluiceError(
        'MESSAGE_TOO_LARGE',
        `message body is ${msg.body.length} bytes, over maxMessageSizeBytes=` +
          `${this.config.maxMessageSizeBytes}: send smaller messages or raise the limit`,
      );
    }
    const propsLen = this.propsLength(msg);
    if (propsLen > this.config.maxPropertiesSizeBytes || propsLen > PROPERTIES_HARD_MAX_BYTES) {
      throw new SluiceError(
        'PROPERTIES_TOO_LARGE',
        `message properties are ${propsLen} bytes, over maxPropertiesSizeBytes=` +
          `${Math.min(this.config.maxPropertiesSizeBytes, PROPERTIES_HARD_MAX_BYTES)}`,
      );
    }
    const bornLen = msg.bornHost.address.length;
    if ((bornLen !== 4 && bornLen !== 16) || !Number.isInteger(msg.queueId) || msg.queueId < 0) {
      throw new SluiceError(
        'MESSAGE_ILLEGAL',
        'bornHost.address must have 4 or 16 bytes and queueId must be a non-negative integer',
      );
    }
    const sysFlag = sysFlagWithHosts(msg.sysFlag, bornLen, this.config.storeHost.address.length);
    const size = recordSizeBytes(msg.body.length, slot.bytes.length, propsLen, sysFlag);
    this.validSlot = slot;
    this.validPropsLength = propsLen;
    if (size + BLANK_MIN_BYTES > this.config.commitLogSegmentSizeBytes) {
      throw new SluiceError(
        'MESSAGE_TOO_LARGE',
        `a record of ${size} bytes does not fit a segment of ` +
          `${this.config.commitLogSegmentSizeBytes} bytes: raise commitLogSegmentSizeBytes`,
      );
    }
    return size;
  }

  /** The active segment with room for `size` bytes plus a BLANK; rolls when needed. */
  private segmentFor(size: number): SegmentFile {
    let seg = this.queue.last;
    if (seg === undefined) return this.queue.roll(this.emptyOffset);
    const remaining = seg.sizeBytes - seg.wrotePosition;
    if (size + BLANK_MIN_BYTES > remaining) {
      if (remaining > 0) {
        const w = seg.writeWindow(BLANK_MIN_BYTES);
        encodeBlank(w.view, w.pos, remaining);
        seg.commitWrite(BLANK_MIN_BYTES, remaining);
      }
      seg = this.queue.roll();
    }
    return seg;
  }

  private appendOne(
    msg: MessageToStore,
    size: number,
    now: number,
    slot: TopicSlot,
    propsLen: number,
  ): AppendResult {
    const seg = this.segmentFor(size);
    const tx = msg.sysFlag & SYSFLAG_TRANSACTION_MASK;
    const queueOffset =
      tx === SYSFLAG_TRANSACTION_PREPARED || tx === SYSFLAG_TRANSACTION_ROLLBACK
        ? 0
        : this.assigner.next(slot, msg.queueId, 1);
    const physicalOffset = seg.startOffset + seg.wrotePosition;
    const h = this.header;
    h.bodyCrc = bodyCrcFast(msg.body);
    h.queueId = msg.queueId;
    h.flag = msg.flag;
    h.queueOffset = queueOffset;
    h.physicalOffset = physicalOffset;
    h.sysFlag = sysFlagWithHosts(
      msg.sysFlag,
      msg.bornHost.address.length,
      this.config.storeHost.address.length,
    );
    h.bornTimestamp = msg.bornTimestamp;
    h.bornHostAddress = msg.bornHost.address;
    h.bornHostPort = msg.bornHost.port;
    h.storeTimestamp = now;
    h.reconsumeTimes = msg.reconsumeTimes;
    h.preparedTransactionOffset = msg.preparedTransactionOffset;
    const w = seg.writeWindow(size);
    const written = encodeRecord(
      w.view,
      w.bytes,
      w.pos,
      h,
      msg.body,
      slot.bytes,
      msg.properties,
      propsLen,
    );
    invariant(written === size, 'encoded size differs from computed size');
    seg.commitWrite(size, size);
    if (seg.wrotePosition >= seg.warmResumePosition) this.queue.warmActive();
    this.recentSlots.add(physicalOffset, slot);
    return new AppendedRecord(physicalOffset, queueOffset, size, now);
  }

  private notify(): void {
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i]();
    if (this.stagesWrites && this.writeOutPending === null) this.scheduleWriteOut();
  }

  private scheduleWriteOut(): void {
    this.writeOutPending = new Promise<void>((resolve, reject) => {
      this.writeOutResolve = resolve;
      this.writeOutReject = reject;
    });
    // A failure is reported to whoever waits; nobody waiting is not an unhandled rejection.
    this.writeOutPending.catch(noop);
    setImmediate(this.writeOutBound);
  }

  private runWriteOut(): void {
    const resolve = this.writeOutResolve;
    const reject = this.writeOutReject;
    this.writeOutPending = null;
    this.writeOutResolve = this.writeOutReject = noop;
    try {
      // Earlier segments were written out when the log rolled past them.
      this.queue.last?.writeOut();
      resolve();
    } catch (err) {
      reject(
        new SluiceError('NATIVE_IO', `cannot write the CommitLog: ${String(err)}; check the disk`, {
          cause: err,
        }),
      );
    }
  }

  /**
   * Resolves once every record appended so far is in the file, i.e. in the page cache, where it
   * survives a crash of the process (not of the machine): the file backend hands the records of
   * one event-loop turn to the kernel with one write at the end of the turn. Null when nothing
   * is waiting to be written (always for mmap, whose stores land in the page cache directly).
   */
  get writtenOut(): Promise<void> | null {
    return this.writeOutPending;
  }

  /** Appends one message synchronously. Throws typed errors (nothing written) on bad input. */
  append(msg: MessageToStore): AppendResult {
    const size = this.validate(msg);
    const r = this.appendOne(msg, size, Date.now(), this.validSlot!, this.validPropsLength);
    this.notify();
    return r;
  }

  /** Appends messages contiguously; all are validated before any is written. */
  appendBatch(msgs: MessageToStore[]): AppendResult[] {
    const sizes: number[] = new Array(msgs.length);
    const slots: TopicSlot[] = new Array(msgs.length);
    const propsLengths: number[] = new Array(msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      sizes[i] = this.validate(msgs[i]);
      slots[i] = this.validSlot!;
      propsLengths[i] = this.validPropsLength;
    }
    const now = Date.now();
    const out: AppendResult[] = new Array(msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      out[i] = this.appendOne(msgs[i], sizes[i], now, slots[i], propsLengths[i]);
    }
    if (msgs.length > 0) this.notify();
    return out;
  }

  /**
   * The topic slot the record at `physicalOffset` was appended with, when it is one of the
   * latest appends (undefined otherwise). For the dispatcher, which asks in log order; a hint
   * only: check the record's topic bytes against it.
   */
  slotAt(physicalOffset: number): TopicSlot | undefined {
    return this.recentSlots.slotAt(physicalOffset);
  }

  /** Resolves once the log is durable up to `endOffset` (group commit); FLUSH_TIMEOUT otherwise. */
  waitDurable(endOffset: number): Promise<void> {
    return this.flusher.waitDurable(endOffset);
  }

  /**
   * The log from `physicalOffset` on as one zero-copy view of up to `maxBytes` of its segment,
   * which may end mid-record (see {@link CommitLogReader.readChunk}).
   */
  readChunk(physicalOffset: number, maxBytes: number): LogSlices | null {
    return this.reader.readChunk(physicalOffset, maxBytes);
  }

  /** Zero-copy slices of whole records (see {@link CommitLogReader.read}). Release the result. */
  read(physicalOffset: number, maxBytes: number): LogSlices | null {
    return this.reader.read(physicalOffset, maxBytes);
  }

  /** Copies `count` records filling `totalBytes` (see {@link CommitLogReader.copyRecords}). */
  copyRecords(
    physicalOffset: number,
    totalBytes: number,
    count: number,
    dest: Uint8Array,
    destAt: number,
  ): boolean {
    return this.reader.copyRecords(physicalOffset, totalBytes, count, dest, destAt);
  }

  /** `count` records filling exactly `totalBytes` (see {@link CommitLogReader.readRecords}). */
  readRecords(physicalOffset: number, totalBytes: number, count: number): LogSlices | null {
    return this.reader.readRecords(physicalOffset, totalBytes, count);
  }

  /** The whole record at `physicalOffset` (validated, CRC not checked) or null. */
  readRecord(physicalOffset: number): LogSlices | null {
    return this.reader.readRecord(physicalOffset);
  }

  /**
   * Recovers the end of the log: walks forward from `fromOffset` checking every record (CRC
   * included), calls `onValidRecord` for each, truncates after the last valid one (zeroing the
   * torn tail as far as `mode` requires, deleting later segments), pre-allocates the next
   * segment and returns the new max offset.
   */
  recover(
    fromOffset: number,
    onValidRecord?: (bytes: Uint8Array, pos: number, physicalOffset: number) => void,
    mode: RecoveryMode = 'os-crash',
  ): number {
    const end = recoverLog(this.queue, fromOffset, this.config, onValidRecord, mode);
    this.recentSlots.clear();
    if (this.queue.last === undefined) this.emptyOffset = end;
    this.queue.ensureNext(end);
    this.queue.warmActive();
    this.flusher.reset(end);
    this.recovered = true;
    return end;
  }

  /** Store timestamp of the first record of segment `segmentIndex`, or -1 if it has none. */
  firstRecordStoreTimestamp(segmentIndex: number): number {
    return this.reader.firstRecordStoreTimestamp(segmentIndex);
  }

  /** Segments as shown to operators. */
  segments(): SegmentInfo[] {
    const segs = this.queue.segments;
    return segs.map((s, i) => ({
      fileName: s.path,
      startOffset: s.startOffset,
      sizeBytes: s.sizeBytes,
      wroteBytes: s.wrotePosition,
      active: i === segs.length - 1,
    }));
  }

  /**
   * Deletes up to `maxCount` segments from the head last modified more than `olderThanMs` ago
   * (any age when `force`); never the active one. Returns how many were deleted.
   */
  deleteExpiredSegments(olderThanMs: number, force: boolean, maxCount: number): number {
    return this.queue.deleteFromHead(olderThanMs, force, maxCount, Date.now());
  }

  /** Flushes everything written so far. */
  flushAll(): Promise<void> {
    return this.flusher.flushAll();
  }

  /** Flushes, stops the flusher and closes every segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flusher.flushAll();
    } finally {
      this.flusher.stop();
      await this.queue.close();
    }
  }
}
