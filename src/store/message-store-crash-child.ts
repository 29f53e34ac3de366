/**
 * Child process of message-store.crash.test.ts: opens a store, prints "ready", then puts
 * messages from several concurrent writers and prints "ack <seq> <topic> <queueId>
 * <queueOffset> <physicalOffset>" once each put resolved PUT_OK — until SIGKILLed.
 */
import { MessageStore } from './message-store.js';
import { testMessage } from './message-store-fixture.js';
import type { StoreConfig } from './types.js';

const args = JSON.parse(process.argv[2]) as { config: Partial<StoreConfig>; firstSeq: number };
const store = await MessageStore.open(args.config);
process.stdout.write('ready\n');
let seq = args.firstSeq;

async function writer(): Promise<void> {
  for (;;) {
    const s = seq++;
    const topic = s % 3 === 0 ? 'CrashB' : 'CrashA';
    const queueId = s % 4;
    const r = await store.putMessage(
      testMessage({
        topic,
        queueId,
        body: `body-${s}-${'x'.repeat(s % 200)}`,
        tags: s % 2 === 0 ? 'even' : 'odd',
        keys: `key-${s}`,
        uniqKey: `U${s}`,
      }),
    );
    if (r.status !== 'PUT_OK') continue;
    const a = r.appended[0];
    process.stdout.write(`ack ${s} ${topic} ${queueId} ${a.queueOffset} ${a.physicalOffset}\n`);
  }
}

await Promise.all([writer(), writer(), writer(), writer()]);
