/**
 * Sends a few messages to a Sluice (or Apache RocketMQ) broker.
 *
 *   npm start                              # in another terminal: name server + broker
 *   node dist/examples/producer.js [count] [topic]
 *
 * The name server address comes from SLUICE_NAMESRV (default 127.0.0.1:9876).
 */
import { Admin, Producer } from '../src/index.js';

const nameServer = process.env.SLUICE_NAMESRV ?? '127.0.0.1:9876';
const count = Number(process.argv[2] ?? 10);
const topic = process.argv[3] ?? 'ExampleTopic';

async function main(): Promise<void> {
  // Topics must exist before producing; creating an existing topic just updates it.
  const admin = new Admin({ nameServer });
  await admin.createTopic(topic, { queueNums: 4 });
  await admin.shutdown();

  const producer = new Producer({ nameServer, group: 'example-producer' });
  await producer.start();
  try {
    for (let i = 0; i < count; i++) {
      const result = await producer.send({
        topic,
        body: JSON.stringify({ n: i, at: new Date().toISOString() }),
        tags: i % 2 === 0 ? 'even' : 'odd',
        keys: `order-${i}`,
      });
      console.log(
        `sent #${i} msgId=${result.msgId} queue=${result.queue.brokerName}:${result.queue.queueId} offset=${result.queueOffset} ${result.status}`,
      );
    }
  } finally {
    await producer.shutdown();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
