/**
 * END_TRANSACTION (37): the producer's verdict on a half message. Commit re-puts the message to
 * its real topic (sysFlag COMMIT, preparedTransactionOffset = the half's log offset) and then
 * writes the op record; rollback writes only the op record; "unknown" (0) leaves the half to the
 * check-back. A verdict for a half that already has one is acknowledged and ignored, so a late
 * answer to a check-back never delivers a message twice.
 */
import {
  SYSFLAG_TRANSACTION_COMMIT,
  SYSFLAG_TRANSACTION_MASK,
} from '../../common/codec/message-record.js';
import { decodeRecord, type DecodedMessage } from '../../common/codec/decoded-message.js';
import type { Logger } from '../../common/logger.js';
import {
  TransactionType,
  decodeEndTransactionRequestHeader,
  type EndTransactionRequestHeader,
} from '../../protocol/headers/transaction.js';
import type { RemotingCommand } from '../../protocol/remoting-command.js';
import { ResponseCode } from '../../protocol/response-code.js';
import type { LogSlices } from '../../store/types.js';
import type { BrokerContext } from '../broker-context.js';
import { TRANS_HALF_TOPIC } from '../perm.js';
import { errorResponse, ok, putStatusToCode, reply } from '../responses.js';
import { SpecialProperty, restoreRealMessage } from '../schedule/special-messages.js';
import { writeOpRecord } from './op-record.js';
import type { TransactionCheckService } from './transaction-check-service.js';

/** Properties dropped when a committed message reaches its topic. */
const COMMIT_STRIP: readonly string[] = ['TRANSACTION_CHECK_TIMES'];

/** Handles END_TRANSACTION. */
export class EndTransactionProcessor<C extends object> {
  private readonly ending = new Set<number>();

  constructor(
    private readonly ctx: BrokerContext<C>,
    private readonly service: TransactionCheckService<C>,
    private readonly queueCount: (topic: string) => number,
    private readonly log: Logger,
  ) {}

  /**
   * END_TRANSACTION entry point. Clients usually send it one-way, so refusals are also logged.
   */
  async endTransaction(conn: C, request: RemotingCommand): Promise<RemotingCommand> {
    const response = await this.handle(conn, request);
    if (response.code !== ResponseCode.SUCCESS) {
      this.log.warn(`END_TRANSACTION refused (code ${response.code}): ${response.remark ?? ''}`);
    }
    return response;
  }

  private async handle(_conn: C, request: RemotingCommand): Promise<RemotingCommand> {
    let header: EndTransactionRequestHeader;
    try {
      header = decodeEndTransactionRequestHeader(request.extFields);
    } catch (error) {
      return errorResponse(request, error);
    }
    const verdict = header.commitOrRollback;
    if (verdict === TransactionType.NOT_TYPE || verdict === TransactionType.PREPARED) {
      return ok(request); // unknown: the check-back will ask again
    }
    if (verdict !== TransactionType.COMMIT && verdict !== TransactionType.ROLLBACK) {
      return reply(
        request,
        ResponseCode.SYSTEM_ERROR,
        `commitOrRollback ${verdict} is not 8 (commit), 12 (rollback) or 0 (unknown)`,
      );
    }
    const halfOffset = header.tranStateTableOffset;
    if (this.ending.has(halfOffset) || this.service.isEnded(halfOffset)) {
      this.log.debug(`END_TRANSACTION for finished half offset ${halfOffset} ignored`);
      return ok(request);
    }
    this.ending.add(halfOffset);
    let slices: LogSlices | null = null;
    try {
      slices = this.ctx.store.lookMessageByOffset(header.commitLogOffset);
      const half = slices ? this.halfOf(slices) : undefined;
      if (!half || half.topic !== TRANS_HALF_TOPIC || half.queueOffset !== halfOffset) {
        return reply(
          request,
          ResponseCode.SYSTEM_ERROR,
          `no half message at commit-log offset ${header.commitLogOffset} with queue offset ${halfOffset}; it may have expired or the offsets are wrong`,
        );
      }
      const group = half.properties.get(SpecialProperty.PRODUCER_GROUP);
      if (group !== undefined && group !== header.producerGroup) {
        return reply(
          request,
          ResponseCode.SYSTEM_ERROR,
          `the half message belongs to producer group [${group}], not [${header.producerGroup}]`,
        );
      }
      if (verdict === TransactionType.COMMIT) {
        const real = restoreRealMessage(
          half,
          COMMIT_STRIP,
          this.queueCount,
          (half.sysFlag & ~SYSFLAG_TRANSACTION_MASK) | SYSFLAG_TRANSACTION_COMMIT,
          header.commitLogOffset,
        );
        if (!real) {
          return reply(request, ResponseCode.SYSTEM_ERROR, 'the half message has no REAL_TOPIC');
        }
        const put = await this.ctx.store.putMessage(real);
        const { code, remark } = putStatusToCode(put.status);
        if (code !== ResponseCode.SUCCESS && code !== ResponseCode.FLUSH_DISK_TIMEOUT) {
          return reply(request, code, remark);
        }
      }
      this.service.markEnded(halfOffset);
      await writeOpRecord(this.ctx.store, halfOffset);
      return ok(request);
    } catch (error) {
      return errorResponse(request, error);
    } finally {
      slices?.release();
      this.ending.delete(halfOffset);
    }
  }

  private halfOf(slices: LogSlices): DecodedMessage | undefined {
    const bytes = slices.buffers.length === 1 ? slices.buffers[0]! : Buffer.concat(slices.buffers);
    try {
      return decodeRecord(bytes);
    } catch {
      return undefined;
    }
  }
}
