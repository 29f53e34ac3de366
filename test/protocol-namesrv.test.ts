/**
 * The name server over real sockets: broker registration → route query → expiry, KV config
 * persistence, and a route lookup by the real `ali-ons` client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { NameServer } from '../src/namesrv/name-server.js';
import { RemotingClient } from '../src/net/remoting-client.js';
import { createRequest } from '../src/protocol/remoting-command.js';
import { RequestCode } from '../src/protocol/request-code.js';
import { ResponseCode } from '../src/protocol/response-code.js';
import { encodeRegisterBrokerRequestHeader } from '../src/protocol/headers/broker-registration.js';
import {
  decodeClusterInfo,
  decodeKVTable,
  decodeTopicList,
  decodeTopicRouteData,
  encodeRegisterBrokerBody,
} from '../src/protocol/route-data.js';

function registerRequest(brokerName: string, brokerAddr: string, topics: string[], counter = 1) {
  const topicConfigTable = Object.fromEntries(
    topics.map((t) => [
      t,
      {
        topicName: t,
        readQueueNums: 4,
        writeQueueNums: 4,
        perm: 6,
        topicFilterType: 'SINGLE_TAG',
        topicSysFlag: 0,
        order: false,
      },
    ]),
  );
  return createRequest(RequestCode.REGISTER_BROKER, {
    extFields: encodeRegisterBrokerRequestHeader({
      brokerName,
      brokerAddr,
      clusterName: 'DefaultCluster',
      brokerId: 0,
      haServerAddr: '',
      compressed: false,
      bodyCrc32: 0,
    }),
    body: encodeRegisterBrokerBody({
      topicConfigSerializeWrapper: { topicConfigTable, dataVersion: { timestamp: 1, counter } },
      filterServerList: [],
    }),
  });
}

test('register → route → expiry, cluster info, topic list, delete', async () => {
  const ns = new NameServer({ brokerExpiryMs: 300, scanIntervalMs: 50 });
  await ns.start({ port: 0 });
  const client = new RemotingClient();
  const addr = ns.address;
  try {
    const missing = await client.invoke(
      addr,
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T' } }),
      1000,
    );
    assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(missing.remark!, /T/);

    const reg = await client.invoke(
      addr,
      registerRequest('broker-a', '127.0.0.1:10911', ['T', 'TBW102']),
      1000,
    );
    assert.equal(reg.code, ResponseCode.SUCCESS);
    assert.deepEqual(decodeKVTable(reg.body), {});

    const routeResp = await client.invoke(
      addr,
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T' } }),
      1000,
    );
    assert.equal(routeResp.code, 0);
    const route = decodeTopicRouteData(routeResp.body!);
    assert.deepEqual(route.brokerDatas[0]!.brokerAddrs, { '0': '127.0.0.1:10911' });
    assert.equal(route.queueDatas[0]!.perm, 6);

    const cluster = decodeClusterInfo(
      (await client.invoke(addr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), 1000)).body!,
    );
    assert.deepEqual(cluster.clusterAddrTable, { DefaultCluster: ['broker-a'] });
    const topics = decodeTopicList(
      (
        await client.invoke(
          addr,
          createRequest(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER),
          1000,
        )
      ).body!,
    );
    assert.deepEqual(topics.topicList.sort(), ['T', 'TBW102']);

    const del = await client.invoke(
      addr,
      createRequest(RequestCode.DELETE_TOPIC_IN_NAMESRV, { extFields: { topic: 'TBW102' } }),
      1000,
    );
    assert.equal(del.code, 0);

    const bad = await client.invoke(
      addr,
      createRequest(RequestCode.REGISTER_BROKER, { extFields: { brokerName: 'x' } }),
      1000,
    );
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark!, /brokerAddr/);

    // No keep-alive: within ~300 ms + one scan the broker is gone.
    await new Promise((r) => setTimeout(r, 500));
    const gone = await client.invoke(
      addr,
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T' } }),
      1000,
    );
    assert.equal(gone.code, ResponseCode.TOPIC_NOT_EXIST);
  } finally {
    client.close();
    await ns.stop();
  }
});

test('KV config is persisted and reloaded; order topic conf reaches routes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ns-'));
  const kvConfigPath = join(dir, 'namesrv', 'kvConfig.json');
  const client = new RemotingClient();
  try {
    const ns = new NameServer({ kvConfigPath });
    await ns.start({ port: 0 });
    const put = createRequest(RequestCode.PUT_KV_CONFIG, {
      extFields: { namespace: 'ORDER_TOPIC_CONFIG', key: 'T', value: 'broker-a:4' },
    });
    assert.equal((await client.invoke(ns.address, put, 1000)).code, 0);
    const put2 = createRequest(RequestCode.PUT_KV_CONFIG, {
      extFields: { namespace: 'N', key: 'k', value: 'v' },
    });
    assert.equal((await client.invoke(ns.address, put2, 1000)).code, 0);
    const del = createRequest(RequestCode.DELETE_KV_CONFIG, {
      extFields: { namespace: 'N', key: 'k' },
    });
    assert.equal((await client.invoke(ns.address, del, 1000)).code, 0);
    await client.invoke(ns.address, registerRequest('broker-a', '127.0.0.1:10911', ['T']), 1000);
    const route = decodeTopicRouteData(
      (
        await client.invoke(
          ns.address,
          createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T' } }),
          1000,
        )
      ).body!,
    );
    assert.equal(route.orderTopicConf, 'broker-a:4');
    await ns.stop();
    client.close();

    assert.deepEqual(JSON.parse(readFileSync(kvConfigPath, 'utf8')), {
      configTable: { ORDER_TOPIC_CONFIG: { T: 'broker-a:4' } },
    });
    const again = new NameServer({ kvConfigPath });
    await again.start({ port: 0 });
    const c2 = new RemotingClient();
    try {
      const get = await c2.invoke(
        again.address,
        createRequest(RequestCode.GET_KV_CONFIG, {
          extFields: { namespace: 'ORDER_TOPIC_CONFIG', key: 'T' },
        }),
        1000,
      );
      assert.equal(get.extFields.value, 'broker-a:4');
      const none = await c2.invoke(
        again.address,
        createRequest(RequestCode.GET_KV_CONFIG, { extFields: { namespace: 'N', key: 'k' } }),
        1000,
      );
      assert.equal(none.code, ResponseCode.QUERY_NOT_FOUND);
    } finally {
      c2.close();
      await again.stop();
    }
  } finally {
    client.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ali-ons resolves a route from the Sluice name server', async () => {
  const ns = new NameServer({ fastjsonRoutes: true });
  await ns.start({ port: 0 });
  const client = new RemotingClient();
  const require = createRequire(import.meta.url);
  const MQClientAPI = require('ali-ons/lib/mq_client_api') as new (options: object) => {
    ready(): Promise<void>;
    close(): Promise<void>;
    getTopicRouteInfoFromNameServer(
      topic: string,
      timeoutMs: number,
    ): Promise<{
      brokerDatas: { brokerName: string; brokerAddrs: Record<string, string> }[];
      queueDatas: { writeQueueNums: number }[];
    }>;
  };
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const api = new MQClientAPI({
    nameSrv: ns.address,
    httpclient: { request: async () => ({ status: 404, data: '' }) },
    logger: quiet,
  });
  try {
    await client.invoke(
      ns.address,
      registerRequest('broker-a', '127.0.0.1:10911', ['AliTopic']),
      1000,
    );
    await api.ready();
    const route = await api.getTopicRouteInfoFromNameServer('AliTopic', 3000);
    assert.equal(route.brokerDatas[0]!.brokerName, 'broker-a');
    assert.equal(route.brokerDatas[0]!.brokerAddrs['0'], '127.0.0.1:10911');
    assert.equal(route.queueDatas[0]!.writeQueueNums, 4);
    await assert.rejects(api.getTopicRouteInfoFromNameServer('Nope', 3000), /No topic route info/);
  } finally {
    await api.close();
    client.close();
    await ns.stop();
  }
});
