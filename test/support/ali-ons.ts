/**
 * Loads the unmodified `ali-ons` RocketMQ client from npm (CommonJS) with the small typed surface
 * the tests use, and options that point it at a test broker with short client timers.
 */
import { createRequire } from 'node:module';
import type { SluiceProcess } from './sluice-process.js';

const require = createRequire(import.meta.url);
export const ons = require('ali-ons') as AliOns;

export interface AliMessage {
  topic: string;
  tags: string | null;
  keys: string | undefined;
  body: Buffer;
  msgId: string;
  queueId: number;
  queueOffset: number;
  reconsumeTimes: number;
  properties: Record<string, string>;
}
export interface AliProducer {
  ready(): Promise<void>;
  send(
    message: unknown,
  ): Promise<{ sendStatus: string; msgId: string; messageQueue: unknown; queueOffset: number }>;
  close(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
  _mqClient: {
    createTopic(addr: string, def: string, config: object, timeoutMs: number): Promise<void>;
  };
}
export interface AliConsumer {
  subscribe(
    topic: string,
    expression: string,
    handler: (message: AliMessage) => Promise<unknown>,
  ): void;
  ready(): Promise<void>;
  close(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
export interface AliOns {
  Producer: (new (options: object) => AliProducer) & { defaultProducer?: AliProducer };
  Consumer: new (options: object) => AliConsumer;
  Message: new (topic: string, tags: string, body: Buffer | string) => { keys: string[] };
}

/** ali-ons asserts an http client even when given name servers; it is never called. */
export const httpclient = {
  request: async () => {
    throw new Error('ali-ons tried an HTTP name-server lookup; the test gives nameSrv');
  },
};
const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

export function clientOptions(sluice: SluiceProcess, instanceName: string): object {
  return {
    httpclient,
    nameSrv: sluice.namesrvAddr,
    instanceName,
    pollNameServerInteval: 1_000,
    heartbeatBrokerInterval: 1_000,
    rebalanceInterval: 1_000,
    persistConsumerOffsetInterval: 500,
    logger: silentLogger,
  };
}

/** Creates a topic on one broker through ali-ons' own UPDATE_AND_CREATE_TOPIC call. */
export async function createTopicWithAliOns(
  producer: AliProducer,
  brokerAddr: string,
  topic: string,
  queueNums: number,
): Promise<void> {
  await producer._mqClient.createTopic(
    brokerAddr,
    'TBW102',
    {
      topicName: topic,
      readQueueNums: queueNums,
      writeQueueNums: queueNums,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    },
    3_000,
  );
}
