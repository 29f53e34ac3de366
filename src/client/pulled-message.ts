/**
 * A {@link ReceivedMessage} decoded from a message record: the fields every consumer reads
 * (topic, body, queue, offsets, times) are decoded at once; the properties, the ids and the
 * hosts on first access, from the record's bytes (which the body, a view of the same answer,
 * keeps alive anyway). A consumer that only reads bodies then builds no strings per message.
 */
import { inspect } from 'node:util';
import {
  POS_BORNHOST,
  SYSFLAG_BORNHOST_V6,
  SYSFLAG_STOREHOST_V6,
  storeHostPosition,
  viewOf,
  type RecordMeta,
} from '../common/codec/message-record.js';
import { decodeText } from '../common/codec/decoded-message.js';
import { hostString, offsetMsgIdAt } from '../common/codec/record-ids.js';
import { decodePropertiesRecord } from '../common/codec/properties.js';
import { MessageProperty, type ReceivedMessage } from './message.js';
import type { MessageQueue } from './message-queue.js';

const EMPTY_KEYS: readonly string[] = Object.freeze([]);

/** A received message whose less used fields are decoded on first access. */
export class PulledMessage implements ReceivedMessage {
  readonly topic: string;
  readonly body: Buffer;
  readonly queue: MessageQueue;
  readonly queueOffset: number;
  readonly commitLogOffset: number;
  readonly bornTimestampMs: number;
  readonly storeTimestampMs: number;
  readonly reconsumeTimes: number;
  readonly flag: number;
  readonly storeSizeBytes: number;
  /** The bytes holding the record, and where in them the record and its properties lie. */
  private readonly bytes: Uint8Array;
  private readonly pos: number;
  private readonly sysFlag: number;
  private readonly propertiesStart: number;
  private readonly propertiesLength: number;
  private props: Readonly<Record<string, string>> | undefined;
  private keyList: readonly string[] | undefined;
  private offsetId: string | undefined;

  /**
   * @param m the record's header (read from `bytes` at `pos`; copied, not kept).
   * @param topic the topic to report (the original one for retried messages).
   * @param body the body (inflated when the record's was compressed).
   * @param properties the properties when the caller already decoded them.
   */
  constructor(
    bytes: Uint8Array,
    pos: number,
    m: RecordMeta,
    topic: string,
    body: Buffer,
    queue: MessageQueue,
    properties: Readonly<Record<string, string>> | undefined,
  ) {
    this.topic = topic;
    this.body = body;
    this.queue = queue;
    this.queueOffset = m.queueOffset;
    this.commitLogOffset = m.physicalOffset;
    this.bornTimestampMs = m.bornTimestamp;
    this.storeTimestampMs = m.storeTimestamp;
    this.reconsumeTimes = m.reconsumeTimes;
    this.flag = m.flag;
    this.storeSizeBytes = m.totalSize;
    this.bytes = bytes;
    this.pos = pos;
    this.sysFlag = m.sysFlag;
    this.propertiesStart = m.propertiesStart;
    this.propertiesLength = m.propertiesLength;
    this.props = properties;
    this.keyList = undefined;
    this.offsetId = undefined;
  }

  get properties(): Readonly<Record<string, string>> {
    if (this.props === undefined) {
      const start = this.propertiesStart;
      this.props = decodePropertiesRecord(
        decodeText(this.bytes, start, start + this.propertiesLength),
      );
    }
    return this.props;
  }

  get tags(): string | undefined {
    return this.properties[MessageProperty.TAGS];
  }

  get keys(): readonly string[] {
    if (this.keyList === undefined) {
      const text = this.properties[MessageProperty.KEYS];
      this.keyList = text ? text.split(' ').filter((k) => k.length > 0) : EMPTY_KEYS;
    }
    return this.keyList;
  }

  get msgId(): string {
    return this.properties[MessageProperty.UNIQ_KEY] ?? this.offsetMsgId;
  }

  get offsetMsgId(): string {
    if (this.offsetId === undefined) {
      const storeV6 = (this.sysFlag & SYSFLAG_STOREHOST_V6) !== 0;
      const at = storeHostPosition(this.pos, this.sysFlag);
      this.offsetId = offsetMsgIdAt(
        this.bytes,
        viewOf(this.bytes),
        at,
        storeV6,
        this.commitLogOffset,
      );
    }
    return this.offsetId;
  }

  get bornHost(): string {
    const v6 = (this.sysFlag & SYSFLAG_BORNHOST_V6) !== 0;
    return hostString(this.bytes, viewOf(this.bytes), this.pos + POS_BORNHOST, v6);
  }

  get storeHost(): string {
    const v6 = (this.sysFlag & SYSFLAG_STOREHOST_V6) !== 0;
    const at = storeHostPosition(this.pos, this.sysFlag);
    return hostString(this.bytes, viewOf(this.bytes), at, v6);
  }

  /** Every field as a plain object (what `JSON.stringify` and `console.log` show). */
  toJSON(): ReceivedMessage {
    return {
      topic: this.topic,
      body: this.body,
      tags: this.tags,
      keys: this.keys,
      properties: this.properties,
      msgId: this.msgId,
      offsetMsgId: this.offsetMsgId,
      queue: this.queue,
      queueOffset: this.queueOffset,
      commitLogOffset: this.commitLogOffset,
      bornTimestampMs: this.bornTimestampMs,
      storeTimestampMs: this.storeTimestampMs,
      bornHost: this.bornHost,
      storeHost: this.storeHost,
      reconsumeTimes: this.reconsumeTimes,
      flag: this.flag,
      storeSizeBytes: this.storeSizeBytes,
    };
  }

  [inspect.custom](depth: number, options: object): string {
    return `PulledMessage ${inspect(this.toJSON(), { ...options, depth })}`;
  }
}
