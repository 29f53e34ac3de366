/**
 * Bookkeeping of transactional half messages and the check-back service.
 *
 * Half messages wait in `RMQ_SYS_TRANS_HALF_TOPIC`/0; every commit or rollback appends an "op"
 * record to `RMQ_SYS_TRANS_OP_HALF_TOPIC`/0 (tag `d`, body = the half's queue offset). The
 * service reads both queues forward and keeps the half messages without an op record
 * ("pending"). Every `transactionCheckInterval` it sends CHECK_TRANSACTION_STATE (39, one-way)
 * to a live producer of the message's group for each pending half older than
 * `transactionTimeOut` (or its `CHECK_IMMUNITY_TIME_IN_SECONDS`); after `transactionCheckMax`
 * checks the half is discarded: a log line and an op record marked `DISCARDED`. A round in
 * which no producer of the group is online does not count as a check (so a producer that is
 * restarting, or a broker restart, does not use the checks up).
 *
 * Progress, in `config/transactionCheckpoint.json`:
 * - `halfOffset`: the smallest half queue offset still pending (everything before it is done);
 * - `opOffset`: the op queue offset from which ops about halves >= `halfOffset` must be re-read;
 * - `checkTimes`: checks already sent per pending half offset.
 * After a restart both queues are re-read from there, so no pending half is forgotten and no
 * finished one is checked again.
 */
import { newRecordMeta, readRecordMeta, viewOf } from '../../common/codec/message-record.js';
import { decodeRecord } from '../../common/codec/decoded-message.js';
import type { Logger } from '../../common/logger.js';
import { createRequest } from '../../protocol/remoting-command.js';
import { RequestCode } from '../../protocol/request-code.js';
import { encodeCheckTransactionStateRequestHeader } from '../../protocol/headers/transaction.js';
import type { MessageStoreApi } from '../../store/types.js';
import type { BrokerContext } from '../broker-context.js';
import { ConfigFile, type PersistentTable } from '../config-files.js';
import { TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from '../perm.js';
import { SpecialProperty } from '../schedule/special-messages.js';
import { encodeCheckBody } from './check-body.js';
import { decodeOpBody, writeOpRecord } from './op-record.js';

const READ_BATCH = 32;
const SAVE_DELAY_MS = 50;
/** Per-message override of the first check time (RocketMQ property). */
const CHECK_IMMUNITY_PROPERTY = 'CHECK_IMMUNITY_TIME_IN_SECONDS';

/** `transactionCheckpoint.json`. */
export interface TransactionCheckpointJson {
  halfOffset: number;
  opOffset: number;
  checkTimes: Record<string, number>;
}

/** A half message without an op record. */
interface PendingHalf {
  physicalOffset: number;
  storeTimestamp: number;
  producerGroup: string;
  checkTimes: number;
  /** Earliest time of the first check (store time + timeout or immunity). */
  firstCheckMs: number;
}

function safeInt(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

/** Half/op bookkeeping and check-back. `C` is the connection type. */
export class TransactionCheckService<
  C extends object,
> implements PersistentTable<TransactionCheckpointJson> {
  private readonly ctx: BrokerContext<C>;
  private readonly store: MessageStoreApi;
  private readonly log: Logger;
  private readonly file: ConfigFile<TransactionCheckpointJson>;
  private readonly meta = newRecordMeta();
  /** Next half queue offset to read. */
  private halfReadOffset = 0;
  /** Next op queue offset to read. */
  private opReadOffset = 0;
  /** Where a restart resumes (from the checkpoint). */
  private halfStartOffset = 0;
  private readonly pending = new Map<number, PendingHalf>();
  /** Half offsets (>= the pending minimum) that have an op record → op queue offset. */
  private readonly ended = new Map<number, number>();
  /** Check counts loaded from the checkpoint, applied when the halves are read again. */
  private restoredCheckTimes = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private stopped = true;
  /** CHECK_TRANSACTION_STATE requests sent since start. */
  checkRequestCount = 0;
  /** Half messages discarded after transactionCheckMax checks. */
  discardedCount = 0;

  constructor(ctx: BrokerContext<C>, configDir: string, log: Logger) {
    this.ctx = ctx;
    this.store = ctx.store;
    this.log = log;
    this.file = new ConfigFile(configDir, 'transactionCheckpoint.json', this, log);
  }

  /** Smallest half offset not known to be finished. */
  private get halfCommitOffset(): number {
    for (const offset of this.pending.keys()) return offset;
    return this.halfReadOffset;
  }

  /** {@link PersistentTable.encode}. */
  encode(): TransactionCheckpointJson {
    const half = this.halfCommitOffset;
    let op = this.opReadOffset;
    for (const [halfOffset, opOffset] of this.ended) {
      if (halfOffset >= half && opOffset >= 0 && opOffset < op) op = opOffset;
    }
    const checkTimes: Record<string, number> = {};
    for (const [offset, p] of this.pending) if (p.checkTimes > 0) checkTimes[offset] = p.checkTimes;
    return { halfOffset: half, opOffset: op, checkTimes };
  }

  /** {@link PersistentTable.decode}. */
  decode(json: Partial<TransactionCheckpointJson> | undefined): void {
    this.halfStartOffset = this.halfReadOffset = safeInt(json?.halfOffset);
    this.opReadOffset = safeInt(json?.opOffset);
    this.restoredCheckTimes = new Map();
    for (const [k, v] of Object.entries(json?.checkTimes ?? {})) {
      this.restoredCheckTimes.set(Number(k), safeInt(v));
    }
  }

  /** Loads the checkpoint, catches up with both queues and starts the check timer. */
  start(): void {
    this.file.load();
    this.stopped = false;
    this.catchUp();
    const interval = Math.max(this.ctx.config.transactionCheckInterval, 10);
    this.timer = setInterval(() => {
      this.checking = this.checking.then(() => this.check()).catch(() => undefined);
    }, interval);
    this.timer.unref();
  }

  /** Number of half messages waiting for commit/rollback (read so far). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Dispatch notification: a half or op record arrived. */
  onArrived(): void {
    if (!this.stopped) this.catchUp();
  }

  /** Reads new op and half records. Synchronous (store reads are). */
  catchUp(): void {
    this.readOps();
    this.readHalves();
  }

  /** True when the half at `halfOffset` was committed, rolled back or discarded. */
  isEnded(halfOffset: number): boolean {
    this.catchUp();
    if (this.ended.has(halfOffset)) return true;
    return halfOffset < this.halfReadOffset && !this.pending.has(halfOffset);
  }

  /** Records an op written by this broker (before the dispatcher indexes it). */
  markEnded(halfOffset: number): void {
    this.pending.delete(halfOffset);
    if (!this.ended.has(halfOffset)) this.ended.set(halfOffset, -1);
    this.pruneEnded();
    this.file.saveSoon(SAVE_DELAY_MS);
  }

  private readOps(): void {
    while (true) {
      const r = this.store.getMessage(TRANS_OP_HALF_TOPIC, 0, this.opReadOffset, READ_BATCH);
      if (r.status !== 'FOUND') {
        r.slices?.release();
        if (r.nextBeginOffset > this.opReadOffset && r.status !== 'OFFSET_OVERFLOW_ONE') {
          this.opReadOffset = r.nextBeginOffset;
          continue;
        }
        break;
      }
      let opOffset = this.opReadOffset;
      try {
        for (const bytes of r.slices!.buffers) {
          this.forEachRecord(bytes, (body) => {
            for (const halfOffset of decodeOpBody(body)) {
              if (halfOffset < this.halfCommitOffset && !this.pending.has(halfOffset)) continue;
              this.pending.delete(halfOffset);
              const known = this.ended.get(halfOffset);
              if (known === undefined || known < 0) this.ended.set(halfOffset, opOffset);
            }
            opOffset++;
          });
        }
      } finally {
        r.slices!.release();
      }
      this.opReadOffset = r.nextBeginOffset;
      this.file.saveSoon(SAVE_DELAY_MS);
    }
    this.pruneEnded();
  }

  private readHalves(): void {
    const timeoutMs = this.ctx.config.transactionTimeOut;
    while (true) {
      const r = this.store.getMessage(TRANS_HALF_TOPIC, 0, this.halfReadOffset, READ_BATCH);
      if (r.status !== 'FOUND') {
        r.slices?.release();
        if (r.nextBeginOffset > this.halfReadOffset && r.status !== 'OFFSET_OVERFLOW_ONE') {
          this.halfReadOffset = r.nextBeginOffset;
          continue;
        }
        break;
      }
      try {
        for (const bytes of r.slices!.buffers) {
          let p = 0;
          const view = viewOf(bytes);
          while (p + 8 <= bytes.length) {
            const size = view.getInt32(p);
            if (size <= 8 || p + size > bytes.length) break;
            const m = decodeRecord(bytes, p);
            p += size;
            if (m.queueOffset < this.halfStartOffset || this.ended.has(m.queueOffset)) continue;
            const immunity = Number(m.properties.get(CHECK_IMMUNITY_PROPERTY));
            const waitMs = Number.isFinite(immunity) && immunity > 0 ? immunity * 1000 : timeoutMs;
            this.pending.set(m.queueOffset, {
              physicalOffset: m.physicalOffset,
              storeTimestamp: m.storeTimestamp,
              producerGroup: m.properties.get(SpecialProperty.PRODUCER_GROUP) ?? '',
              checkTimes: this.restoredCheckTimes.get(m.queueOffset) ?? 0,
              firstCheckMs: m.storeTimestamp + waitMs,
            });
          }
        }
      } finally {
        r.slices!.release();
      }
      this.halfReadOffset = r.nextBeginOffset;
      this.file.saveSoon(SAVE_DELAY_MS);
    }
  }

  private forEachRecord(bytes: Uint8Array, fn: (body: Uint8Array) => void): void {
    const view = viewOf(bytes);
    const meta = this.meta;
    let p = 0;
    while (p + 8 <= bytes.length) {
      const size = view.getInt32(p);
      if (size <= 8 || p + size > bytes.length) break;
      readRecordMeta(view, bytes, p, meta);
      fn(bytes.subarray(meta.bodyStart, meta.bodyStart + meta.bodyLength));
      p += size;
    }
  }

  /** Forgets op marks of halves before the pending minimum (they can no longer matter). */
  private pruneEnded(): void {
    const min = this.halfCommitOffset;
    for (const halfOffset of this.ended.keys()) {
      if (halfOffset < min) this.ended.delete(halfOffset);
    }
  }

  /** One check round: sends check-backs for old pending halves, discards exhausted ones. */
  async check(nowMs = Date.now()): Promise<void> {
    if (this.stopped) return;
    this.catchUp();
    const cfg = this.ctx.config;
    for (const [halfOffset, p] of [...this.pending]) {
      if (this.stopped) return;
      if (nowMs < p.firstCheckMs) continue;
      if (p.checkTimes >= cfg.transactionCheckMax) {
        await this.discard(halfOffset, p);
        continue;
      }
      if (this.sendCheck(halfOffset, p)) p.checkTimes++;
    }
    this.file.saveSoon(SAVE_DELAY_MS);
  }

  /** Sends one check-back; false when no producer of the group is online (not counted). */
  private sendCheck(halfOffset: number, p: PendingHalf): boolean {
    const conn = this.ctx.producerManager.getAvailableChannel(p.producerGroup);
    if (!conn || !this.ctx.transport.isOpen(conn)) {
      this.log.debug(
        `transaction check of half offset ${halfOffset}: no live producer of group [${p.producerGroup}]`,
      );
      return false;
    }
    const slices = this.store.lookMessageByOffset(p.physicalOffset);
    if (!slices) {
      this.log.warn(`half message at offset ${p.physicalOffset} is gone (expired); dropped`);
      this.pending.delete(halfOffset);
      return false;
    }
    try {
      const bytes =
        slices.buffers.length === 1 ? slices.buffers[0]! : Buffer.concat(slices.buffers);
      const half = decodeRecord(bytes);
      const request = createRequest(RequestCode.CHECK_TRANSACTION_STATE, {
        extFields: encodeCheckTransactionStateRequestHeader({
          tranStateTableOffset: halfOffset,
          commitLogOffset: p.physicalOffset,
          msgId: half.msgId,
          transactionId: half.properties.get(SpecialProperty.TRANSACTION_ID) ?? half.msgId,
          offsetMsgId: half.offsetMsgId,
        }),
        body: encodeCheckBody(half, this.ctx.brokerAddress()),
        oneway: true,
      });
      this.ctx.transport.send(conn, request);
      this.checkRequestCount++;
      return true;
    } finally {
      slices.release();
    }
  }

  private async discard(halfOffset: number, p: PendingHalf): Promise<void> {
    this.log.warn(
      `transaction half message at offset ${halfOffset} (commit-log ${p.physicalOffset}, producer group [${p.producerGroup}]) got no commit or rollback after ${p.checkTimes} checks (transactionCheckMax); discarded`,
    );
    this.discardedCount++;
    this.markEnded(halfOffset);
    await writeOpRecord(this.store, halfOffset, true);
  }

  /** Stops checking and saves the checkpoint. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.checking;
    await this.file.close();
  }
}
