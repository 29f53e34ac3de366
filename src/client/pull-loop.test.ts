import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bodyCrc,
  encodeRecord,
  recordSizeBytes,
  sysFlagWithHosts,
} from '../common/codec/message-record.js';
import { encodeProperties } from '../common/codec/properties.js';
import { PullSysFlag, type PullMessageRequestHeader } from '../protocol/headers/pull-message.js';
import type { RawPullResult } from './client-api.js';
import type { ClientInstance } from './client-instance.js';
import { messageQueue, type MessageQueue } from './message-queue.js';
import { ProcessQueue } from './process-queue.js';
import { pullLoop, type PullLoopHost, type PullSettings } from './pull-loop.js';
import { parseSubscription, type SubscriptionData } from './subscription.js';

const SETTINGS: PullSettings = {
  suspendMs: 100,
  pullTimeoutMs: 500,
  errorDelayMs: 1,
  batchSize: 7,
};
const HOST_V4 = new Uint8Array([127, 0, 0, 1]);

/** One stored record of `topic` at `queueOffset` with tag `tag`, as a pull answer carries it. */
function record(topic: string, queueOffset: number, tag: string): Buffer {
  const topicBytes = Buffer.from(topic);
  const props = Buffer.from(encodeProperties({ TAGS: tag }));
  const body = Buffer.from(`body-${queueOffset}`);
  const sysFlag = sysFlagWithHosts(0, 4, 4);
  const buf = Buffer.alloc(recordSizeBytes(body.length, topicBytes.length, props.length, sysFlag));
  const header = {
    bodyCrc: bodyCrc(body),
    queueId: 0,
    flag: 0,
    queueOffset,
    physicalOffset: queueOffset * 1000,
    sysFlag,
    bornTimestamp: 1,
    bornHostAddress: HOST_V4,
    bornHostPort: 1,
    storeTimestamp: 2,
    storeHostAddress: HOST_V4,
    storeHostPort: 2,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
  const view = new DataView(buf.buffer, buf.byteOffset);
  encodeRecord(view, buf, 0, header, body, topicBytes, props, props.length);
  return buf;
}

type PullAnswer = Partial<RawPullResult> | Error;

/** A host whose broker answers the pulls with `answers` in turn, then stops the consumer. */
class FakeHost implements PullLoopHost {
  readonly group = 'G';
  readonly clustering = true;
  readonly locksQueues = false;
  running = true;
  readonly wake = new Set<() => void>();
  readonly requests: PullMessageRequestHeader[] = [];
  readonly errors: Error[] = [];
  readonly resets: number[] = [];
  readonly commits: number[] = [];
  pulledCount = 0;
  queueBlocked = false;
  totalBlocked = false;
  readonly totalWaits: number[] = [];
  releaseTotal: () => void = () => undefined;
  commitOffset = -1;
  readonly client: ClientInstance;

  constructor(
    private readonly answers: PullAnswer[],
    private readonly sub?: SubscriptionData,
  ) {
    const api = {
      pullMessage: (_addr: string, header: PullMessageRequestHeader): Promise<RawPullResult> => {
        this.requests.push({ ...header });
        const answer = this.answers.shift();
        if (this.answers.length === 0) this.running = false;
        if (answer === undefined || answer instanceof Error) {
          return Promise.reject(answer ?? new Error('no answer left'));
        }
        return Promise.resolve({
          status: 'NO_NEW_MSG',
          nextBeginOffset: 0,
          minOffset: 0,
          maxOffset: 0,
          suggestWhichBrokerId: 0,
          body: undefined,
          ...answer,
        });
      },
    };
    this.client = {
      api,
      brokerAddr: () => '127.0.0.1:10911',
      updateRoute: () => Promise.resolve(undefined),
    } as unknown as ClientInstance;
  }

  subscriptionOf(): SubscriptionData | undefined {
    return this.sub;
  }
  overTotalLimits(): boolean {
    return this.totalBlocked;
  }
  underTotalLimits(maxWaitMs: number): Promise<void> {
    this.totalWaits.push(maxWaitMs);
    return new Promise((resolve) => {
      this.releaseTotal = () => {
        this.totalBlocked = false;
        resolve();
      };
    });
  }
  overQueueLimits(): boolean {
    return this.queueBlocked;
  }
  lockValid(): boolean {
    return true;
  }
  commitOffsetOf(_mq: MessageQueue): Promise<number> {
    return Promise.resolve(this.commitOffset);
  }
  commit(_pq: ProcessQueue, offset: number): void {
    this.commits.push(offset);
  }
  resetQueue(pq: ProcessQueue, offset: number): void {
    this.resets.push(offset);
    pq.nextPullOffset = offset;
  }
  pulled(): void {
    this.pulledCount++;
  }
  reportError(err: Error): void {
    this.errors.push(err);
  }
}

function queue(nextPullOffset: number): ProcessQueue {
  const pq = new ProcessQueue(messageQueue('T', 'broker-a', 0));
  pq.nextPullOffset = nextPullOffset;
  return pq;
}

test('a pull keeps the messages whose tag the subscription names and moves the queue on', async () => {
  const found = Buffer.concat([record('T', 10, 'a'), record('T', 11, 'b'), record('T', 12, 'a')]);
  const host = new FakeHost(
    [{ status: 'FOUND', nextBeginOffset: 13, body: found }, { nextBeginOffset: 13 }],
    parseSubscription('T', 'a', 42),
  );
  host.commitOffset = 5;
  const pq = queue(10);
  await pullLoop(host, pq, SETTINGS);

  assert.equal(host.requests.length, 2);
  const first = host.requests[0]!;
  assert.equal(first.consumerGroup, 'G');
  assert.equal(first.queueOffset, 10);
  assert.equal(first.maxMsgNums, 7);
  assert.equal(first.suspendTimeoutMillis, 100);
  assert.equal(first.subscription, 'a');
  assert.equal(first.subVersion, 42);
  assert.equal(first.commitOffset, 5);
  assert.notEqual(
    first.sysFlag & PullSysFlag.COMMIT_OFFSET,
    0,
    'COMMIT_OFFSET set when an offset is to be reported',
  );
  assert.equal(host.requests[1]!.queueOffset, 13);
  const kept: number[] = [];
  for (let m = pq.takeNext(); m !== undefined; m = pq.takeNext()) kept.push(m.queueOffset);
  assert.deepEqual(kept, [10, 12]);
  assert.equal(pq.nextPullOffset, 13);
  assert.equal(host.pulledCount, 2);
  assert.deepEqual(host.errors, []);
});

test('an offset out of range is reported and the queue reset to where the broker says', async () => {
  const host = new FakeHost([{ status: 'OFFSET_ILLEGAL', nextBeginOffset: 3 }, {}]);
  const pq = queue(99);
  await pullLoop(host, pq, SETTINGS);
  assert.deepEqual(host.resets, [3]);
  assert.match(
    host.errors[0]?.message ?? '',
    /offset 99 of T:broker-a:0 is out of range; moving to 3/,
  );
  assert.equal(host.requests[1]!.queueOffset, 3);
  assert.equal(host.pulledCount, 1, 'the reset pull itself delivers nothing');
});

test('a failed pull is reported and retried; a queue over its limits is not pulled', async () => {
  const host = new FakeHost([new Error('broker gone'), { nextBeginOffset: 4 }]);
  const pq = queue(4);
  await pullLoop(host, pq, SETTINGS);
  assert.deepEqual(
    host.errors.map((e) => e.message),
    ['broker gone'],
  );
  assert.equal(host.requests.length, 2);

  const blocked = new FakeHost([{ nextBeginOffset: 4 }]);
  blocked.queueBlocked = true;
  const loop = pullLoop(blocked, queue(4), SETTINGS);
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(blocked.requests.length, 0, 'no pull while the queue is over its limits');
  blocked.queueBlocked = false;
  await loop;
  assert.equal(blocked.requests.length, 1);
});

test('a dropped queue or a stopped consumer ends the loop without pulling', async () => {
  const host = new FakeHost([{}]);
  const pq = queue(0);
  pq.dropped = true;
  await pullLoop(host, pq, SETTINGS);
  host.running = false;
  await pullLoop(host, queue(0), SETTINGS);
  assert.equal(host.requests.length, 0);
});

test('over the consumer-wide limits a loop waits to be woken instead of polling', async () => {
  const host = new FakeHost([{ nextBeginOffset: 4 }]);
  host.totalBlocked = true;
  const loop = pullLoop(host, queue(4), SETTINGS);
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(host.requests.length, 0);
  assert.deepEqual(host.totalWaits, [1000], 'one wait, bounded, not a 50 ms poll');
  host.releaseTotal();
  await loop;
  assert.equal(host.requests.length, 1);
});
