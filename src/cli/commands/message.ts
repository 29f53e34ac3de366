/**
 * `sluice message send|query|consume` and `sluice dlq resend`.
 */
import type { Command } from 'commander';
import { MQClientError } from '../../client/errors.js';
import type { ReceivedMessage } from '../../client/message.js';
import { Producer } from '../../client/producer.js';
import { resendDlq } from '../../web/dlq.js';
import { messageView } from '../../web/message-view.js';
import { readTopic } from '../../web/topic-reader.js';
import {
  iso,
  operatorCommand,
  out,
  parseCount,
  parseTime,
  printFields,
  printJson,
  printTable,
  withAdmin,
  type CommonFlags,
} from './admin-common.js';

interface SendFlags extends CommonFlags {
  topic: string;
  body?: string;
  tag?: string;
  keys?: string;
  property?: string[];
  count?: string;
}

interface QueryFlags extends CommonFlags {
  id?: string;
  key?: string;
  topic?: string;
  since?: string;
  until?: string;
  max?: string;
  body?: boolean;
}

interface ConsumeFlags extends CommonFlags {
  filter?: string;
  fromBeginning?: boolean;
  since?: string;
  max?: string;
}

interface ResendFlags extends CommonFlags {
  group: string;
  id?: string[];
  toTopic?: string;
  max?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function withProducer<T>(namesrv: string, fn: (p: Producer) => Promise<T>): Promise<T> {
  const producer = new Producer({
    nameServer: namesrv,
    group: 'SLUICE_CLI_PRODUCER',
    onError: () => undefined,
  });
  await producer.start();
  try {
    return await fn(producer);
  } finally {
    await producer.shutdown();
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function printMessages(
  messages: ReceivedMessage[],
  json: boolean | undefined,
  withBody: boolean,
): void {
  if (json) {
    printJson(messages.map(messageView));
    return;
  }
  printTable(
    [
      'STORED',
      'OFFSET MSG ID',
      'TOPIC',
      'QUEUE',
      'OFFSET',
      'TAG',
      'KEYS',
      ...(withBody ? ['BODY'] : []),
    ],
    messages.map((m) => [
      iso(m.storeTimestampMs),
      m.offsetMsgId,
      m.topic,
      m.queue.queueId,
      m.queueOffset,
      m.tags ?? '-',
      m.keys.join(' ') || '-',
      ...(withBody ? [JSON.stringify(m.body.toString('utf8').slice(0, 60))] : []),
    ]),
  );
}

/** Registers the `message` and `dlq` commands. */
export function registerMessageCommands(program: Command): void {
  const message = program.command('message').description('send, find and tail messages');

  operatorCommand(
    message
      .command('send')
      .description('send a message (body from --body or stdin)')
      .requiredOption('-t, --topic <topic>', 'target topic')
      .option('-b, --body <text>', 'message body (default: read stdin)')
      .option('--tag <tag>', 'message tag')
      .option('-k, --keys <keys>', 'business keys, space separated')
      .option('-p, --property <name=value>', 'user property; repeatable', collect)
      .option('-c, --count <n>', 'send the message this many times', '1'),
    'sluice message send --topic orders --tag created --keys order-42 --body \'{"id":42}\'',
  ).action(async (flags: SendFlags) => {
    const body = flags.body ?? (await readStdin());
    const properties: Record<string, string> = {};
    for (const p of flags.property ?? []) {
      const eq = p.indexOf('=');
      if (eq <= 0)
        throw new MQClientError('INVALID_ARGUMENT', `--property expects name=value, got "${p}"`);
      properties[p.slice(0, eq)] = p.slice(eq + 1);
    }
    const count = parseCount(flags.count, '--count', 1);
    const results = await withProducer(flags.namesrv, async (producer) => {
      const sent = [];
      for (let i = 0; i < count; i++) {
        sent.push(
          await producer.send({
            topic: flags.topic,
            body,
            tags: flags.tag,
            keys: flags.keys ? flags.keys.split(/\s+/).filter(Boolean) : undefined,
            properties,
          }),
        );
      }
      return sent;
    });
    if (flags.json) {
      printJson(count === 1 ? results[0] : results);
      return;
    }
    for (const r of results) {
      out(
        `${r.status} msgId=${r.msgId} offsetMsgId=${r.offsetMsgId} queue=${r.queue.brokerName}:${r.queue.queueId} offset=${r.queueOffset}`,
      );
    }
  });

  operatorCommand(
    message
      .command('query')
      .description('find messages by id, by key, or by topic and store time')
      .option('-i, --id <msgId>', 'offset message id, or client message id (with --topic)')
      .option('-k, --key <key>', 'business key (with --topic)')
      .option('-t, --topic <topic>', 'topic')
      .option('--since <time>', 'stored at or after (epoch ms, ISO date, or 10m / 2h / 1d ago)')
      .option('--until <time>', 'stored at or before')
      .option('-m, --max <n>', 'most messages to print', '32')
      .option('--body', 'print the body in the table (always in --json)'),
    'sluice message query --topic orders --key order-42',
  ).action(async (flags: QueryFlags) => {
    const max = parseCount(flags.max, '--max', 32);
    const since = flags.since !== undefined ? parseTime(flags.since, '--since') : undefined;
    const until = flags.until !== undefined ? parseTime(flags.until, '--until') : undefined;
    const found = await withAdmin(flags.namesrv, async (admin) => {
      if (flags.id) {
        const m = await admin.queryMessageById(flags.id, flags.topic);
        if (!m) throw new MQClientError('NOT_FOUND', `no message with id ${flags.id}`);
        return [m];
      }
      if (!flags.topic) {
        throw new MQClientError('INVALID_ARGUMENT', 'give --id, or --topic with --key or --since');
      }
      if (flags.key) {
        return admin.queryMessageByKey(flags.topic, flags.key, {
          maxNum: max,
          beginTimestampMs: since,
          endTimestampMs: until,
        });
      }
      if (since === undefined) {
        throw new MQClientError('INVALID_ARGUMENT', 'with --topic, give --key or --since');
      }
      const list: ReceivedMessage[] = [];
      await readTopic(
        admin,
        flags.topic,
        { start: { timestampMs: since }, untilTimestampMs: until, limit: max },
        (m) => void list.push(m),
      );
      return list.sort((a, b) => a.storeTimestampMs - b.storeTimestampMs);
    });
    if (flags.id && !flags.json) {
      const v = messageView(found[0]!);
      printFields({
        msgId: v.msgId,
        offsetMsgId: v.offsetMsgId,
        topic: v.topic,
        queue: `${v.brokerName}:${v.queueId} offset ${v.queueOffset}`,
        tag: v.tags ?? '-',
        keys: v.keys.join(' ') || '-',
        stored: `${iso(v.storeTimestampMs)} on ${v.storeHost}`,
        born: `${iso(v.bornTimestampMs)} at ${v.bornHost}`,
        reconsumeTimes: v.reconsumeTimes,
        properties: JSON.stringify(v.properties),
        body: v.bodyText,
      });
      return;
    }
    if (!flags.json && found.length === 0) {
      out('no message found');
      return;
    }
    printMessages(found, flags.json, flags.body ?? false);
  });

  operatorCommand(
    message
      .command('consume <topic>')
      .description(
        'tail a topic (new messages until Ctrl-C; --from-beginning to replay); commits no offsets',
      )
      .option('-f, --filter <expression>', "tag filter: '*' or 'TagA || TagB'", '*')
      .option('--from-beginning', 'start at the oldest stored message and stop at the newest')
      .option('--since <time>', 'start at this store time (and stop at the newest)')
      .option('-m, --max <n>', 'stop after this many messages'),
    "sluice message consume orders --filter 'created || paid' --from-beginning",
  ).action(async (topic: string, flags: ConsumeFlags) => {
    const limit = flags.max !== undefined ? parseCount(flags.max, '--max', 1) : undefined;
    const replay = flags.fromBeginning === true || flags.since !== undefined;
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await withAdmin(flags.namesrv, (admin) =>
        readTopic(
          admin,
          topic,
          {
            expression: flags.filter,
            start: flags.since
              ? { timestampMs: parseTime(flags.since, '--since') }
              : replay
                ? 'beginning'
                : 'end',
            follow: !replay,
            limit,
            signal: abort.signal,
          },
          (m) => {
            if (flags.json) out(JSON.stringify(messageView(m)));
            else {
              out(
                `${iso(m.storeTimestampMs)} ${m.topic}:${m.queue.queueId}@${m.queueOffset} tag=${m.tags ?? '-'} keys=${m.keys.join(' ') || '-'} id=${m.offsetMsgId} ${m.body.toString('utf8')}`,
              );
            }
          },
        ),
      );
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });

  const dlq = program.command('dlq').description('dead-letter queues (%DLQ%<group>)');
  operatorCommand(
    dlq
      .command('resend')
      .description('send dead-lettered messages of a group back to their original topic')
      .requiredOption('-g, --group <group>', 'consumer group whose %DLQ% topic to read')
      .option('-i, --id <msgId>', 'only this message (offset or client id); repeatable', collect)
      .option('--to-topic <topic>', 'send to this topic instead of the original one')
      .option('-m, --max <n>', 'resend at most this many'),
    'sluice dlq resend --group order-service --id 7F000001000029AF0000000000001A2B',
  ).action(async (flags: ResendFlags) => {
    const limit = flags.max !== undefined ? parseCount(flags.max, '--max', 1) : undefined;
    const results = await withAdmin(flags.namesrv, (admin) =>
      withProducer(flags.namesrv, (producer) =>
        resendDlq(admin, producer, flags.group, { ids: flags.id, limit, toTopic: flags.toTopic }),
      ),
    );
    if (flags.id && results.length < flags.id.length) {
      throw new MQClientError(
        'NOT_FOUND',
        `only ${results.length} of ${flags.id.length} id(s) were found in %DLQ%${flags.group}`,
      );
    }
    if (flags.json) {
      printJson(results);
      return;
    }
    for (const r of results) {
      out(
        `resent ${r.from.offsetMsgId} → ${r.to.topic} (msgId ${r.to.msgId}, queue ${r.to.queueId} offset ${r.to.queueOffset})`,
      );
    }
    out(`${results.length} message(s) resent`);
  });
}
