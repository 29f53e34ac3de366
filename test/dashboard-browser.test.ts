/**
 * The dashboard in a real browser (Debian chromium via playwright-core) against a live broker
 * with traffic: every page loads, the charts draw with data, the figures match the Admin API,
 * and write actions go through a confirmation dialog. Screenshots go to test-artifacts/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Admin, Producer, PushConsumer } from '../src/index.js';
import { freePort, startSluice, type SluiceProcess } from './support/sluice-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install it with apt-get install -y chromium to run the dashboard browser test`;

let sluice: SluiceProcess;
let base: string;
let browser: BrowserContext;
let page: Page;
let admin: Admin;
let producer: Producer;
let consumer: PushConsumer;
let traffic: NodeJS.Timeout | undefined;
let profileDir: string;

async function open(hash: string): Promise<void> {
  await page.goto(`${base}/#/${hash}`);
  await page.waitForFunction("document.body.dataset.ready === 'true'", undefined, {
    timeout: 15_000,
  });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
}

function cellNumbers(text: string): number {
  return Number(text.replace(/,/g, ''));
}

describe('dashboard in chromium', { skip, timeout: 120_000 }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sluice = await startSluice({
      httpPort: await freePort(),
      brokerConf: { httpWriteEnable: true },
    });
    base = /Dashboard and \/metrics on (http:\/\/[^/\s]+)\//.exec(sluice.output())![1]!;
    admin = new Admin({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    await admin.createTopic('dash-orders', { queueNums: 4 });
    producer = new Producer({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    await producer.start();
    for (let i = 0; i < 40; i++) {
      await producer.send({
        topic: 'dash-orders',
        body: JSON.stringify({ order: i }),
        keys: `order-${i}`,
        tags: 'created',
      });
    }
    consumer = new PushConsumer({
      nameServer: sluice.namesrvAddr,
      group: 'dash-workers',
      consumeFrom: 'FIRST_OFFSET',
      persistOffsetIntervalMs: 300,
      onError: () => undefined,
      handler: () => undefined,
    });
    consumer.subscribe('dash-orders');
    await consumer.start();
    let n = 40;
    traffic = setInterval(() => {
      void producer.send({ topic: 'dash-orders', body: `tick ${n++}` }).catch(() => undefined);
    }, 100);
    profileDir = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('dialog', (dialog) => void dialog.accept());
    // let the rate history collect a few samples with traffic
    await new Promise((r) => setTimeout(r, 3000));
  });

  after(async () => {
    if (traffic) clearInterval(traffic);
    await browser?.close();
    await consumer?.shutdown();
    await producer?.shutdown();
    await admin?.shutdown();
    await sluice?.stop();
    sluice?.cleanup();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('overview: cards, brokers and live rate charts', async () => {
    await open('overview');
    assert.equal(await page.locator('#chart-messages canvas').count(), 1);
    assert.equal(await page.locator('#chart-bytes canvas').count(), 1);
    await page.waitForFunction(
      "Number(document.querySelector('#chart-messages')?.dataset.points) >= 2",
      undefined,
      { timeout: 10_000 },
    );
    const rates = (await (await fetch(`${base}/api/rates`)).json()) as {
      messagesInPerSec: number[];
    };
    assert.ok(
      rates.messagesInPerSec.some((v) => v > 0),
      'some produce rate was sampled',
    );
    const brokers = await page.locator('[data-testid=brokers-table] tbody tr').count();
    const cluster = await admin.clusterInfo();
    assert.equal(brokers, Object.keys(cluster.brokerAddrTable).length);
    assert.match(
      (await page.locator('[data-testid=brokers-table]').textContent()) ?? '',
      new RegExp(sluice.brokerAddr),
    );
    await shot('overview');
  });

  it('topics: list and queue offsets match the Admin API; send a test message', async () => {
    await open('topics');
    const row = page.locator('[data-testid=topics-table] tr', { hasText: 'dash-orders' });
    await row.waitFor();
    await shot('topics');
    await open('topics/dash-orders');
    const stats = await admin.topicStats('dash-orders');
    const rows = page.locator('[data-testid=queues-table] tbody tr');
    assert.equal(await rows.count(), stats.length);
    for (let i = 0; i < stats.length; i++) {
      const cells = await rows.nth(i).locator('td').allTextContents();
      assert.equal(Number(cells[1]), stats[i]!.queue.queueId);
      assert.equal(cellNumbers(cells[2]!), stats[i]!.minOffset);
      // traffic keeps flowing: the page can only be behind the later Admin answer
      assert.ok(cellNumbers(cells[3]!) <= stats[i]!.maxOffset);
      assert.ok(cellNumbers(cells[3]!) >= stats[i]!.maxOffset - 20);
    }
    await page.fill('#send input[name=body]', 'from the browser test');
    await page.fill('#send input[name=keys]', 'browser-key');
    await page.click('#send button');
    await page.locator('#sent').waitFor();
    const found = await admin.queryMessageByKey('dash-orders', 'browser-key');
    assert.equal(found[0]?.body.toString(), 'from the browser test');
    await shot('topic-detail');
  });

  it('consumer groups: members and per-queue lag match the Admin API', async () => {
    await open('groups');
    await page.locator('[data-testid=groups-table] tr', { hasText: 'dash-workers' }).waitFor();
    await shot('groups');
    await open('groups/dash-workers');
    const members = Number(await page.locator('[data-testid=members]').textContent());
    assert.equal(members, 1);
    const progress = await admin.consumerProgress('dash-workers');
    const rows = page.locator('[data-testid=lag-table] tbody tr');
    assert.equal(await rows.count(), progress.queues.length);
    await shot('group-detail');
  });

  it('message search: by key, with the body as JSON and hex', async () => {
    await open('messages');
    await page.fill('#search input[name=topic]', 'dash-orders');
    await page.fill('#search input[name=key]', 'order-7');
    await page.click('#search button');
    await page.locator('[data-testid=message-detail]').waitFor();
    await page.click('[data-mode=json]');
    assert.match(
      (await page.locator('[data-testid=message-body]').textContent()) ?? '',
      /"order": 7/,
    );
    await page.click('[data-mode=hex]');
    assert.match(
      (await page.locator('[data-testid=message-body]').textContent()) ?? '',
      /^7b 22 6f/,
    );
    await shot('messages');
  });

  it('store: segments with written and flushed offsets', async () => {
    await open('store');
    const stats = (await (await fetch(`${base}/api/store`)).json()) as { segments: unknown[] };
    assert.equal(
      await page.locator('[data-testid=segments-table] tbody tr').count(),
      stats.segments.length,
    );
    const written = cellNumbers(
      (await page.locator('[data-testid=written-offset]').textContent()) ?? '',
    );
    const flushed = cellNumbers(
      (await page.locator('[data-testid=flushed-offset]').textContent()) ?? '',
    );
    assert.ok(written > 0 && flushed <= written);
    await shot('store');
  });

  it('creates a topic through the confirmation dialog', async () => {
    await open('topics');
    await page.fill('#create input[name=topic]', 'dash-created');
    await page.click('#create button');
    await page.locator('[data-testid=topics-table] tr', { hasText: 'dash-created' }).waitFor();
    assert.ok((await admin.listTopics()).includes('dash-created'));
  });
});
