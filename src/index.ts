/**
 * Sluice's package root: the client SDK and the shared error type. Servers are started with the
 * `sluice` command (see `src/cli`).
 */
export { SluiceError } from './common/errors.js';
export type { SluiceErrorCode } from './common/errors.js';
export { MQClientError } from './client/errors.js';
export { Producer } from './client/producer.js';
export type {
  ProducerOptions,
  SendOptions,
  SendResult,
  BatchSendResult,
} from './client/producer.js';
export type { SendStatus } from './client/client-api.js';
export type { TopicQueueStats } from './client/admin-api.js';
export { PushConsumer } from './client/push-consumer.js';
export type { PushConsumerOptions } from './client/push-consumer.js';
export { SimpleConsumer } from './client/simple-consumer.js';
export type { SimpleConsumerOptions } from './client/simple-consumer.js';
export type { ConsumerOptions, ConsumeFrom } from './client/consumer-options.js';
export type { MessageHandler } from './client/consume-service.js';
export { TransactionProducer } from './client/transaction-producer.js';
export type {
  TransactionProducerOptions,
  TransactionSendResult,
  TransactionState,
  LocalTransactionExecutor,
  TransactionChecker,
} from './client/transaction-producer.js';
export { Admin } from './client/admin.js';
export type {
  AdminOptions,
  CreateTopicOptions,
  GroupProgress,
  QueueProgress,
  QueryOptions,
} from './client/admin.js';
export type { ClientOptions } from './client/client-instance.js';
export { MessageProperty } from './client/message.js';
export type { Message, ReceivedMessage } from './client/message.js';
export type { MessageQueue } from './client/message-queue.js';
export type { SubscriptionExpression, SqlExpression } from './client/subscription.js';
export { allocateAveragely, allocateByCircle } from './client/allocate.js';
export type { AllocateStrategy } from './client/allocate.js';
