import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_BROKER_CONFIG,
  brokerConfigFromEnv,
  loadBrokerConfig,
  parseBrokerConf,
  parseDeleteWhen,
  resolvedStoreBackend,
} from './broker-config.js';
import { SluiceError } from '../common/errors.js';
import { applyHeapSettings } from './heap-settings.js';

test('broker.conf keys override defaults, comments and blank lines are skipped', () => {
  const parsed = parseBrokerConf(
    [
      '# a RocketMQ broker.conf',
      'brokerClusterName = MyCluster',
      '',
      'listenPort=10999',
      'flushDiskType=SYNC_FLUSH',
      'autoCreateTopicEnable=false',
      'mapedFileSizeCommitLog=1048576',
    ].join('\n'),
  );
  assert.deepEqual(parsed, {
    brokerClusterName: 'MyCluster',
    listenPort: 10999,
    flushDiskType: 'SYNC_FLUSH',
    autoCreateTopicEnable: false,
    mappedFileSizeCommitLog: 1048576,
  });
});

test('an unknown key is an error that names the key and the line', () => {
  assert.throws(
    () => parseBrokerConf('listenPort=1\nnoSuchKey=3', 'x.conf'),
    (error: unknown) =>
      error instanceof SluiceError &&
      error.code === 'CONFIG_INVALID' &&
      /noSuchKey/.test(error.message) &&
      /x\.conf:2/.test(error.message),
  );
});

test('values are type-checked', () => {
  assert.throws(() => parseBrokerConf('listenPort=abc'), /must be a number/);
  assert.throws(() => parseBrokerConf('autoCreateTopicEnable=yes'), /true or false/);
  assert.throws(() => parseBrokerConf('flushDiskType=SOMETIMES'), /ASYNC_FLUSH, SYNC_FLUSH/);
  assert.throws(() => parseBrokerConf('justakey'), /expected key=value/);
});

test('mallocRetainBytes: 256 MiB by default, 0 turns it off, negative or 2 GiB is refused', () => {
  assert.equal(DEFAULT_BROKER_CONFIG.mallocRetainBytes, 256 * 1024 * 1024);
  const off = loadBrokerConfig({ env: { SLUICE_MALLOC_RETAIN_BYTES: '0' } });
  assert.equal(off.mallocRetainBytes, 0);
  for (const bad of [-1, 2 ** 31]) {
    assert.throws(
      () => loadBrokerConfig({ overrides: { mallocRetainBytes: bad } }),
      (error: unknown) =>
        error instanceof SluiceError &&
        error.code === 'CONFIG_INVALID' &&
        /mallocRetainBytes/.test(error.message),
    );
  }
});

test("heapMemoryReducer: off by default, so a broker turns V8's memory reducer off", () => {
  assert.equal(DEFAULT_BROKER_CONFIG.heapMemoryReducer, false);
  const set: string[] = [];
  assert.deepEqual(
    applyHeapSettings(DEFAULT_BROKER_CONFIG, (flag) => set.push(flag)),
    ['--no-memory-reducer'],
  );
  assert.deepEqual(set, ['--no-memory-reducer']);
  const on = loadBrokerConfig({ env: { SLUICE_HEAP_MEMORY_REDUCER: 'true' } });
  assert.equal(on.heapMemoryReducer, true);
  set.length = 0;
  applyHeapSettings(on, (flag) => set.push(flag));
  assert.deepEqual(set, ['--memory-reducer']);
});

test('environment overrides file, flags override environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-conf-'));
  try {
    const file = join(dir, 'broker.conf');
    writeFileSync(file, 'listenPort=11000\nbrokerName=from-file\n');
    const config = loadBrokerConfig({
      configFile: file,
      env: { SLUICE_LISTEN_PORT: '11001', SLUICE_TEST_SWITCH: '1' },
      overrides: { brokerName: 'from-flag' },
    });
    assert.equal(config.listenPort, 11001);
    assert.equal(config.brokerName, 'from-flag');
    assert.equal(config.namesrvAddr, DEFAULT_BROKER_CONFIG.namesrvAddr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('environment values are validated like the file', () => {
  assert.throws(() => brokerConfigFromEnv({ SLUICE_LISTEN_PORT: 'x' }), /SLUICE_LISTEN_PORT/);
});

test('cross-field validation rejects impossible settings', () => {
  assert.throws(() => loadBrokerConfig({ overrides: { listenPort: 70000 } }), /listenPort/);
  assert.throws(
    () => loadBrokerConfig({ overrides: { mappedFileSizeCommitLog: 1000 } }),
    /multiple of 4096/,
  );
  assert.throws(() => loadBrokerConfig({ overrides: { deleteWhen: '25' } }), /deleteWhen/);
  assert.deepEqual(parseDeleteWhen('04;05'), [4, 5]);
});

test('a missing config file is a clear error', () => {
  assert.throws(
    () => loadBrokerConfig({ configFile: '/nonexistent/broker.conf' }),
    /cannot read config file/,
  );
});

test('storeBackend auto: the file backend with sync flush, mmap with async; a choice is kept', () => {
  const of = (over: Partial<typeof DEFAULT_BROKER_CONFIG>) =>
    resolvedStoreBackend({ ...DEFAULT_BROKER_CONFIG, ...over });
  assert.equal(DEFAULT_BROKER_CONFIG.storeBackend, 'auto');
  assert.equal(of({ flushDiskType: 'SYNC_FLUSH' }), 'file');
  assert.equal(of({ flushDiskType: 'ASYNC_FLUSH' }), 'mmap');
  assert.equal(of({ flushDiskType: 'SYNC_FLUSH', storeBackend: 'mmap' }), 'mmap');
  assert.equal(of({ flushDiskType: 'ASYNC_FLUSH', storeBackend: 'file' }), 'file');
  assert.deepEqual(parseBrokerConf('storeBackend=auto'), { storeBackend: 'auto' });
  assert.throws(() => parseBrokerConf('storeBackend=tmpfs'), SluiceError);
});
