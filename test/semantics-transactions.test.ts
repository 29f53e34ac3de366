/**
 * Transactions end to end with the SDK's TransactionProducer: half messages are invisible,
 * commit delivers, rollback does not, an unknown verdict is settled by the check-back, a broker
 * restart in the middle keeps the pending halves, and check-backs stop after
 * transactionCheckMax with the half discarded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, TransactionProducer, type TransactionState } from '../src/index.js';
import { TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from '../src/broker/perm.js';
import { waitFor } from '../src/common/wait-for.fixture.js';
import { SemanticsCluster, fastClient } from './semantics-harness.js';

const cluster = new SemanticsCluster({
  transactionCheckInterval: 100,
  transactionTimeOut: 300,
  transactionCheckMax: 3,
});
let producer: TransactionProducer;
/** What the checker answers, per message body; UNKNOWN when absent. */
const verdicts = new Map<string, TransactionState>();
const checks = new Map<string, number>();

before(async () => {
  await cluster.start();
  const admin = new Admin(fastClient(cluster.nameServer));
  await admin.createTopic('TxT', { queueNums: 2 });
  await admin.shutdown();
  producer = new TransactionProducer({
    ...fastClient(cluster.nameServer),
    group: 'PG_TX',
    checker: (msg) => {
      const body = msg.body.toString();
      checks.set(body, (checks.get(body) ?? 0) + 1);
      assert.equal(msg.topic, 'TxT', 'check-back carries the real topic');
      return verdicts.get(body) ?? 'UNKNOWN';
    },
  });
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await cluster.stop();
});

function bodies(): string[] {
  return cluster.readTopic('TxT').map((m) => Buffer.from(m.body).toString());
}

test('commit: the half is invisible while the local transaction runs, then delivered', async () => {
  const r = await producer.sendMessageInTransaction(
    { topic: 'TxT', body: 'commit-me', tags: 'TagTx', keys: 'order-1' },
    () => {
      assert.equal(bodies().length, 0, 'invisible during the local transaction');
      return 'COMMIT';
    },
  );
  assert.equal(r.state, 'COMMIT');
  await waitFor('committed message', () => bodies().includes('commit-me'));
  const [msg] = cluster.readTopic('TxT');
  assert.equal(msg!.properties.get('TAGS'), 'TagTx');
  assert.equal(msg!.properties.get('UNIQ_KEY'), r.msgId);
  assert.equal(msg!.sysFlag & 0xc, 0x8, 'stored with the COMMIT sysFlag');
  assert.equal(cluster.readQueue(TRANS_HALF_TOPIC).length, 1);
  await waitFor('op record', () => cluster.readQueue(TRANS_OP_HALF_TOPIC).length === 1);
});

test('rollback: never delivered', async () => {
  const r = await producer.sendMessageInTransaction({ topic: 'TxT', body: 'roll-me' }, () =>
    Promise.resolve('ROLLBACK' as const),
  );
  assert.equal(r.state, 'ROLLBACK');
  await waitFor('op record', () => cluster.readQueue(TRANS_OP_HALF_TOPIC).length === 2);
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.ok(!bodies().includes('roll-me'));
  assert.equal(checks.get('roll-me'), undefined, 'no check-back after a verdict');
});

test('unknown: the check-back settles it once', async () => {
  verdicts.set('ask-me', 'COMMIT');
  const r = await producer.sendMessageInTransaction({ topic: 'TxT', body: 'ask-me' }, () => {
    throw new Error('local transaction crashed');
  });
  assert.equal(r.state, 'UNKNOWN');
  await waitFor('checked and committed', () => bodies().includes('ask-me'), 5000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(checks.get('ask-me'), 1, 'checked exactly once');
  assert.equal(bodies().filter((b) => b === 'ask-me').length, 1, 'delivered once');
});

test('a broker restart in the middle keeps the pending halves', async () => {
  await producer.sendMessageInTransaction({ topic: 'TxT', body: 'after-restart-commit' }, () => {
    return 'UNKNOWN';
  });
  await producer.sendMessageInTransaction({ topic: 'TxT', body: 'after-restart-rollback' }, () => {
    return 'UNKNOWN';
  });
  await cluster.restartBroker();
  assert.equal(cluster.broker.semantics.transactions.pendingCount, 2, 'both halves pending');
  verdicts.set('after-restart-commit', 'COMMIT');
  verdicts.set('after-restart-rollback', 'ROLLBACK');
  await waitFor(
    'settled after restart',
    () => cluster.broker.semantics.transactions.pendingCount === 0,
    8000,
  );
  await waitFor('committed after restart', () => bodies().includes('after-restart-commit'));
  await new Promise((resolve) => setTimeout(resolve, 400));
  const all = bodies();
  assert.equal(all.filter((b) => b === 'after-restart-commit').length, 1);
  assert.ok(!all.includes('after-restart-rollback'));
  assert.deepEqual(all.filter((b) => b === 'commit-me' || b === 'ask-me').length, 2, 'no repeats');
});

test('check-backs stop after transactionCheckMax and the half is discarded', async () => {
  const service = cluster.broker.semantics.transactions;
  const discardedBefore = service.discardedCount;
  await producer.sendMessageInTransaction({ topic: 'TxT', body: 'never-decided' }, () => 'UNKNOWN');
  await waitFor('discarded', () => service.discardedCount === discardedBefore + 1, 8000);
  assert.equal(checks.get('never-decided'), 3, 'checked transactionCheckMax times');
  assert.equal(service.pendingCount, 0);
  assert.ok(!bodies().includes('never-decided'));
});
