/**
 * `sluice group list|progress|reset-offset|delete`.
 */
import type { Command } from 'commander';
import { deleteGroup, listGroups } from '../../web/groups.js';
import {
  iso,
  operatorCommand,
  out,
  parseTime,
  printJson,
  printTable,
  withAdmin,
  type CommonFlags,
} from './admin-common.js';

interface ProgressFlags extends CommonFlags {
  topic?: string;
}

interface ResetFlags extends CommonFlags {
  topic: string;
  to: string;
}

/** Registers the `group` commands. */
export function registerGroupCommands(program: Command): void {
  const group = program.command('group').description('consumer groups: progress, lag, offsets');

  operatorCommand(
    group.command('list').description('list consumer groups with their total lag'),
    'sluice group list',
  ).action(async (flags: CommonFlags) => {
    const rows = await withAdmin(flags.namesrv, async (admin) => {
      const names = await listGroups(admin);
      const out = [];
      for (const name of names) {
        const p = await admin.consumerProgress(name).catch(() => undefined);
        out.push({
          group: name,
          topics: [...new Set(p?.queues.map((q) => q.queue.topic) ?? [])].filter(
            (t) => !t.startsWith('%RETRY%'),
          ),
          totalLag: p?.totalLag ?? 0,
          consumeTps: p?.consumeTps ?? 0,
        });
      }
      return out;
    });
    if (flags.json) printJson(rows);
    else
      printTable(
        ['GROUP', 'TOPICS', 'LAG'],
        rows.map((r) => [r.group, r.topics.join(',') || '-', r.totalLag]),
      );
  });

  operatorCommand(
    group
      .command('progress <group>')
      .description("a group's per-queue broker offset, consumer offset and lag")
      .option('-t, --topic <topic>', 'only this topic'),
    'sluice group progress order-service --topic orders',
  ).action(async (name: string, flags: ProgressFlags) => {
    const p = await withAdmin(flags.namesrv, (admin) => admin.consumerProgress(name, flags.topic));
    if (flags.json) {
      printJson(p);
      return;
    }
    printTable(
      ['TOPIC', 'BROKER', 'QUEUE', 'BROKER OFFSET', 'CONSUMER OFFSET', 'LAG', 'LAST CONSUMED'],
      p.queues.map((q) => [
        q.queue.topic,
        q.queue.brokerName,
        q.queue.queueId,
        q.brokerOffset,
        q.consumerOffset,
        q.lag,
        iso(q.lastTimestamp),
      ]),
    );
    out(`total lag: ${p.totalLag}`);
  });

  operatorCommand(
    group
      .command('reset-offset <group>')
      .description(
        "move a group's offsets on a topic to the first message stored at or after a time",
      )
      .requiredOption('-t, --topic <topic>', 'the topic')
      .requiredOption('--to <time>', 'epoch ms, ISO date, "now", or a duration ago (10m, 2h, 1d)'),
    'sluice group reset-offset order-service --topic orders --to 2h',
  ).action(async (name: string, flags: ResetFlags) => {
    const timestampMs = parseTime(flags.to, '--to');
    const result = await withAdmin(flags.namesrv, (admin) =>
      admin.resetOffsetByTimestamp(name, flags.topic, timestampMs),
    );
    const rows = [...result.values()].map((r) => ({
      brokerName: r.queue.brokerName,
      queueId: r.queue.queueId,
      offset: r.offset,
    }));
    if (flags.json) {
      printJson({ group: name, topic: flags.topic, timestampMs, queues: rows });
      return;
    }
    out(`group ${name} on ${flags.topic} reset to ${new Date(timestampMs).toISOString()}`);
    printTable(
      ['BROKER', 'QUEUE', 'NEW OFFSET'],
      rows.map((r) => [r.brokerName, r.queueId, r.offset]),
    );
  });

  operatorCommand(
    group
      .command('delete <group>')
      .description(
        'delete a group: its %RETRY%/%DLQ% topics, and its config and offsets where the broker supports it',
      ),
    'sluice group delete old-service',
  ).action(async (name: string, flags: CommonFlags) => {
    const result = await withAdmin(flags.namesrv, (admin) => deleteGroup(admin, name));
    if (flags.json) {
      printJson(result);
      return;
    }
    out(`group ${name} deleted: topics removed: ${result.deletedTopics.join(', ') || 'none'}`);
    if (result.brokersUnsupported.length > 0) {
      out(
        `note: ${result.brokersUnsupported.join(', ')} cannot delete subscription configs (DELETE_SUBSCRIPTIONGROUP); committed offsets stay there`,
      );
    }
  });
}
