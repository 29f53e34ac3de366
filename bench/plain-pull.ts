/**
 * The PULL_MESSAGE request header both benchmark readers send: a plain read of one queue at a
 * known offset (every tag, no long poll, no offset commit).
 */
import {
  PullSysFlag,
  type PullMessageRequestHeader,
} from '../src/protocol/headers/pull-message.js';

/** Header of a pull of up to `maxMsgNums` messages of `topic`:`queueId` from `queueOffset`. */
export function plainPullHeader(
  consumerGroup: string,
  topic: string,
  queueId: number,
  queueOffset: number,
  maxMsgNums: number,
): PullMessageRequestHeader {
  return {
    consumerGroup,
    topic,
    queueId,
    queueOffset,
    maxMsgNums,
    sysFlag: PullSysFlag.SUBSCRIPTION,
    commitOffset: 0,
    suspendTimeoutMillis: 0,
    subscription: '*',
    subVersion: 0,
    expressionType: 'TAG',
  };
}
