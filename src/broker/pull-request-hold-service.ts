/**
 * Long polling: pulls that found nothing are parked here, keyed by topic and queue id, until a
 * matching message is dispatched (the store's `onDispatched` calls
 * {@link PullRequestHoldService.notifyMessageArriving}) or their deadline passes. Either way the
 * owner's `wakeup` callback re-runs the pull and answers it.
 *
 * One timer, armed for the earliest deadline, serves every held pull. The arrival path does two
 * Map lookups and allocates nothing unless a held pull is woken.
 */
import type { MessageFilter } from '../store/types.js';

/** What the service needs to know about a held pull; the owner adds its own fields. */
export interface HeldPullRequest {
  readonly topic: string;
  readonly queueId: number;
  /** The queue offset the pull asked for: it is woken once the queue grows past it. */
  readonly pullFromOffset: number;
  /** When to answer anyway (ms since epoch). */
  readonly deadlineMs: number;
  /** Filter of the pull's subscription (checked against the arriving message's tag hash). */
  readonly filter: MessageFilter;
}

/**
 * Re-runs a held pull and answers it. `timedOut` is true when the deadline passed (or the
 * service is shutting down) rather than a message arriving.
 */
export type PullWakeup<R extends HeldPullRequest> = (request: R, timedOut: boolean) => void;

/** The parking lot for long-polling pulls. */
export class PullRequestHoldService<R extends HeldPullRequest> {
  /** topic → queueId → held pulls, in arrival order. */
  private readonly table = new Map<string, Map<number, R[]>>();
  private readonly wakeup: PullWakeup<R>;
  private timer: NodeJS.Timeout | undefined;
  private timerDeadlineMs = Number.POSITIVE_INFINITY;
  private held = 0;
  private stopped = false;

  constructor(wakeup: PullWakeup<R>) {
    this.wakeup = wakeup;
  }

  /** Number of pulls currently held. */
  get heldCount(): number {
    return this.held;
  }

  /** Parks a pull until a message arrives or its deadline passes. */
  hold(request: R): void {
    if (this.stopped) {
      this.wakeup(request, true);
      return;
    }
    let queues = this.table.get(request.topic);
    if (!queues) {
      queues = new Map();
      this.table.set(request.topic, queues);
    }
    let list = queues.get(request.queueId);
    if (!list) {
      list = [];
      queues.set(request.queueId, list);
    }
    list.push(request);
    this.held++;
    if (request.deadlineMs < this.timerDeadlineMs) this.arm(request.deadlineMs);
  }

  /**
   * A message was dispatched to `topic`/`queueId`; `maxOffset` is the queue's new max offset
   * (its last entry's offset + 1) and `tagsCode` the entry's tag hash. Wakes every pull waiting
   * below `maxOffset` whose filter accepts the tag.
   */
  notifyMessageArriving(topic: string, queueId: number, maxOffset: number, tagsCode: number): void {
    const queues = this.table.get(topic);
    if (queues === undefined) return;
    const list = queues.get(queueId);
    if (list === undefined) return;
    let hit = false;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (maxOffset > r.pullFromOffset && r.filter.isMatchedByTagsCode(tagsCode)) {
        hit = true;
        break;
      }
    }
    if (!hit) return;
    // Detach the list first: wakeups may park new pulls on the same queue.
    queues.delete(queueId);
    if (queues.size === 0) this.table.delete(topic);
    const keep: R[] = [];
    for (const r of list) {
      if (maxOffset > r.pullFromOffset && r.filter.isMatchedByTagsCode(tagsCode)) {
        this.held--;
        this.wakeup(r, false);
      } else {
        keep.push(r);
      }
    }
    for (const r of keep) {
      this.held--;
      this.hold(r);
    }
  }

  /** Removes (without answering) every held pull matching `predicate`, e.g. of a closed connection. */
  removeWhere(predicate: (request: R) => boolean): number {
    let removed = 0;
    for (const [topic, queues] of this.table) {
      for (const [queueId, list] of queues) {
        const keep = list.filter((r) => !predicate(r));
        removed += list.length - keep.length;
        if (keep.length === 0) queues.delete(queueId);
        else if (keep.length !== list.length) queues.set(queueId, keep);
      }
      if (queues.size === 0) this.table.delete(topic);
    }
    this.held -= removed;
    return removed;
  }

  private arm(deadlineMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDeadlineMs = deadlineMs;
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadlineMs - Date.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.timerDeadlineMs = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const due: R[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [topic, queues] of this.table) {
      for (const [queueId, list] of queues) {
        let k = 0;
        for (const r of list) {
          if (r.deadlineMs <= now) due.push(r);
          else {
            list[k++] = r;
            if (r.deadlineMs < next) next = r.deadlineMs;
          }
        }
        list.length = k;
        if (k === 0) queues.delete(queueId);
      }
      if (queues.size === 0) this.table.delete(topic);
    }
    this.held -= due.length;
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
    for (const r of due) this.wakeup(r, true);
  }

  /** Answers every held pull (as timed out) and stops holding new ones. */
  shutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const all: R[] = [];
    for (const queues of this.table.values()) for (const list of queues.values()) all.push(...list);
    this.table.clear();
    this.held = 0;
    for (const r of all) this.wakeup(r, true);
  }
}
