/**
 * `/metrics` in Prometheus text format (prom-client). Values are read from the broker when
 * scraped — the processors only bump plain counters ({@link BrokerStats}) — so scraping costs
 * nothing between scrapes.
 *
 * | metric | type | labels | source |
 * |---|---|---|---|
 * | sluice_messages_in_total / sluice_bytes_in_total | counter | topic | stored by sends |
 * | sluice_messages_out_total / sluice_bytes_out_total | counter | topic | returned by pulls |
 * | sluice_send_failures_total | counter | | sends the store refused |
 * | sluice_send_latency_seconds / sluice_pull_latency_seconds | histogram | | processors |
 * | sluice_commitlog_written_bytes_total / _flushed_bytes_total | counter | | log positions |
 * | sluice_commitlog_flushes_total | counter | thread | store's flush counts |
 * | sluice_commitlog_unflushed_bytes, sluice_dispatch_lag_bytes | gauge | | store |
 * | sluice_commitlog_segments, sluice_store_size_bytes | gauge | | store |
 * | sluice_disk_used_ratio, sluice_disk_total_bytes, sluice_disk_free_bytes | gauge | | statfs |
 * | sluice_consumer_group_lag_messages | gauge | group, topic | offsets vs queue max |
 * | sluice_connections, sluice_held_pulls, sluice_topics | gauge | | broker |
 * | sluice_host_page_cache_bytes, _dirty_bytes, _writeback_bytes | gauge | | /proc/meminfo |
 * | sluice_process_*, sluice_nodejs_* | | | prom-client default metrics |
 */
import { readFileSync, statfsSync } from 'node:fs';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { BrokerController } from '../broker/broker-controller.js';
import {
  LATENCY_BUCKETS_SECONDS,
  brokerStatsOf,
  type LatencyHistogram,
} from '../broker/broker-stats.js';

interface MetricValue {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
}

/** A metric computed at scrape time, in prom-client's registry shape. */
interface ComputedMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: 'sum';
    values: MetricValue[];
  }>;
}

function computed(
  name: string,
  help: string,
  type: ComputedMetric['type'],
  values: () => MetricValue[],
): ComputedMetric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
  };
}

function histogramValues(name: string, h: LatencyHistogram): MetricValue[] {
  const out: MetricValue[] = [];
  let cumulative = 0;
  for (let i = 0; i < LATENCY_BUCKETS_SECONDS.length; i++) {
    cumulative += h.bucketCounts[i]!;
    out.push({
      metricName: `${name}_bucket`,
      labels: { le: LATENCY_BUCKETS_SECONDS[i]! },
      value: cumulative,
    });
  }
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, value: h.sumSeconds });
  out.push({ metricName: `${name}_count`, value: h.count });
  return out;
}

/** Page-cache figures of the host from /proc/meminfo (bytes), empty off Linux. */
export function readMeminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  let text: string;
  try {
    text = readFileSync('/proc/meminfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * 1024;
  }
  return out;
}

/** Disk figures of the filesystem holding `path`. */
export function diskUsage(path: string): { totalBytes: number; freeBytes: number } {
  try {
    const s = statfsSync(path);
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch {
    return { totalBytes: 0, freeBytes: 0 };
  }
}

/** Lag per (group, topic) from the broker's committed offsets. */
export function groupLags(
  broker: BrokerController,
): { group: string; topic: string; lag: number }[] {
  const out: { group: string; topic: string; lag: number }[] = [];
  const table = broker.consumerOffsetManager.encode().offsetTable;
  for (const [key, queues] of Object.entries(table)) {
    const at = key.indexOf('@');
    if (at <= 0) continue;
    const topic = key.slice(0, at);
    const group = key.slice(at + 1);
    if (!broker.topicConfigManager.selectTopicConfig(topic)) continue;
    let lag = 0;
    for (const [queueId, offset] of Object.entries(queues)) {
      const max = broker.store.getMaxOffsetInQueue(topic, Number(queueId));
      lag += Math.max(0, max - Math.max(0, offset));
    }
    out.push({ group, topic, lag });
  }
  return out;
}

/** Builds the registry behind `/metrics` for one broker. */
export function createMetricsRegistry(broker: BrokerController): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sluice_' });
  const stats = brokerStatsOf(broker.store);
  const perTopic = (field: 'messagesIn' | 'bytesIn' | 'messagesOut' | 'bytesOut') => () =>
    [...stats.topics.values()].map((t) => ({ labels: { topic: t.topic }, value: t[field] }));
  const metrics: ComputedMetric[] = [
    computed(
      'sluice_messages_in_total',
      'Messages stored by sends, per topic',
      'counter',
      perTopic('messagesIn'),
    ),
    computed(
      'sluice_bytes_in_total',
      'Record bytes stored by sends, per topic',
      'counter',
      perTopic('bytesIn'),
    ),
    computed(
      'sluice_messages_out_total',
      'Messages returned by pulls, per topic',
      'counter',
      perTopic('messagesOut'),
    ),
    computed(
      'sluice_bytes_out_total',
      'Record bytes returned by pulls, per topic',
      'counter',
      perTopic('bytesOut'),
    ),
    computed('sluice_send_failures_total', 'Sends the store refused', 'counter', () => [
      { value: stats.sendFailures },
    ]),
    computed(
      'sluice_send_latency_seconds',
      'Send latency: request taken up to stored (and flushed in sync mode)',
      'histogram',
      () => histogramValues('sluice_send_latency_seconds', stats.sendLatency),
    ),
    computed(
      'sluice_pull_latency_seconds',
      'Pull latency: store read of an answered pull',
      'histogram',
      () => histogramValues('sluice_pull_latency_seconds', stats.pullLatency),
    ),
    computed(
      'sluice_commitlog_written_bytes_total',
      'CommitLog write position (bytes since the log began); rate() is the write rate',
      'counter',
      () => [{ value: broker.store.stats().maxPhysicalOffset }],
    ),
    computed(
      'sluice_commitlog_flushed_bytes_total',
      'CommitLog flushed position (bytes since the log began); rate() is the flush rate',
      'counter',
      () => [{ value: broker.store.stats().flushedPhysicalOffset }],
    ),
    computed(
      'sluice_commitlog_flushes_total',
      'CommitLog flushes (fdatasync or msync calls), by the thread that ran them: event_loop ' +
        'for small group commits with sync flush, thread_pool otherwise',
      'counter',
      () => {
        const s = broker.store.stats();
        return [
          { labels: { thread: 'event_loop' }, value: s.commitLogInlineFlushes },
          {
            labels: { thread: 'thread_pool' },
            value: s.commitLogFlushes - s.commitLogInlineFlushes,
          },
        ];
      },
    ),
    computed(
      'sluice_consumer_group_lag_messages',
      'Messages not yet consumed, per consumer group and topic (committed offsets)',
      'gauge',
      () =>
        groupLags(broker).map((l) => ({
          labels: { group: l.group, topic: l.topic },
          value: l.lag,
        })),
    ),
  ];
  for (const m of metrics) registry.registerMetric(m as never);

  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('sluice_commitlog_unflushed_bytes', 'CommitLog bytes written but not yet flushed', () => {
    const s = broker.store.stats();
    return s.maxPhysicalOffset - s.flushedPhysicalOffset;
  });
  gauge('sluice_dispatch_lag_bytes', 'CommitLog bytes not yet indexed into ConsumeQueues', () => {
    const s = broker.store.stats();
    return s.maxPhysicalOffset - s.dispatchedPhysicalOffset;
  });
  gauge(
    'sluice_commitlog_segments',
    'CommitLog segment files',
    () => broker.store.stats().segments.length,
  );
  gauge('sluice_store_size_bytes', 'Bytes of CommitLog segment files', () =>
    broker.store.stats().segments.reduce((sum, s) => sum + s.sizeBytes, 0),
  );
  gauge(
    'sluice_disk_used_ratio',
    'Fraction of the store filesystem in use',
    () => broker.store.stats().diskUsedRatio,
  );
  gauge(
    'sluice_disk_total_bytes',
    'Size of the store filesystem',
    () => diskUsage(broker.store.config.storePath).totalBytes,
  );
  gauge(
    'sluice_disk_free_bytes',
    'Free bytes of the store filesystem',
    () => diskUsage(broker.store.config.storePath).freeBytes,
  );
  gauge('sluice_connections', 'Open remoting connections', () => broker.connectionCount);
  gauge('sluice_held_pulls', 'Pulls parked by long polling', () => broker.heldPullCount);
  gauge('sluice_topics', 'Topics configured on this broker', () => broker.topicConfigManager.size);
  gauge(
    'sluice_host_page_cache_bytes',
    'Host page cache (Cached in /proc/meminfo)',
    () => readMeminfo().Cached ?? 0,
  );
  gauge(
    'sluice_host_dirty_bytes',
    'Host dirty pages waiting for writeback (Dirty)',
    () => readMeminfo().Dirty ?? 0,
  );
  gauge(
    'sluice_host_writeback_bytes',
    'Host pages being written back (Writeback)',
    () => readMeminfo().Writeback ?? 0,
  );
  return registry;
}
