import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MESSAGE_MAGIC_V1,
  bodyCrc,
  checkRecord,
  encodeRecord,
} from '../../common/codec/message-record.js';
import { sampleHeader } from '../../common/codec/message-record.fixture.js';
import { FileSegment, writeRecordsMagicLast } from './file-segment.js';
import { nativeAvailable } from './native.js';

/**
 * Two records back to back in a fresh buffer; the first one's properties straddle the 4 KiB
 * page boundary (91 fixed bytes + 3,987 body + 10 topic + 2 length = 4,090). Returns the buffer
 * and the bytes used.
 */
function twoRecords(): { buf: Buffer; used: number } {
  const buf = Buffer.alloc(8192);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const topic = Buffer.from('TopicTest');
  const props = 'KEYS\u0001k1\u0002TAGS\u0001a\u0002';
  let used = 0;
  for (const size of [3987, 2000]) {
    const body = Buffer.alloc(size, 0x61);
    const h = sampleHeader({ bodyCrc: bodyCrc(body), physicalOffset: used });
    used += encodeRecord(view, buf, used, h, body, topic, props, Buffer.byteLength(props));
  }
  return { buf, used };
}

test('file backend: a batch of records goes out with its first magic code written last', () => {
  const { buf, used } = twoRecords();
  const calls: Array<{ from: number; to: number; magicAtCall: number }> = [];
  const fake = ((_fd: number, b: Buffer, offset: number, length: number) => {
    calls.push({ from: offset, to: offset + length, magicAtCall: b.readUInt32BE(4) });
    return length;
  }) as unknown as typeof writeSync;
  writeRecordsMagicLast(0, buf, used, 0, fake);
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[0], { from: 0, to: used, magicAtCall: 0 });
  assert.deepEqual(calls[1], { from: 4, to: 8, magicAtCall: MESSAGE_MAGIC_V1 });
  assert.equal(buf.readUInt32BE(4), MESSAGE_MAGIC_V1, 'the staged record keeps its magic code');
});

test('file backend: a process killed inside the batch write leaves no record recovery accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fs-'));
  const path = join(dir, 'seg');
  const fd = openSync(path, 'w+');
  ftruncateSync(fd, 8192); // pre-allocated, as segments are: zeros after what was written
  try {
    const { buf, used } = twoRecords();
    // The write stops after the first page (a fatal signal between pages), then the process dies.
    let writes = 0;
    const dying = ((f: number, b: Buffer, offset: number, length: number, position: number) => {
      if (writes++ > 0) throw new Error('killed');
      return writeSync(f, b, offset, Math.min(length, 4096), position);
    }) as unknown as typeof writeSync;
    assert.throws(() => writeRecordsMagicLast(fd, buf, used, 0, dying), /killed/);
    const file = readFileSync(path);
    assert.ok(
      file.subarray(4096).every((b) => b === 0),
      'the first page only',
    );
    // Length, body, topic and property length landed; the properties did not. With the magic
    // code in place this record passed every check.
    assert.equal(checkRecord(file, 0, file.length, true), -1, 'the first record is not whole');
    assert.equal(buf.readUInt32BE(4), MESSAGE_MAGIC_V1, 'the staged record keeps its magic code');
    // Written in full, both records check out.
    writeRecordsMagicLast(fd, buf, used, 0);
    const whole = readFileSync(path);
    const first = checkRecord(whole, 0, whole.length, true);
    assert.ok(first > 0);
    assert.ok(checkRecord(whole, first, whole.length - first, true) > 0);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const mapReads of nativeAvailable ? [false, true] : [false]) {
  test(`file backend (${mapReads ? 'mapped' : 'pread'} reads): reads see staged appends; a mapped view is not a copy`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-fileseg-'));
    try {
      const seg = FileSegment.open(join(dir, '00000000000000000000'), 0, 1 << 20, true, mapReads);
      assert.equal(seg.readsMapped, mapReads);
      const { buf, used } = twoRecords();
      const w = seg.writeWindow(used);
      buf.copy(w.bytes, w.pos, 0, used);
      seg.commitWrite(used, used);
      // Still in the staging buffer: the read writes it out first, then serves the file.
      const first = seg.read(0, used);
      assert.deepEqual(Buffer.from(first), buf.subarray(0, used));
      assert.deepEqual(
        readFileSync(join(dir, '00000000000000000000')).subarray(0, used),
        buf.subarray(0, used),
      );
      // A second append lands where the first read's bytes end; a mapped read shares its pages.
      const w2 = seg.writeWindow(4);
      w2.bytes.writeUInt32BE(0xcafebabe, w2.pos);
      seg.commitWrite(4, 4);
      const tail = seg.read(used, 4);
      assert.equal(Buffer.from(tail).readUInt32BE(0), 0xcafebabe);
      const before = seg.read(0, 4);
      seg.zero(0, 4);
      assert.equal(
        Buffer.from(before).readUInt32BE(0) === 0,
        mapReads,
        'a mapped view follows the file',
      );
      seg.close();
      if (mapReads)
        assert.equal(before.length, 0, 'the mapping is gone once the segment is released');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
