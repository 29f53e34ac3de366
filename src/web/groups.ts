/**
 * Consumer-group listing and deletion over the SDK. A group is known cluster-wide by its
 * `%RETRY%<group>` topic (brokers create it on the group's first heartbeat); in the broker
 * process the online groups and the groups with committed offsets are added.
 */
import type { BrokerController } from '../broker/broker-controller.js';
import type { Admin } from '../client/admin.js';
import { MQClientError } from '../client/errors.js';
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import { DLQ_TOPIC_PREFIX, RETRY_TOPIC_PREFIX } from '../client/received-message.js';
import { READER_GROUP } from './topic-reader.js';

/** Every consumer group name, sorted. */
export async function listGroups(admin: Admin, broker?: BrokerController): Promise<string[]> {
  const groups = new Set<string>();
  for (const topic of await admin.listTopics()) {
    if (topic.startsWith(RETRY_TOPIC_PREFIX)) groups.add(topic.slice(RETRY_TOPIC_PREFIX.length));
  }
  if (broker) {
    for (const g of broker.consumerManager.groupNames()) groups.add(g);
    for (const key of Object.keys(broker.consumerOffsetManager.encode().offsetTable)) {
      const at = key.indexOf('@');
      if (at > 0) groups.add(key.slice(at + 1));
    }
  }
  groups.delete(READER_GROUP);
  return [...groups].sort();
}

/** What {@link deleteGroup} did. */
export interface GroupDeletion {
  group: string;
  /** Retry / dead-letter topics removed. */
  deletedTopics: string[];
  /** Brokers that dropped the subscription config and offsets (DELETE_SUBSCRIPTIONGROUP). */
  brokersCleaned: string[];
  /** Brokers that do not support DELETE_SUBSCRIPTIONGROUP (offsets stay there). */
  brokersUnsupported: string[];
}

/**
 * Deletes a consumer group: its `%RETRY%` and `%DLQ%` topics, and its subscription config and
 * offsets on every master (DELETE_SUBSCRIPTIONGROUP with cleanOffset) where the broker supports
 * it.
 */
export async function deleteGroup(admin: Admin, group: string): Promise<GroupDeletion> {
  const result: GroupDeletion = {
    group,
    deletedTopics: [],
    brokersCleaned: [],
    brokersUnsupported: [],
  };
  const topics = new Set(await admin.listTopics());
  for (const topic of [RETRY_TOPIC_PREFIX + group, DLQ_TOPIC_PREFIX + group]) {
    if (!topics.has(topic)) continue;
    await admin.deleteTopic(topic);
    result.deletedTopics.push(topic);
  }
  const info = await admin.clusterInfo();
  for (const b of Object.values(info.brokerAddrTable)) {
    const addr = b.brokerAddrs['0'];
    if (!addr) continue;
    const r = await admin.client.api.call(
      addr,
      RequestCode.DELETE_SUBSCRIPTIONGROUP,
      { groupName: group, cleanOffset: 'true' },
      admin.client.requestTimeoutMs,
      `delete group '${group}'`,
    );
    if (r.code === ResponseCode.SUCCESS) result.brokersCleaned.push(addr);
    else if (r.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED)
      result.brokersUnsupported.push(addr);
    else {
      throw new MQClientError(
        'BROKER_ERROR',
        `broker ${addr} refused to delete group '${group}': ${r.remark ?? `code ${r.code}`}`,
      );
    }
  }
  if (result.deletedTopics.length === 0 && result.brokersCleaned.length === 0) {
    throw new MQClientError('NOT_FOUND', `consumer group '${group}' is unknown to the cluster`);
  }
  return result;
}
