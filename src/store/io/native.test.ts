import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import * as native from './native.js';

const skip = !native.nativeAvailable && 'native addon not built';

function withFile(fn: (fd: number, dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-native-'));
  const fd = openSync(join(dir, 'f'), 'w+');
  return Promise.resolve(fn(fd, dir)).finally(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
}

test('fallocate grows the file and map/write is visible to read()', { skip }, () =>
  withFile((fd) => {
    native.fallocate(fd, 0, 1 << 20);
    assert.equal(fstatSync(fd).size, 1 << 20);
    const ab = native.map(fd, 1 << 20, 0);
    assert.equal(ab.byteLength, 1 << 20);
    const u8 = new Uint8Array(ab);
    u8.set([1, 2, 3, 4], 4096);
    const back = Buffer.alloc(4);
    readSync(fd, back, 0, 4, 4096);
    assert.deepEqual([...back], [1, 2, 3, 4]);
    native.msync(u8, 4096, 4, true);
    native.msync(ab, 0, 8192, false);
    assert.equal(native.unmap(ab), true);
  }),
);

test('unmap detaches every view and is idempotent', { skip }, () =>
  withFile((fd) => {
    native.fallocate(fd, 0, 65536);
    const ab = native.map(fd, 65536, 0);
    const view = new Uint8Array(ab, 100, 50);
    const dv = new DataView(ab);
    dv.setInt32(0, 42);
    assert.equal(native.unmap(ab), true);
    assert.equal(ab.byteLength, 0);
    assert.equal(view.length, 0);
    assert.throws(() => dv.getInt32(0));
    assert.equal(native.unmap(ab), false);
  }),
);

test('msyncAsync resolves and rejects on a detached view', { skip }, () =>
  withFile(async (fd) => {
    native.fallocate(fd, 0, 65536);
    const ab = native.map(fd, 65536, 0);
    new Uint8Array(ab).fill(7, 0, 10000);
    await native.msyncAsync(ab, 10, 9000);
    await native.prefaultReadAsync(ab, 3, 65533);
    assert.equal(new Uint8Array(ab)[9999], 7, 'the read pre-fault keeps the content');
    await native.touchAsync(ab, 1, 65535);
    const bytes = new Uint8Array(ab);
    assert.deepEqual([bytes[0], bytes[4096], bytes[9999], bytes[10000]], [7, 7, 7, 0], 'touch too');
    native.madvise(ab, 0, 65536, 'willneed');
    native.madvise(ab, 0, 4096, 'sequential');
    native.mlock(ab, 0, 4096);
    native.munlock(ab, 0, 4096);
    native.unmap(ab);
    assert.throws(() => native.msync(ab, 0, 10, true), RangeError);
  }),
);

/** Scheduling policy of each thread of this process (field 41 of /proc/self/task/N/stat). */
function threadPolicies(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
  });
}

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;

test(
  'a pool thread waits for its next job as SCHED_BATCH; the event loop stays SCHED_OTHER',
  { skip: skip || (process.platform !== 'linux' && 'Linux only') },
  () =>
    withFile(async (fd) => {
      native.fallocate(fd, 0, 65536);
      const ab = native.map(fd, 65536, 0);
      await native.touchAsync(ab, 0, 65536);
      await native.msyncAsync(ab, 0, 65536);
      native.unmap(ab);
      const policies = threadPolicies();
      assert.equal(policies[0], SCHED_OTHER, 'the main thread is untouched');
      assert.ok(policies.includes(SCHED_BATCH), `policies ${policies.join(',')}`);
    }),
);

test('errors carry code, errno and syscall', { skip }, () => {
  const err = (() => {
    try {
      native.fallocate(987654, 0, 4096);
    } catch (e) {
      return e as native.NativeIoError;
    }
    return null;
  })();
  assert.ok(err);
  assert.equal(err.code, 'EBADF');
  assert.equal(err.errno, -9);
  assert.equal(err.syscall, 'fallocate');
  assert.throws(() => native.map(987654, 4096, 0), { code: 'EBADF', syscall: 'mmap' });
  assert.throws(() => native.madvise(new ArrayBuffer(8), 0, 8, 'bogus' as 'random'), TypeError);
});

test('crc32 equals zlib.crc32 for every length and alignment', { skip }, () => {
  assert.equal(native.crc32(Buffer.from('123456789')), 0xcbf43926);
  for (let i = 0; i < 3000; i++) {
    const len = i < 1200 ? i : Math.floor(Math.random() * 70_000);
    const off = i % 16;
    const buf = randomBytes(len + off).subarray(off);
    assert.equal(native.crc32(buf), zlibCrc32(buf), `length ${len} offset ${off}`);
    assert.equal(native.bodyCrcFast(buf), zlibCrc32(buf) & 0x7fffffff);
  }
});

/** True when this process runs on glibc (the only malloc retainMallocMemory tunes). */
function onGlibc(): boolean {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return typeof report.header?.glibcVersionRuntime === 'string';
}

test('retainMallocMemory applies on glibc, is off at 0 and rejects bad sizes', { skip }, () => {
  assert.equal(native.retainMallocMemory(0), false, '0 keeps malloc as it is');
  assert.equal(native.retainMallocMemory(64 * 1024 * 1024), onGlibc());
  for (const bad of [-1, 2 ** 31, 1.5, Number.NaN]) {
    assert.throws(() => native.retainMallocMemory(bad), { code: 'CONFIG_INVALID' }, String(bad));
  }
});
