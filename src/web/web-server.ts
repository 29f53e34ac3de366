/**
 * The broker process's HTTP server (node:http): the dashboard page and its static files, the
 * JSON API under `/api`, and `/metrics` for Prometheus. Started by `sluice start|broker` when
 * `httpPort` is not 0; read-only unless `httpWriteEnable=true`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrokerController } from '../broker/broker-controller.js';
import { brokerStatsOf } from '../broker/broker-stats.js';
import { Admin } from '../client/admin.js';
import { Producer } from '../client/producer.js';
import { createLogger } from '../common/logger.js';
import { handleApi, type ApiContext } from './api.js';
import { sendError, sendJson } from './http-util.js';
import { createMetricsRegistry } from './metrics.js';
import { RateHistory } from './rate-history.js';

const log = createLogger('web');

/** dist/src/web/static (copied there from src/web/static by the build). */
const STATIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'static');

/** uPlot's dist folder, resolved from the installed package (served, never fetched from a CDN). */
function uplotDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('uplot'));
}

const VENDOR_FILES: Record<string, string> = {
  '/vendor/uPlot.iife.min.js': 'uPlot.iife.min.js',
  '/vendor/uPlot.min.css': 'uPlot.min.css',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** Options of {@link startWebServer}. */
export interface WebServerOptions {
  broker: BrokerController;
  host: string;
  /** 0 picks a free port. */
  port: number;
  writeEnable: boolean;
  /** Rate sampling interval. Default 1000 ms. */
  sampleIntervalMs?: number;
}

/** A running dashboard / metrics server. */
export class WebServer {
  private producerPromise: Promise<Producer> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly ctx: ApiContext,
    /** `host:port` it listens on. */
    readonly address: string,
  ) {}

  /** Starts listening; resolves once bound. */
  static async start(options: WebServerOptions): Promise<WebServer> {
    const { broker } = options;
    const admin = new Admin({
      nameServer: broker.config.namesrvAddr,
      onError: (err) => log.debug(`admin client: ${err.message}`),
    });
    const rates = new RateHistory(brokerStatsOf(broker.store), options.sampleIntervalMs ?? 1000);
    const registry = createMetricsRegistry(broker);
    const vendor = uplotDir();
    const holder: { web?: WebServer } = {};
    const ctx: ApiContext = {
      broker,
      admin,
      rates,
      writeEnable: options.writeEnable,
      producer: () => holder.web!.producer(),
    };
    const server = createServer((req, res) => {
      void route(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, error);
        else res.destroy();
      });
    });
    const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname.startsWith('/api/')) return handleApi(ctx, req, res, url);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: `${req.method} is not allowed on ${url.pathname}` });
        return;
      }
      if (url.pathname === '/metrics') {
        const text = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
        return;
      }
      const vendorFile = VENDOR_FILES[url.pathname];
      if (vendorFile) return serveFile(res, join(vendor, vendorFile));
      const path = url.pathname === '/' ? '/index.html' : url.pathname;
      const file = normalize(join(STATIC_DIR, path));
      if (!file.startsWith(STATIC_DIR + sep)) {
        sendJson(res, 404, { error: 'not found' });
        return;
      }
      return serveFile(res, file);
    };
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    const bound = server.address() as AddressInfo;
    const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
    const web = new WebServer(server, ctx, `${host}:${bound.port}`);
    holder.web = web;
    rates.start();
    return web;
  }

  private producer(): Promise<Producer> {
    if (!this.producerPromise) {
      const producer = new Producer({
        nameServer: this.ctx.broker.config.namesrvAddr,
        group: 'SLUICE_DASHBOARD_PRODUCER',
        onError: (err) => log.debug(`dashboard producer: ${err.message}`),
      });
      this.producerPromise = producer.start().then(() => producer);
      this.producerPromise.catch(() => (this.producerPromise = undefined));
    }
    return this.producerPromise;
  }

  /** Stops sampling, closes connections and the clients. */
  async close(): Promise<void> {
    this.ctx.rates.stop();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    await this.ctx.admin.shutdown();
    if (this.producerPromise) await (await this.producerPromise.catch(() => undefined))?.shutdown();
  }
}

async function serveFile(res: ServerResponse, file: string): Promise<void> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    sendJson(res, 404, { error: 'not found' });
    return;
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': data.length,
    'cache-control': 'no-cache',
  });
  res.end(data);
}

/** Starts the dashboard for `broker` (see {@link WebServer.start}). */
export function startWebServer(options: WebServerOptions): Promise<WebServer> {
  return WebServer.start(options);
}
