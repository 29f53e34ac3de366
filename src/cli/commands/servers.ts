/**
 * `sluice start` (name server + broker in one process), `sluice namesrv` and `sluice broker`.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import {
  brokerConfigFromPairs,
  loadBrokerConfig,
  STORE_BACKEND_CHOICES,
  type BrokerConfig,
} from '../../broker/broker-config.js';
import { BrokerController } from '../../broker/broker-controller.js';
import { NameServer } from '../../namesrv/name-server.js';
import { createLogger } from '../../common/logger.js';
import { SluiceError } from '../../common/errors.js';
import { startWebServer, type WebServer } from '../../web/web-server.js';

const log = createLogger('sluice');

interface BrokerFlags {
  config?: string;
  namesrv?: string;
  host?: string;
  port?: string;
  httpPort?: string;
  data?: string;
  flush?: string;
  backend?: string;
  set?: string[];
}

function parsePort(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SluiceError('CONFIG_INVALID', `--${name} must be a TCP port, got "${value}"`);
  }
  return port;
}

function brokerOverrides(flags: BrokerFlags): Partial<BrokerConfig> {
  const out: Partial<BrokerConfig> = {};
  if (flags.namesrv !== undefined) out.namesrvAddr = flags.namesrv;
  if (flags.host !== undefined) out.listenHost = flags.host;
  const port = parsePort('port', flags.port);
  if (port !== undefined) out.listenPort = port;
  const httpPort = parsePort('http-port', flags.httpPort);
  if (httpPort !== undefined) out.httpPort = httpPort;
  if (flags.data !== undefined) out.storePathRootDir = flags.data;
  if (flags.flush !== undefined) {
    if (flags.flush !== 'sync' && flags.flush !== 'async') {
      throw new SluiceError(
        'CONFIG_INVALID',
        `--flush must be sync or async, got "${flags.flush}"`,
      );
    }
    out.flushDiskType = flags.flush === 'sync' ? 'SYNC_FLUSH' : 'ASYNC_FLUSH';
  }
  if (flags.backend !== undefined) {
    const backend = STORE_BACKEND_CHOICES.find((b) => b === flags.backend);
    if (backend === undefined) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `--backend must be one of ${STORE_BACKEND_CHOICES.join(', ')}, got "${flags.backend}"`,
      );
    }
    out.storeBackend = backend;
  }
  return out;
}

function setPairs(list: string[] | undefined): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SluiceError('CONFIG_INVALID', `--set expects key=value, got "${item}"`);
    pairs[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return pairs;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function addBrokerOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'broker.conf file (RocketMQ key=value style)')
    .option('--host <address>', 'address to listen on (listenHost)')
    .option('-p, --port <port>', 'broker port (listenPort, default 10911)')
    .option('--http-port <port>', 'dashboard and /metrics port (default 8080, 0 = off)')
    .option('-d, --data <dir>', 'data folder (storePathRootDir, default ./sluice-data)')
    .option('--flush <mode>', 'sync or async flush (flushDiskType)')
    .option(
      '--backend <name>',
      'CommitLog backend: auto (file with --flush sync, else mmap), mmap or file',
    )
    .option('--set <key=value>', 'any broker.conf key; repeatable', collect);
}

/** Stops everything once on SIGINT/SIGTERM, then exits 0 (1 if stopping failed). */
function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: stopping (flushing the log, persisting offsets)`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('clean shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

function resolveConfig(flags: BrokerFlags, extra: Partial<BrokerConfig> = {}): BrokerConfig {
  return loadBrokerConfig({
    configFile: flags.config,
    env: process.env,
    overrides: {
      ...extra,
      ...brokerConfigFromPairs(setPairs(flags.set), '--set'),
      ...brokerOverrides(flags),
    },
  });
}

/** Starts the dashboard and /metrics server unless httpPort is 0; sets broker.httpAddress. */
async function startHttp(broker: BrokerController): Promise<WebServer | undefined> {
  const c = broker.config;
  if (c.httpPort === 0) return undefined;
  const web = await startWebServer({
    broker,
    host: c.httpHost,
    port: c.httpPort,
    writeEnable: c.httpWriteEnable,
  });
  broker.httpAddress = web.address;
  return web;
}

function printBanner(lines: string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerServerCommands(program: Command): void {
  addBrokerOptions(
    program
      .command('start')
      .description('run a name server and a broker in one process, with embedded defaults')
      .option('--namesrv-port <port>', 'name server port (default 9876)')
      .addHelpText('after', '\nExample:\n  $ sluice start --data ./sluice-data --flush sync'),
  ).action(async (flags: BrokerFlags & { namesrvPort?: string }) => {
    const namesrvPort = parsePort('namesrv-port', flags.namesrvPort) ?? 9876;
    const host = flags.host ?? '127.0.0.1';
    const config = resolveConfig(flags, {
      namesrvAddr: `127.0.0.1:${namesrvPort}`,
      listenHost: host,
    });
    const nameServer = new NameServer({
      kvConfigPath: resolve(config.storePathRootDir, 'namesrv', 'kvConfig.json'),
    });
    await nameServer.start({ host, port: namesrvPort });
    let broker: BrokerController;
    let web: WebServer | undefined;
    try {
      broker = await BrokerController.start(config);
    } catch (error) {
      await nameServer.stop();
      throw error;
    }
    try {
      web = await startHttp(broker);
    } catch (error) {
      await broker.stop();
      await nameServer.stop();
      throw error;
    }
    onShutdownSignal(async () => {
      await web?.close();
      await broker.stop();
      await nameServer.stop();
    });
    printBanner([
      `Sluice name server listening on ${host}:${nameServer.port}`,
      `Sluice broker ${config.brokerName} listening on ${broker.address} (data in ${resolve(config.storePathRootDir)}, ${config.flushDiskType}, ${broker.store.config.backend} backend)`,
      ...(broker.httpAddress ? [`Dashboard and /metrics on http://${broker.httpAddress}/`] : []),
      `Point RocketMQ clients at the name server 127.0.0.1:${nameServer.port}.`,
      `Send a first message: npx sluice message send --namesrv 127.0.0.1:${nameServer.port} --topic Hello --body hi`,
      `Read it back:         npx sluice message consume Hello --from-beginning --namesrv 127.0.0.1:${nameServer.port}`,
      'Sluice is ready',
    ]);
  });

  program
    .command('namesrv')
    .description('run a name server only')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('-p, --port <port>', 'port', '9876')
    .option('--kv-config <file>', 'KV config file', './sluice-data/namesrv/kvConfig.json')
    .addHelpText('after', '\nExample:\n  $ sluice namesrv --port 9876')
    .action(async (flags: { host: string; port: string; kvConfig: string }) => {
      const port = parsePort('port', flags.port) ?? 9876;
      const nameServer = new NameServer({ kvConfigPath: resolve(flags.kvConfig) });
      await nameServer.start({ host: flags.host, port });
      onShutdownSignal(() => nameServer.stop());
      printBanner([
        `Sluice name server listening on ${flags.host}:${nameServer.port}`,
        'Sluice is ready',
      ]);
    });

  addBrokerOptions(
    program
      .command('broker')
      .description('run a broker that registers with the given name servers')
      .option('-n, --namesrv <addresses>', 'name servers, host:port separated by ;')
      .addHelpText(
        'after',
        '\nExample:\n  $ sluice broker --namesrv 10.0.0.1:9876;10.0.0.2:9876 --config broker.conf',
      ),
  ).action(async (flags: BrokerFlags) => {
    const config = resolveConfig(flags);
    const broker = await BrokerController.start(config);
    let web: WebServer | undefined;
    try {
      web = await startHttp(broker);
    } catch (error) {
      await broker.stop();
      throw error;
    }
    onShutdownSignal(async () => {
      await web?.close();
      await broker.stop();
    });
    printBanner([
      `Sluice broker ${config.brokerName} listening on ${broker.address}, registering with ${config.namesrvAddr}`,
      ...(broker.httpAddress ? [`Dashboard and /metrics on http://${broker.httpAddress}/`] : []),
      'Sluice is ready',
    ]);
  });
}
