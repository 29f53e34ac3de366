/**
 * What every request processor shares: the config, the store, the managers and the transport
 * used to answer. `C` is the network layer's connection type.
 */
import type { RemotingCommand } from '../protocol/remoting-command.js';
import type { OffsetMessageIdEncoder } from '../protocol/message-id.js';
import type { HostAddress, MessageStoreApi } from '../store/types.js';
import type { BrokerConfig } from './broker-config.js';
import type { ConsumerManager } from './consumer-manager.js';
import type { ConsumerOffsetManager } from './consumer-offset-manager.js';
import type { ProducerManager } from './producer-manager.js';
import type { RebalanceLockManager } from './rebalance-lock-manager.js';
import type { SubscriptionGroupManager } from './subscription-group-manager.js';
import type { TopicConfigManager } from './topic-config-manager.js';

/** How processors reach the network. */
export interface BrokerTransport<C> {
  /**
   * Writes a command; `bodySlices` (if any) are written after the header without copying, and
   * `onWritten` runs once the bytes left (or the write failed) so that they can be released.
   */
  send(
    conn: C,
    command: RemotingCommand,
    bodySlices?: readonly Uint8Array[],
    onWritten?: () => void,
  ): void;
  /** The peer's `ip:port`. */
  remoteAddress(conn: C): string;
  /** Whether the connection is still open. */
  isOpen(conn: C): boolean;
}

/**
 * A request handler: returns the response, or `null` when it answers by itself (zero-copy pull
 * bodies, held pulls) or the request needs no answer.
 */
export type RequestHandler<C> = (
  conn: C,
  request: RemotingCommand,
) => RemotingCommand | null | Promise<RemotingCommand | null>;

/** Shared broker state handed to processors. */
export interface BrokerContext<C> {
  readonly config: BrokerConfig;
  readonly store: MessageStoreApi;
  readonly topicConfigManager: TopicConfigManager;
  readonly subscriptionGroupManager: SubscriptionGroupManager;
  readonly consumerOffsetManager: ConsumerOffsetManager;
  readonly consumerManager: ConsumerManager<C>;
  readonly producerManager: ProducerManager<C>;
  readonly lockManager: RebalanceLockManager;
  readonly transport: BrokerTransport<C>;
  /** Encodes offset message ids for this broker's store host. */
  readonly msgIdEncoder: OffsetMessageIdEncoder;
  /** The address clients use (`brokerIP1:port`). */
  readonly brokerAddress: () => string;
  /** Registers with every name server now; resolves when all answered (never rejects). */
  readonly registerBrokerAll: () => Promise<void>;
  /**
   * The pending save of topics.json when a topic was created or changed in this turn, else
   * undefined: a send that auto-created its topic waits for it before it is acknowledged.
   */
  readonly topicsDurable: () => Promise<void> | undefined;
  /** The peer of a connection as a record host (cached per connection). */
  readonly bornHostOf: (conn: C) => HostAddress;
}
