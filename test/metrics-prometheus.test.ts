/**
 * `/metrics` and the read-only API of a real `sluice start` process, checked after known traffic.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Admin, Producer, PushConsumer } from '../src/index.js';
import { freePort, startSluice, type SluiceProcess } from './support/sluice-process.js';

let sluice: SluiceProcess;
let base: string;

/** Parses Prometheus text into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('/metrics', { timeout: 90_000 }, () => {
  before(async () => {
    // Sync flush: the sequential sends below are small group commits, flushed on the event loop.
    sluice = await startSluice({
      httpPort: await freePort(),
      brokerConf: { flushDiskType: 'SYNC_FLUSH' },
    });
    const m = /Dashboard and \/metrics on (http:\/\/[^/\s]+)\//.exec(sluice.output());
    assert.ok(m, sluice.output());
    base = m[1]!;
  });
  after(async () => {
    await sluice.stop();
    sluice.cleanup();
  });

  it('counts messages and bytes per topic, latencies, lag and process figures', async () => {
    const admin = new Admin({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    await admin.createTopic('metrics-t', { queueNums: 2 });
    const producer = new Producer({ nameServer: sluice.namesrvAddr, onError: () => undefined });
    await producer.start();
    for (let i = 0; i < 25; i++)
      await producer.send({ topic: 'metrics-t', body: Buffer.alloc(100) });
    let seen = 0;
    const consumer = new PushConsumer({
      nameServer: sluice.namesrvAddr,
      group: 'metrics-g',
      consumeFrom: 'FIRST_OFFSET',
      onError: () => undefined,
      handler: () => void seen++,
    });
    consumer.subscribe('metrics-t');
    await consumer.start();
    while (seen < 25) await new Promise((r) => setTimeout(r, 50));
    await consumer.shutdown();
    for (let i = 0; i < 5; i++)
      await producer.send({ topic: 'metrics-t', body: Buffer.alloc(100) });
    const progress = await admin.consumerProgress('metrics-g', 'metrics-t');

    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const m = parseMetrics(text);
    assert.equal(m.get('sluice_messages_in_total{topic="metrics-t"}'), 30);
    const bytesIn = m.get('sluice_bytes_in_total{topic="metrics-t"}')!;
    assert.ok(bytesIn >= 30 * 100 && bytesIn < 30 * 400, String(bytesIn));
    assert.ok(m.get('sluice_messages_out_total{topic="metrics-t"}')! >= 25);
    assert.ok(m.get('sluice_send_latency_seconds_count')! >= 30);
    assert.equal(
      m.get('sluice_send_latency_seconds_bucket{le="+Inf"}'),
      m.get('sluice_send_latency_seconds_count'),
    );
    assert.ok(m.get('sluice_send_latency_seconds_sum')! > 0);
    assert.ok(m.get('sluice_pull_latency_seconds_count')! >= 1);
    assert.equal(
      m.get('sluice_consumer_group_lag_messages{group="metrics-g",topic="metrics-t"}'),
      progress.totalLag,
    );
    assert.equal(progress.totalLag, 5);
    assert.ok(m.get('sluice_commitlog_written_bytes_total')! >= bytesIn);
    assert.ok(
      m.get('sluice_commitlog_flushed_bytes_total')! <=
        m.get('sluice_commitlog_written_bytes_total')!,
    );
    assert.ok(m.has('sluice_dispatch_lag_bytes'));
    assert.ok(m.get('sluice_commitlog_flushes_total{thread="event_loop"}')! > 0);
    assert.ok(m.get('sluice_commitlog_flushes_total{thread="thread_pool"}')! >= 0);
    assert.ok(m.get('sluice_connections')! >= 1);
    assert.ok(m.get('sluice_disk_total_bytes')! > 0);
    assert.ok(m.get('sluice_disk_used_ratio')! > 0);
    assert.ok(m.get('sluice_commitlog_segments')! >= 1);
    assert.ok(m.has('sluice_host_dirty_bytes'));
    assert.ok(m.get('sluice_process_cpu_seconds_total')! > 0);
    assert.ok(m.get('sluice_process_resident_memory_bytes')! > 0);
    assert.match(text, /# TYPE sluice_messages_in_total counter/);
    assert.match(text, /# TYPE sluice_send_latency_seconds histogram/);
    for (const name of m.keys()) assert.match(name, /^sluice_/);
    await producer.shutdown();
    await admin.shutdown();
  });

  it('serves the API read-only unless httpWriteEnable is set', async () => {
    const info = (await (await fetch(`${base}/api/info`)).json()) as { writeEnable: boolean };
    assert.equal(info.writeEnable, false);
    const res = await fetch(`${base}/api/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'nope' }),
    });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: string }).error, /httpWriteEnable=true/);
    assert.equal((await fetch(`${base}/api/nothing`)).status, 404);
    assert.equal((await fetch(`${base}/../../etc/passwd`)).status, 404);
    const js = await fetch(`${base}/vendor/uPlot.iife.min.js`);
    assert.equal(js.status, 200);
    assert.ok((await js.text()).length > 10_000);
  });
});
