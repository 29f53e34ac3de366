/**
 * Op records of transactions: one per committed, rolled-back or discarded half message, in
 * `RMQ_SYS_TRANS_OP_HALF_TOPIC`/0 with tag `d` and a body listing half queue offsets separated
 * by `,` (RocketMQ's format). Sluice writes one offset per record; readers accept lists.
 */
import { encodeProperties } from '../../common/codec/properties.js';
import type { MessageStoreApi, PutResult } from '../../store/types.js';
import { TRANS_OP_HALF_TOPIC } from '../perm.js';

/** Tag of op records ("delete"). */
export const OP_TAG = 'd';
/** Property set on op records written when the check-back gave up. */
export const DISCARDED_PROPERTY = 'DISCARDED';

const latin1 = new TextDecoder('latin1');

/** Half queue offsets listed in an op body (invalid parts are skipped). */
export function decodeOpBody(body: Uint8Array): number[] {
  const out: number[] = [];
  for (const part of latin1.decode(body).split(',')) {
    const text = part.trim();
    if (text === '') continue;
    const n = Number(text);
    if (Number.isSafeInteger(n) && n >= 0) out.push(n);
  }
  return out;
}

/** Appends the op record of `halfOffset`; throws when the store refuses it. */
export async function writeOpRecord(
  store: MessageStoreApi,
  halfOffset: number,
  discarded = false,
): Promise<PutResult> {
  const props: Record<string, string> = { TAGS: OP_TAG };
  if (discarded) props[DISCARDED_PROPERTY] = 'true';
  const result = await store.putMessage({
    topic: TRANS_OP_HALF_TOPIC,
    queueId: 0,
    flag: 0,
    body: Buffer.from(String(halfOffset), 'latin1'),
    properties: encodeProperties(props),
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: store.config.storeHost,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  });
  if (result.status !== 'PUT_OK' && result.status !== 'FLUSH_DISK_TIMEOUT') {
    throw new Error(`the op record of half offset ${halfOffset} was not stored (${result.status})`);
  }
  return result;
}
