import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../common/logger.js';
import { RemotingClient } from '../net/remoting-client.js';
import { NameServer } from '../namesrv/name-server.js';
import { NameServerRegistrar } from './namesrv-registrar.js';
import { TopicConfigManager, makeTopicConfig } from './topic-config-manager.js';

const log = createLogger('registrar-test');

/** A topic manager wired to a registrar the way the broker does it. */
function setup(namesrvAddr: string): {
  topics: TopicConfigManager;
  registrar: NameServerRegistrar;
  client: RemotingClient;
} {
  const topics = new TopicConfigManager({ defaultTopicQueueNums: 4, autoCreateTopicEnable: true });
  const client = new RemotingClient();
  const registrar = new NameServerRegistrar(
    client,
    {
      namesrvAddr,
      clusterName: 'C',
      brokerName: 'b1',
      brokerId: 0,
      brokerAddr: () => '127.0.0.1:10911',
      topicTable: () => topics.encode(),
      dataVersion: () => topics.dataVersion.toJSON(),
      timeoutMs: 2_000,
    },
    log,
  );
  topics.onChange((config, deleted) => registrar.noteTopicChange(config, deleted));
  return { topics, registrar, client };
}

test('topic changes are registered incrementally and merged; a deletion sends the full table', async () => {
  const ns = new NameServer();
  await ns.start({ host: '127.0.0.1', port: 0 });
  const { topics, registrar, client } = setup(`127.0.0.1:${ns.port}`);
  try {
    await registrar.registerAll();
    assert.deepEqual(registrar.rounds, { full: 1, incremental: 0, versionChecks: 0 });
    assert.ok(ns.routes.pickupTopicRouteData('TBW102'));

    // 200 creations, each awaiting its registration, 20 at a time: merged into few deltas.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 200) {
        const name = `T${next++}`;
        topics.updateTopicConfig(makeTopicConfig(name, { readQueueNums: 1, writeQueueNums: 1 }));
        await registrar.registerChanges();
        assert.ok(ns.routes.pickupTopicRouteData(name), `${name} routable once registered`);
      }
    };
    await Promise.all(Array.from({ length: 20 }, () => worker()));
    assert.equal(registrar.rounds.full, 1);
    assert.ok(registrar.rounds.incremental >= 1 && registrar.rounds.incremental < 200);
    // Deltas merged: the system topics registered first are still there.
    assert.ok(ns.routes.pickupTopicRouteData('TBW102'));
    assert.equal(ns.routes.getAllTopicList().length, topics.size);

    // The name server holds the broker's current version: a periodic full registration with
    // the same version changes nothing, and QUERY_DATA_VERSION says "unchanged".
    const version = topics.dataVersion.toJSON();
    assert.equal(ns.routes.queryDataVersion('127.0.0.1:10911', version, Date.now()).changed, false);

    // Nothing pending: no round at all.
    const before = { ...registrar.rounds };
    await registrar.registerChanges();
    assert.deepEqual(registrar.rounds, before);

    topics.deleteTopicConfig('T7');
    await registrar.registerChanges();
    assert.equal(registrar.rounds.full, 2);
    assert.equal(ns.routes.pickupTopicRouteData('T7'), undefined);
    assert.ok(ns.routes.pickupTopicRouteData('T8'));
  } finally {
    client.close();
    await ns.stop();
  }
});

test('a name server that missed registrations, or lost its table, gets the full table again', async () => {
  const ns = new NameServer();
  await ns.start({ host: '127.0.0.1', port: 0 });
  const { topics, registrar, client } = setup(`127.0.0.1:${ns.port}`);
  try {
    await registrar.registerAll();
    // The name server forgets the broker (as after its restart), then a delta arrives.
    ns.routes.unregisterBroker({
      brokerName: 'b1',
      brokerAddr: '127.0.0.1:10911',
      clusterName: 'C',
      brokerId: 0,
    });
    topics.updateTopicConfig(makeTopicConfig('late', { readQueueNums: 1, writeQueueNums: 1 }));
    await registrar.registerChanges();
    assert.ok(ns.routes.pickupTopicRouteData('late'));
    assert.equal(ns.routes.pickupTopicRouteData('TBW102'), undefined, 'only the delta is known');
    // Its stored version matches no real one, so the next full registration replaces the table.
    await registrar.registerAll();
    assert.ok(ns.routes.pickupTopicRouteData('TBW102'));
    assert.ok(ns.routes.pickupTopicRouteData('late'));
  } finally {
    client.close();
    await ns.stop();
  }

  // A name server that is down: the failure marks it for a full registration.
  const { topics: t2, registrar: r2, client: c2 } = setup('127.0.0.1:1');
  try {
    t2.updateTopicConfig(makeTopicConfig('x', { readQueueNums: 1, writeQueueNums: 1 }));
    await r2.registerChanges();
    assert.deepEqual(r2.rounds, { full: 0, incremental: 1, versionChecks: 0 });
    await r2.registerChanges();
    assert.deepEqual(
      r2.rounds,
      { full: 1, incremental: 1, versionChecks: 0 },
      'retried with the full table',
    );
  } finally {
    c2.close();
  }
});

test('the periodic refresh renews the lease with a version check and sends the table only where it differs', async () => {
  const ns = new NameServer();
  await ns.start({ host: '127.0.0.1', port: 0 });
  const { topics, registrar, client } = setup(`127.0.0.1:${ns.port}`);
  try {
    await registrar.registerAll();
    const leaseEndMs = Date.now() + 120_000;
    await new Promise((r) => setTimeout(r, 30));
    // Unchanged table: a version check, no table; the check renews the broker's lease.
    await registrar.refresh();
    assert.deepEqual(registrar.rounds, { full: 1, incremental: 0, versionChecks: 1 });
    assert.equal(ns.routes.scanNotActiveBroker(leaseEndMs + 10).length, 0, 'lease renewed');

    // A pending change goes out as a delta (which renews the lease itself), not a check.
    topics.updateTopicConfig(makeTopicConfig('fresh', { readQueueNums: 1, writeQueueNums: 1 }));
    await registrar.refresh();
    assert.deepEqual(registrar.rounds, { full: 1, incremental: 1, versionChecks: 1 });
    assert.ok(ns.routes.pickupTopicRouteData('fresh'));

    // The name server lost the broker (restarted): the check says "changed", the table follows.
    ns.routes.unregisterBroker({
      brokerName: 'b1',
      brokerAddr: '127.0.0.1:10911',
      clusterName: 'C',
      brokerId: 0,
    });
    assert.equal(ns.routes.pickupTopicRouteData('fresh'), undefined);
    await registrar.refresh();
    assert.deepEqual(registrar.rounds, { full: 2, incremental: 1, versionChecks: 2 });
    assert.ok(ns.routes.pickupTopicRouteData('fresh'));
    assert.ok(ns.routes.pickupTopicRouteData('TBW102'));
  } finally {
    client.close();
    await ns.stop();
  }
});
