/**
 * Wiring of the message-semantics services into a broker: delay levels, timer messages,
 * transactions (half/op topics, check-back), DLQ re-send and SQL92 subscription checks. The
 * BrokerController creates one, adds {@link handlers} to its request table, calls
 * {@link start} once serving and {@link stop} before the store shuts down.
 */
import path from 'node:path';
import type { Logger } from '../../common/logger.js';
import type { RemotingCommand } from '../../protocol/remoting-command.js';
import { RequestCode } from '../../protocol/request-code.js';
import type { BrokerContext, RequestHandler } from '../broker-context.js';
import { checkHeartbeatSubscriptions } from '../filter/sql-message-filter.js';
import { SCHEDULE_TOPIC, TIMER_TOPIC, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from '../perm.js';
import { EndTransactionProcessor } from '../transaction/end-transaction-processor.js';
import { TransactionCheckService } from '../transaction/transaction-check-service.js';
import { DlqResendProcessor, RESEND_MESSAGE_REQUEST_CODE } from './dlq-resend-processor.js';
import { ScheduleMessageService } from './schedule-message-service.js';
import { delayLevelsOf } from './special-messages.js';
import { TimerMessageService } from './timer-message-service.js';

/** The semantics services of one broker. */
export class MessageSemantics<C extends object> {
  /** Delay-level delivery. */
  readonly schedule: ScheduleMessageService;
  /** Arbitrary-time delivery. */
  readonly timer: TimerMessageService;
  /** Half-message bookkeeping and check-back. */
  readonly transactions: TransactionCheckService<C>;
  private readonly ctx: BrokerContext<C>;
  private readonly endTransaction: EndTransactionProcessor<C>;
  private readonly resend: DlqResendProcessor<C>;
  private unsubscribe: (() => void) | undefined;

  constructor(ctx: BrokerContext<C>, log: Logger) {
    this.ctx = ctx;
    const configDir = path.join(ctx.config.storePathRootDir, 'config');
    const queueCount = (topic: string): number =>
      ctx.topicConfigManager.selectTopicConfig(topic)?.writeQueueNums ?? 0;
    this.schedule = new ScheduleMessageService({
      store: ctx.store,
      levelsMs: delayLevelsOf(ctx.config),
      configDir,
      queueCount,
      log,
    });
    this.timer = new TimerMessageService({
      store: ctx.store,
      dataDir: path.join(ctx.config.storePathRootDir, 'store', 'timerwheel'),
      configDir,
      queueCount,
      log,
    });
    this.transactions = new TransactionCheckService(ctx, configDir, log);
    this.endTransaction = new EndTransactionProcessor(ctx, this.transactions, queueCount, log);
    this.resend = new DlqResendProcessor(ctx);
  }

  /** Request handlers to add to the broker's table. */
  handlers(): [number, RequestHandler<C>][] {
    return [
      [RequestCode.END_TRANSACTION, (c, r) => this.endTransaction.endTransaction(c, r)],
      [RESEND_MESSAGE_REQUEST_CODE, (c, r) => this.resend.resendMessage(c, r)],
    ];
  }

  /**
   * Checks the SQL92 subscriptions of a heartbeat: returns a SUBSCRIPTION_PARSE_FAILED answer
   * for the first bad expression, or undefined to let the heartbeat through.
   */
  checkHeartbeat(request: RemotingCommand): RemotingCommand | undefined {
    return checkHeartbeatSubscriptions(request);
  }

  /** Starts delivery and check-back (after the broker serves requests). */
  start(): void {
    this.unsubscribe = this.ctx.store.onDispatched((m) => {
      const topic = m.topic;
      if (topic === SCHEDULE_TOPIC) this.schedule.onScheduled(m.queueId, m.tagsCode);
      else if (topic === TIMER_TOPIC) this.timer.onArrived();
      else if (topic === TRANS_HALF_TOPIC || topic === TRANS_OP_HALF_TOPIC) {
        this.transactions.onArrived();
      }
    });
    this.schedule.start();
    this.timer.start();
    this.transactions.start();
  }

  /** Stops the services and saves their progress. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await Promise.all([this.schedule.stop(), this.timer.stop(), this.transactions.stop()]);
  }
}
