/**
 * `sluice topic create|update|delete|list|status|route`.
 */
import type { Command } from 'commander';
import { isSystemTopic } from '../../broker/perm.js';
import { MQClientError } from '../../client/errors.js';
import {
  operatorCommand,
  out,
  parseCount,
  printJson,
  printTable,
  withAdmin,
  iso,
  type CommonFlags,
} from './admin-common.js';

interface TopicFlags extends CommonFlags {
  queues?: string;
  order?: boolean;
  perm?: string;
  cluster?: string;
  broker?: string;
  all?: boolean;
}

function addCreate(topic: Command, name: 'create' | 'update'): void {
  operatorCommand(
    topic
      .command(`${name} <topic>`)
      .description(
        name === 'create'
          ? 'create a topic on every master (or one cluster / broker)'
          : "change a topic's queue count, permission or order flag",
      )
      .option('-q, --queues <n>', 'read and write queues per broker', '8')
      .option('--order', 'ordered topic')
      .option('--perm <bits>', 'permission: 6 = read+write, 4 = read only, 2 = write only', '6')
      .option('-c, --cluster <name>', 'only on the masters of this cluster')
      .option('-b, --broker <addr>', 'only on this broker address'),
    `sluice topic ${name} orders --queues 8 --namesrv 127.0.0.1:9876`,
  ).action(async (t: string, flags: TopicFlags) => {
    const queueNums = parseCount(flags.queues, '--queues', 8);
    const perm = Number(flags.perm ?? 6);
    if (![2, 4, 6].includes(perm)) {
      throw new MQClientError('INVALID_ARGUMENT', `--perm must be 2, 4 or 6, got "${flags.perm}"`);
    }
    await withAdmin(flags.namesrv, async (admin) => {
      if (name === 'update' && !(await admin.topicRoute(t))) {
        throw new MQClientError('NOT_FOUND', `topic '${t}' does not exist; use topic create`);
      }
      await admin.createTopic(t, {
        queueNums,
        perm,
        order: flags.order ?? false,
        clusterName: flags.cluster,
        brokerAddr: flags.broker,
      });
    });
    if (flags.json)
      printJson({ topic: t, [name === 'create' ? 'created' : 'updated']: true, queueNums, perm });
    else
      out(
        `topic ${t} ${name === 'create' ? 'created' : 'updated'} (${queueNums} queues, perm ${perm})`,
      );
  });
}

/** Registers the `topic` commands. */
export function registerTopicCommands(program: Command): void {
  const topic = program.command('topic').description('create, change, inspect and delete topics');
  addCreate(topic, 'create');
  addCreate(topic, 'update');

  operatorCommand(
    topic.command('delete <topic>').description('delete a topic from every broker and name server'),
    'sluice topic delete orders',
  ).action(async (t: string, flags: CommonFlags) => {
    await withAdmin(flags.namesrv, async (admin) => {
      if (!(await admin.topicRoute(t))) {
        throw new MQClientError('NOT_FOUND', `topic '${t}' does not exist`);
      }
      await admin.deleteTopic(t);
    });
    if (flags.json) printJson({ topic: t, deleted: true });
    else out(`topic ${t} deleted`);
  });

  operatorCommand(
    topic
      .command('list')
      .description('list topics (system, retry and dead-letter topics with --all)')
      .option('-a, --all', 'include system, %RETRY% and %DLQ% topics'),
    'sluice topic list --all',
  ).action(async (flags: TopicFlags) => {
    const topics = await withAdmin(flags.namesrv, (admin) => admin.listTopics());
    const shown = flags.all
      ? topics
      : topics.filter(
          (t) => !isSystemTopic(t) && !t.startsWith('%RETRY%') && !t.startsWith('%DLQ%'),
        );
    if (flags.json) printJson(shown);
    else for (const t of shown) out(t);
  });

  operatorCommand(
    topic.command('status <topic>').description('per-queue min/max offsets and last update'),
    'sluice topic status orders --json',
  ).action(async (t: string, flags: CommonFlags) => {
    const stats = await withAdmin(flags.namesrv, (admin) => admin.topicStats(t));
    const rows = stats.map((s) => ({
      brokerName: s.queue.brokerName,
      queueId: s.queue.queueId,
      minOffset: s.minOffset,
      maxOffset: s.maxOffset,
      messages: s.maxOffset - s.minOffset,
      lastUpdateTimestamp: s.lastUpdateTimestamp,
    }));
    if (flags.json) {
      printJson({ topic: t, queues: rows, messages: rows.reduce((n, r) => n + r.messages, 0) });
      return;
    }
    printTable(
      ['BROKER', 'QUEUE', 'MIN', 'MAX', 'MESSAGES', 'LAST UPDATE'],
      rows.map((r) => [
        r.brokerName,
        r.queueId,
        r.minOffset,
        r.maxOffset,
        r.messages,
        iso(r.lastUpdateTimestamp),
      ]),
    );
    out(`total messages: ${rows.reduce((n, r) => n + r.messages, 0)}`);
  });

  operatorCommand(
    topic
      .command('route <topic>')
      .description('brokers and queues serving a topic (from the name server)'),
    'sluice topic route orders',
  ).action(async (t: string, flags: CommonFlags) => {
    const route = await withAdmin(flags.namesrv, (admin) => admin.topicRoute(t));
    if (!route) throw new MQClientError('NOT_FOUND', `topic '${t}' does not exist`);
    if (flags.json) {
      printJson(route);
      return;
    }
    printTable(
      ['BROKER', 'ADDRESS', 'READ QUEUES', 'WRITE QUEUES', 'PERM'],
      route.queueDatas.map((q) => {
        const b = route.brokerDatas.find((d) => d.brokerName === q.brokerName);
        return [
          q.brokerName,
          b?.brokerAddrs['0'] ?? '-',
          q.readQueueNums,
          q.writeQueueNums,
          q.perm,
        ];
      }),
    );
  });
}
