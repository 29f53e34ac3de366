/**
 * Child process of the crash test (commit-log.crash.test.ts), not a test itself. Opens the
 * log given as JSON in argv[2], recovers it, prints "ready", then appends with sync flush from
 * several concurrent writers and prints "ack <offset> <size> <seq>" for each record once it is
 * durable, until the parent kills it.
 */
import { CommitLog } from './commit-log.js';
import { MapAssigner, message } from './commit-log.fixture.js';
import type { StoreConfig } from './types.js';

/** Deterministic body for sequence number `seq` (the parent rebuilds it to compare). */
export function crashBody(seq: number): Buffer {
  const len = 8 + ((seq * 2654435761) % 1500);
  const b = Buffer.alloc(len);
  b.writeDoubleBE(seq, 0);
  for (let i = 8; i < len; i++) b[i] = (seq + i * 31) & 0xff;
  return b;
}

async function main(): Promise<void> {
  const { config, firstSeq, writers } = JSON.parse(process.argv[2]) as {
    config: StoreConfig;
    firstSeq: number;
    writers: number;
  };
  // JSON turned the address bytes into an object of index → byte.
  const addr = config.storeHost.address as unknown as Record<string, number>;
  config.storeHost = { address: Uint8Array.from(Object.values(addr)), port: config.storeHost.port };
  const log = await CommitLog.open(config, new MapAssigner());
  log.recover(log.minOffset);
  let seq = firstSeq;
  process.stdout.write('ready\n');
  const writer = async (): Promise<void> => {
    for (;;) {
      const s = seq++;
      const r = log.append(message(crashBody(s), 'CrashTopic', s % 4));
      await log.waitDurable(r.physicalOffset + r.sizeBytes);
      process.stdout.write(`ack ${r.physicalOffset} ${r.sizeBytes} ${s}\n`);
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
}

if (process.argv[2] !== undefined) void main();
