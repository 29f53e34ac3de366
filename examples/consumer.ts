/**
 * Consumes messages from a Sluice (or Apache RocketMQ) broker until Ctrl-C.
 *
 *   npm start                              # in another terminal: name server + broker
 *   node dist/examples/consumer.js [topic] [group]
 *
 * The name server address comes from SLUICE_NAMESRV (default 127.0.0.1:9876). A new group
 * starts at the oldest stored message.
 */
import { PushConsumer } from '../src/index.js';

const nameServer = process.env.SLUICE_NAMESRV ?? '127.0.0.1:9876';
const topic = process.argv[2] ?? 'ExampleTopic';
const group = process.argv[3] ?? 'example-consumer';

async function main(): Promise<void> {
  const consumer = new PushConsumer({ nameServer, group, consumeFrom: 'FIRST_OFFSET' });
  consumer.subscribe(topic, 'even || odd', async (msg) => {
    console.log(
      `received ${msg.msgId} tags=${msg.tags} keys=${msg.keys.join(',')} queue=${msg.queue.queueId}@${msg.queueOffset}: ${msg.body.toString()}`,
    );
  });
  await consumer.start();
  console.log(`consuming '${topic}' as group '${group}' from ${nameServer}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('shutting down (finishing running handlers, committing offsets)…');
  await consumer.shutdown();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
