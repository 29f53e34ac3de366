/**
 * `sluice` operator commands end to end against a real `sluice start` process: outputs (tables
 * and --json) and exit codes.
 */
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Admin, Producer, PushConsumer } from '../src/index.js';
import { Command } from 'commander';
import { registerBenchCommands } from '../src/cli/commands/bench.js';
import {
  registerBrokerStatusCommand,
  registerClusterCommands,
} from '../src/cli/commands/cluster.js';
import { registerGroupCommands } from '../src/cli/commands/group.js';
import { registerMessageCommands } from '../src/cli/commands/message.js';
import { registerTopicCommands } from '../src/cli/commands/topic.js';
import { CLI_PATH, startSluice, type SluiceProcess } from './support/sluice-process.js';
import { RequestCode } from '../src/protocol/request-code.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let sluice: SluiceProcess;

function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env: { ...process.env, SLUICE_NAMESRV: sluice.namesrvAddr }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  assert.equal(r.code, 0, `sluice ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function json<T>(...args: string[]): Promise<T> {
  return JSON.parse(await ok(...args, '--json')) as T;
}

describe('sluice CLI', { timeout: 120_000 }, () => {
  before(async () => {
    sluice = await startSluice();
  });
  after(async () => {
    await sluice.stop();
    sluice.cleanup();
  });

  it('creates, lists, inspects, updates and deletes topics', async () => {
    assert.match(
      await ok('topic', 'create', 'cli-orders', '--queues', '4'),
      /topic cli-orders created \(4 queues/,
    );
    assert.ok((await ok('topic', 'list')).split('\n').includes('cli-orders'));
    assert.ok(!(await ok('topic', 'list')).includes('%RETRY%'));
    const route = await json<{ queueDatas: { writeQueueNums: number }[] }>(
      'topic',
      'route',
      'cli-orders',
    );
    assert.equal(route.queueDatas[0]!.writeQueueNums, 4);
    assert.match(
      await ok('topic', 'route', 'cli-orders'),
      /broker-a\s+127\.0\.0\.1:\d+\s+4\s+4\s+6/,
    );
    await ok('topic', 'update', 'cli-orders', '--queues', '6');
    const status = await json<{ queues: unknown[]; messages: number }>(
      'topic',
      'status',
      'cli-orders',
    );
    assert.equal(status.queues.length, 6);
    assert.equal(status.messages, 0);
    await ok('topic', 'create', 'cli-doomed');
    assert.match(await ok('topic', 'delete', 'cli-doomed'), /deleted/);
    assert.ok(!(await ok('topic', 'list')).split('\n').includes('cli-doomed'));
  });

  it('sends and finds messages by id, key and time; tails with a filter', async () => {
    await ok('topic', 'create', 'cli-msgs', '--queues', '2');
    const since = Date.now() - 1000;
    const a = await json<{ offsetMsgId: string; msgId: string }>(
      'message',
      'send',
      '--topic',
      'cli-msgs',
      '--body',
      '{"n":1}',
      '--tag',
      'created',
      '--keys',
      'order-1',
    );
    await ok(
      'message',
      'send',
      '--topic',
      'cli-msgs',
      '--body',
      'second',
      '--tag',
      'paid',
      '--keys',
      'order-2',
    );
    const sent = await ok(
      'message',
      'send',
      '-t',
      'cli-msgs',
      '-b',
      'third',
      '--tag',
      'created',
      '-c',
      '2',
    );
    assert.equal(sent.trim().split('\n').length, 2);
    assert.match(sent, /^SEND_OK msgId=\w+ offsetMsgId=\w+ queue=broker-a:\d offset=\d+/);

    const byId = await json<
      { bodyText: string; tags: string; keys: string[]; bodyJson: unknown }[]
    >('message', 'query', '--id', a.offsetMsgId);
    assert.equal(byId[0]!.bodyText, '{"n":1}');
    assert.deepEqual(byId[0]!.bodyJson, { n: 1 });
    assert.match(await ok('message', 'query', '--id', a.offsetMsgId), /body:\s+\{"n":1\}/);
    const byUniq = await json<{ offsetMsgId: string }[]>(
      'message',
      'query',
      '--id',
      a.msgId,
      '--topic',
      'cli-msgs',
    );
    assert.equal(byUniq[0]!.offsetMsgId, a.offsetMsgId);

    const byKey = await json<{ keys: string[] }[]>(
      'message',
      'query',
      '--topic',
      'cli-msgs',
      '--key',
      'order-2',
    );
    assert.deepEqual(
      byKey.map((m) => m.keys),
      [['order-2']],
    );
    const byTime = await json<unknown[]>(
      'message',
      'query',
      '--topic',
      'cli-msgs',
      '--since',
      String(since),
    );
    assert.equal(byTime.length, 4);
    assert.match(
      await ok('message', 'query', '--topic', 'cli-msgs', '--since', '5m'),
      /STORED\s+OFFSET MSG ID/,
    );

    const tail = await ok(
      'message',
      'consume',
      'cli-msgs',
      '--from-beginning',
      '--filter',
      'created',
    );
    const lines = tail.trim().split('\n');
    assert.equal(lines.length, 3, tail);
    assert.ok(lines.every((l) => l.includes('tag=created')));
    const one = await ok(
      'message',
      'consume',
      'cli-msgs',
      '--from-beginning',
      '--max',
      '1',
      '--json',
    );
    assert.equal(JSON.parse(one.trim()).topic, 'cli-msgs');
  });

  it('follows new messages with message consume (no --from-beginning)', async () => {
    await ok('topic', 'create', 'cli-tail', '--queues', '2');
    const tail = run('message', 'consume', 'cli-tail', '--max', '2', '--json');
    let finished = false;
    void tail.then(() => (finished = true));
    const producer = new Producer({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    await producer.start();
    // The tail starts at the end of the queues once it is up: keep sending until it has two.
    for (let i = 0; i < 60 && !finished; i++) {
      await producer.send({ topic: 'cli-tail', body: `live-${i}` });
      await new Promise((r) => setTimeout(r, 250));
    }
    await producer.shutdown();
    const r = await tail;
    assert.equal(r.code, 0, r.stderr);
    const bodies = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { bodyText: string }).bodyText);
    assert.equal(bodies.length, 2);
    assert.ok(bodies.every((b) => b.startsWith('live-')));
  });

  it('shows group progress, resets offsets by time and lists/deletes groups', async () => {
    await ok('topic', 'create', 'cli-work', '--queues', '2');
    const producer = new Producer({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    await producer.start();
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'cli-work', body: `m${i}` });
    let seen = 0;
    const consumer = new PushConsumer({
      nameServer: sluice.namesrvAddr,
      group: 'cli-workers',
      consumeFrom: 'FIRST_OFFSET',
      persistOffsetIntervalMs: 200,
      onError: () => undefined,
      handler: () => void seen++,
    });
    consumer.subscribe('cli-work');
    await consumer.start();
    while (seen < 10) await new Promise((r) => setTimeout(r, 50));
    await consumer.commitOffsets();
    await consumer.shutdown();
    await producer.shutdown();

    const progress = await json<{ totalLag: number; queues: { consumerOffset: number }[] }>(
      'group',
      'progress',
      'cli-workers',
      '--topic',
      'cli-work',
    );
    assert.equal(progress.totalLag, 0);
    assert.equal(
      progress.queues.reduce((s, q) => s + q.consumerOffset, 0),
      10,
    );
    assert.match(await ok('group', 'progress', 'cli-workers'), /total lag: 0/);
    const groups = await json<{ group: string; totalLag: number }[]>('group', 'list');
    assert.ok(
      groups.some((g) => g.group === 'cli-workers'),
      JSON.stringify(groups),
    );

    const reset = await json<{ queues: { offset: number }[] }>(
      'group',
      'reset-offset',
      'cli-workers',
      '--topic',
      'cli-work',
      '--to',
      '1h',
    );
    assert.equal(
      reset.queues.reduce((s, q) => s + q.offset, 0),
      0,
    );
    const admin = new Admin({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    try {
      assert.equal((await admin.consumerProgress('cli-workers', 'cli-work')).totalLag, 10);
    } finally {
      await admin.shutdown();
    }
    const deleted = await json<{
      deletedTopics: string[];
      brokersCleaned: string[];
      brokersUnsupported: string[];
    }>('group', 'delete', 'cli-workers');
    assert.ok(deleted.deletedTopics.includes('%RETRY%cli-workers'));
    assert.deepEqual(deleted.brokersCleaned, [sluice.brokerAddr], 'offsets dropped on the broker');
    assert.deepEqual(deleted.brokersUnsupported, []);
    const after = new Admin({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    try {
      const r = await after.client.api.call(
        sluice.brokerAddr,
        RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
        {},
        3_000,
        'list subscription groups',
      );
      const table = JSON.parse(Buffer.from(r.body!).toString()) as {
        subscriptionGroupTable: Record<string, unknown>;
      };
      assert.equal(table.subscriptionGroupTable['cli-workers'], undefined, 'group config deleted');
    } finally {
      await after.shutdown();
    }
  });

  it('resends dead-lettered messages to their original topic', async () => {
    await ok('topic', 'create', 'cli-dlq-origin', '--queues', '1');
    await ok('topic', 'create', '%DLQ%cli-dlq-group', '--queues', '1');
    const producer = new Producer({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    await producer.start();
    const dead = [];
    for (const body of ['poison-1', 'poison-2']) {
      dead.push(
        await producer.send({
          topic: '%DLQ%cli-dlq-group',
          body,
          tags: 'T',
          properties: { RETRY_TOPIC: 'cli-dlq-origin', app: 'x' },
        }),
      );
    }
    await producer.shutdown();
    const byId = await ok(
      'dlq',
      'resend',
      '--group',
      'cli-dlq-group',
      '--id',
      dead[0]!.offsetMsgId,
    );
    assert.match(byId, /resent \w+ → cli-dlq-origin/);
    assert.match(byId, /1 message\(s\) resent/);
    const all = await json<{ to: { topic: string } }[]>(
      'dlq',
      'resend',
      '--group',
      'cli-dlq-group',
    );
    assert.deepEqual(
      all.map((r) => r.to.topic),
      ['cli-dlq-origin', 'cli-dlq-origin'],
    );
    const back = (await ok('message', 'consume', 'cli-dlq-origin', '--from-beginning', '--json'))
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { bodyText: string; tags: string; properties: Record<string, string> },
      );
    assert.deepEqual(back.map((m) => m.bodyText).sort(), ['poison-1', 'poison-1', 'poison-2']);
    assert.equal(back[0]!.tags, 'T');
    assert.equal(back[0]!.properties.app, 'x');
    assert.equal(back[0]!.properties.RETRY_TOPIC, undefined);

    await ok('topic', 'update', '%DLQ%cli-dlq-group', '--queues', '1', '--perm', '2');
    const writeOnly = await run('dlq', 'resend', '--group', 'cli-dlq-group');
    assert.equal(writeOnly.code, 1);
    assert.match(writeOnly.stderr, /write-only/);
    const missing = await run(
      'dlq',
      'resend',
      '--group',
      'cli-dlq-group',
      '--id',
      '7F000001000029AF00000000FFFFFFFF',
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^sluice: /);
  });

  it('prints cluster and broker status', async () => {
    const clusters = await json<{ cluster: string; addr: string; version: string }[]>(
      'cluster',
      'list',
    );
    assert.deepEqual(
      clusters.map((c) => [c.cluster, c.addr, c.version]),
      [['DefaultCluster', sluice.brokerAddr, 'Sluice']],
    );
    assert.match(await ok('cluster', 'list'), /DefaultCluster\s+broker-a\s+0\s+127\.0\.0\.1/);
    const status = await json<Record<string, string>>(
      'broker',
      'status',
      '--broker',
      sluice.brokerAddr,
    );
    assert.equal(status.brokerName, 'broker-a');
    assert.match(await ok('broker', 'status'), /commitLogMaxOffset:\s+\d+/);
  });

  it('runs the produce and consume load generators', async () => {
    await ok('topic', 'create', 'cli-bench', '--queues', '2');
    const p = await json<{ messages: number; errors: number; latencyMs: { p99: number } }>(
      'bench',
      'produce',
      '--topic',
      'cli-bench',
      '--count',
      '300',
      '--size',
      '64',
      '--quiet',
    );
    assert.equal(p.messages, 300);
    assert.equal(p.errors, 0);
    assert.ok(p.latencyMs.p99 > 0);
    const c = await json<{ messages: number }>(
      'bench',
      'consume',
      '--topic',
      'cli-bench',
      '--group',
      'cli-bench-g',
      '--count',
      '300',
      '--from-beginning',
      '--quiet',
    );
    assert.equal(c.messages, 300);
  });

  it('fails with a one-line reason and a non-zero exit code', async () => {
    const missing = await run('topic', 'status', 'no-such-topic');
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    assert.match(missing.stderr, /^sluice: NOT_FOUND: topic 'no-such-topic' does not exist/);
    const badTime = await run(
      'group',
      'reset-offset',
      'g',
      '--topic',
      't',
      '--to',
      'yesterday-ish',
    );
    assert.equal(badTime.code, 1);
    assert.match(badTime.stderr, /--to "yesterday-ish" is not a time/);
    const noServer = await run('topic', 'list', '--namesrv', '127.0.0.1:1');
    assert.equal(noServer.code, 1);
    assert.equal(noServer.stderr.trim().split('\n').length, 1);
    const usage = await run('topic', 'create');
    assert.notEqual(usage.code, 0);
  });

  it('documents every command with an example in --help', async () => {
    const program = new Command().exitOverride();
    registerTopicCommands(program);
    registerGroupCommands(program);
    registerClusterCommands(program);
    registerBrokerStatusCommand(program.command('broker'));
    registerMessageCommands(program);
    registerBenchCommands(program);
    let leaves = 0;
    const visit = (cmd: Command, path: string): void => {
      if (cmd.commands.length === 0) {
        let text = '';
        cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
        cmd.outputHelp();
        assert.match(text, /Example:\n {2}\$ sluice /, path);
        assert.match(text, /--namesrv/, path);
        assert.match(text, /--json/, path);
        leaves++;
      }
      for (const sub of cmd.commands) visit(sub, `${path} ${sub.name()}`);
    };
    visit(program, 'sluice');
    assert.equal(leaves, 18);
    const r = await run('topic', 'create', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Example:\n {2}\$ sluice topic create/);
  });
});
