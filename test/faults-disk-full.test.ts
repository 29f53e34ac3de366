/**
 * Disk full: the broker's data folder lives on a size-limited tmpfs (needs root and `mount`;
 * skipped otherwise). Producers fill it; sends must then fail with a clear error (response code
 * 14 SERVICE_NOT_AVAILABLE, remark naming the disk) while the broker keeps running and serving
 * what it acknowledged; once space is freed the broker accepts messages again by itself.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeRecords } from '../src/common/codec/decoded-message.js';
import { encodeProperties } from '../src/common/codec/properties.js';
import { RemotingClient } from '../src/net/remoting-client.js';
import {
  encodePullMessageRequestHeader,
  PullSysFlag,
} from '../src/protocol/headers/pull-message.js';
import { encodeSendMessageRequestHeaderV2 } from '../src/protocol/headers/send-message.js';
import { createRequest, type RemotingCommand } from '../src/protocol/remoting-command.js';
import { RequestCode } from '../src/protocol/request-code.js';
import { ResponseCode } from '../src/protocol/response-code.js';
import { startSluice } from './support/sluice-process.js';

const TOPIC = 'DISK_FULL';
const TMPFS_BYTES = 28 * 1024 * 1024;
const SEGMENT_BYTES = 4 * 1024 * 1024;

function tryMount(dir: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', dir], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

function send(
  client: RemotingClient,
  addr: string,
  id: string,
  body: Buffer,
): Promise<RemotingCommand> {
  const ext = encodeSendMessageRequestHeaderV2({
    producerGroup: 'PG',
    topic: TOPIC,
    defaultTopic: 'TBW102',
    defaultTopicQueueNums: 1,
    queueId: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    flag: 0,
    properties: encodeProperties({ KEYS: id }),
  });
  return client.invoke(
    addr,
    createRequest(RequestCode.SEND_MESSAGE_V2, { extFields: ext, body }),
    5_000,
  );
}

async function readAll(client: RemotingClient, addr: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let offset = 0;
  for (;;) {
    const r = await client.invoke(
      addr,
      createRequest(RequestCode.PULL_MESSAGE, {
        extFields: encodePullMessageRequestHeader({
          consumerGroup: 'VERIFY',
          topic: TOPIC,
          queueId: 0,
          queueOffset: offset,
          maxMsgNums: 32,
          sysFlag: PullSysFlag.SUBSCRIPTION,
          commitOffset: 0,
          suspendTimeoutMillis: 0,
          subscription: '*',
          subVersion: 0,
        }),
      }),
      5_000,
    );
    if (r.code !== ResponseCode.SUCCESS || !r.body) return out;
    for (const m of decodeRecords(r.body)) out.set(m.properties.get('KEYS')!, Buffer.from(m.body));
    offset = Number(r.extFields.nextBeginOffset);
  }
}

test('disk full: sends fail with code 14, nothing acknowledged is lost, recovery is automatic', async (t) => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'sluice-diskfull-'));
  if (!tryMount(mountPoint)) {
    rmSync(mountPoint, { recursive: true, force: true });
    t.skip('cannot mount a size-limited tmpfs here (needs root on Linux)');
    return;
  }
  const dataDir = join(mountPoint, 'data');
  mkdirSync(dataDir);
  // Ballast that is deleted later to give the space back.
  const ballast = join(mountPoint, 'ballast');
  writeFileSync(ballast, Buffer.alloc(6 * 1024 * 1024, 1));
  const broker = await startSluice({
    dataDir,
    brokerConf: {
      mappedFileSizeCommitLog: SEGMENT_BYTES,
      mappedFileSizeConsumeQueueEntries: 2_000,
      flushDiskType: 'SYNC_FLUSH',
      messageIndexEnable: false,
      fileReservedTime: 1_000,
    },
  });
  const client = new RemotingClient();
  const acked = new Map<string, Buffer>();
  try {
    let failure: RemotingCommand | undefined;
    const deadline = Date.now() + 60_000;
    for (let i = 0; failure === undefined && Date.now() < deadline; i++) {
      const id = `m${i}`;
      const body = Buffer.alloc(16 * 1024, i % 251);
      body.write(id);
      const r = await send(client, broker.brokerAddr, id, body);
      if (r.code === ResponseCode.SUCCESS) acked.set(id, body);
      else failure = r;
    }
    assert.ok(failure, `the disk never filled up (${acked.size} messages acked)`);
    t.diagnostic(`after ${acked.size} acked messages: code ${failure.code}, "${failure.remark}"`);
    assert.equal(failure.code, ResponseCode.SERVICE_NOT_AVAILABLE, failure.remark);
    // Finding F3 (fixed): a real ENOSPC while pre-allocating a segment is reported as a full disk.
    assert.match(failure.remark ?? '', /disk is full/i);
    if (process.env.SLUICE_FAULTS_DEBUG) console.error(broker.output());
    assert.equal(broker.child.exitCode, null, 'the broker died');

    const stored = await readAll(client, broker.brokerAddr);
    for (const [id, body] of acked)
      assert.ok(stored.get(id)?.equals(body), `${id} lost or changed`);

    rmSync(ballast);
    const start = Date.now();
    let accepted = false;
    while (!accepted && Date.now() - start < 30_000) {
      const body = Buffer.from(`after-${Date.now()}`);
      const r = await send(client, broker.brokerAddr, `after-${acked.size}`, body);
      if (r.code === ResponseCode.SUCCESS) {
        accepted = true;
        acked.set(`after-${acked.size}`, body);
      } else await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(accepted, 'the broker did not accept messages again after space was freed');
    t.diagnostic(`accepting again ${Date.now() - start} ms after space was freed`);
    const after = await readAll(client, broker.brokerAddr);
    for (const [id, body] of acked)
      assert.ok(after.get(id)?.equals(body), `${id} lost after recovery`);
  } finally {
    client.close();
    await broker.kill();
    try {
      execFileSync('umount', [mountPoint], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    }
    rmSync(mountPoint, { recursive: true, force: true });
  }
});
