import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PullRequestHoldService, type HeldPullRequest } from './pull-request-hold-service.js';
import { TagMessageFilter, buildSubscriptionData } from './subscription-data.js';
import { javaStringHashCode } from '../common/java-hash.js';

interface Req extends HeldPullRequest {
  id: string;
}

function req(id: string, pullFromOffset: number, deadlineMs: number, tags = '*'): Req {
  return {
    id,
    topic: 'T',
    queueId: 1,
    pullFromOffset,
    deadlineMs,
    filter: new TagMessageFilter(buildSubscriptionData('T', tags)),
  };
}

test('wakes matching pulls on arrival, keeps the others', () => {
  const woken: string[] = [];
  const s = new PullRequestHoldService<Req>((r, timedOut) => woken.push(`${r.id}:${timedOut}`));
  const far = Date.now() + 60_000;
  s.hold(req('a', 5, far));
  s.hold(req('b', 7, far));
  s.hold(req('c', 5, far, 'TagA'));
  s.notifyMessageArriving('T', 2, 100, 0);
  s.notifyMessageArriving('X', 1, 100, 0);
  assert.deepEqual(woken, []);
  s.notifyMessageArriving('T', 1, 6, javaStringHashCode('TagB'));
  assert.deepEqual(woken, ['a:false']);
  s.notifyMessageArriving('T', 1, 8, javaStringHashCode('TagA'));
  assert.deepEqual(woken, ['a:false', 'b:false', 'c:false']);
  assert.equal(s.heldCount, 0);
  s.shutdown();
});

test('times out at the deadline and answers everything on shutdown', async () => {
  const woken: string[] = [];
  const s = new PullRequestHoldService<Req>((r, timedOut) => woken.push(`${r.id}:${timedOut}`));
  const start = Date.now();
  s.hold(req('late', 0, start + 10_000));
  s.hold(req('soon', 0, start + 60));
  s.hold(req('sooner', 0, start + 30));
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(woken, ['sooner:true', 'soon:true']);
  assert.equal(s.heldCount, 1);
  assert.equal(
    s.removeWhere((r) => r.id === 'nothing'),
    0,
  );
  s.shutdown();
  assert.deepEqual(woken, ['sooner:true', 'soon:true', 'late:true']);
  s.hold(req('after', 0, start));
  assert.equal(woken.at(-1), 'after:true');
});

test('removeWhere drops pulls of a closed connection', () => {
  const s = new PullRequestHoldService<Req>(() => assert.fail('no wakeup expected'));
  s.hold(req('x', 0, Date.now() + 60_000));
  s.hold(req('y', 0, Date.now() + 60_000));
  assert.equal(
    s.removeWhere((r) => r.id === 'x'),
    1,
  );
  assert.equal(s.heldCount, 1);
  s.removeWhere(() => true);
  s.shutdown();
});
