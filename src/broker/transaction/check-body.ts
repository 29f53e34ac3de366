/**
 * The body of CHECK_TRANSACTION_STATE (39): the half message as one message record, with the
 * producer's topic and queue put back (REAL_TOPIC / REAL_QID) while the queue offset and
 * commit-log offset stay the half message's, which is what clients echo in END_TRANSACTION. The
 * store host is the broker's current address, where the answer must go (it differs from the
 * stored one when the broker came back on another address).
 */
import {
  bodyCrc,
  encodeRecord,
  recordSizeBytes,
  sysFlagWithHosts,
} from '../../common/codec/message-record.js';
import { type DecodedMessage } from '../../common/codec/decoded-message.js';
import { encodeProperties } from '../../common/codec/properties.js';
import { SpecialProperty, parseHostAddress } from '../schedule/special-messages.js';

/** Encodes the check-back body of a decoded half message. */
export function encodeCheckBody(half: DecodedMessage, brokerAddress: string): Buffer {
  const topic = Buffer.from(half.properties.get(SpecialProperty.REAL_TOPIC) ?? half.topic, 'utf8');
  const queueId = Number(half.properties.get(SpecialProperty.REAL_QID) ?? half.queueId);
  const props = Buffer.from(encodeProperties(half.properties), 'utf8');
  const born = parseHostAddress(half.bornHost);
  const stored = parseHostAddress(brokerAddress);
  const sysFlag = sysFlagWithHosts(half.sysFlag, born.address.length, stored.address.length);
  const size = recordSizeBytes(half.body.length, topic.length, props.length, sysFlag);
  const out = Buffer.alloc(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  encodeRecord(
    view,
    out,
    0,
    {
      bodyCrc: bodyCrc(half.body),
      queueId: Number.isInteger(queueId) ? queueId : half.queueId,
      flag: half.flag,
      queueOffset: half.queueOffset,
      physicalOffset: half.physicalOffset,
      sysFlag,
      bornTimestamp: half.bornTimestamp,
      bornHostAddress: born.address,
      bornHostPort: born.port,
      storeTimestamp: half.storeTimestamp,
      storeHostAddress: stored.address,
      storeHostPort: stored.port,
      reconsumeTimes: half.reconsumeTimes,
      preparedTransactionOffset: half.preparedTransactionOffset,
    },
    half.body,
    topic,
    props,
    props.length,
  );
  return out;
}
