/**
 * Test support for record codec users (not a test file itself): a record header with every
 * field set to a recognisable value, as the codec tests and the segment tests encode records.
 */
import { sysFlagWithHosts, type RecordHeader } from './message-record.js';

/** A full IPv4 record header; `over` replaces fields (the host bits follow the addresses). */
export function sampleHeader(over: Partial<RecordHeader> = {}): RecordHeader {
  const h: RecordHeader = {
    bodyCrc: 0,
    queueId: 3,
    flag: -7,
    queueOffset: 123456789012,
    physicalOffset: 2 ** 40 + 5,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_123,
    bornHostAddress: new Uint8Array([10, 0, 0, 1]),
    bornHostPort: 50123,
    storeTimestamp: 1_700_000_000_456,
    storeHostAddress: new Uint8Array([192, 168, 1, 2]),
    storeHostPort: 10911,
    reconsumeTimes: 2,
    preparedTransactionOffset: 0,
    ...over,
  };
  h.sysFlag = sysFlagWithHosts(h.sysFlag, h.bornHostAddress.length, h.storeHostAddress.length);
  return h;
}
