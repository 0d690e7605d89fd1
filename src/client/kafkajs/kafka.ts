/**
 * `new Kafka({ clientId, brokers, ... })`: the KafkaJS entry point, handing out producers, consumers and admins
 * that share its broker list, timeouts, retry policy and logger.
 */
import { Admin } from './admin.js';
import { type ClientContext, clientContext } from './client.js';
import { Consumer } from './consumer.js';
import { KafkaJSNotImplemented } from './errors.js';
import { createLogger, type Logger, logLevel } from './logger.js';
import { Producer } from './producer.js';
import type { AdminConfig, ConsumerConfig, KafkaConfig, ProducerConfig } from './types.js';

export class Kafka {
  private readonly context: ClientContext;
  private readonly rootLogger: Logger;

  constructor(config: KafkaConfig) {
    if (config.ssl) throw new KafkaJSNotImplemented('TLS (ssl) is not supported by samsa/kafkajs');
    if (config.sasl !== undefined) throw new KafkaJSNotImplemented('SASL is not supported by samsa/kafkajs');
    if (config.socketFactory !== undefined) {
      throw new KafkaJSNotImplemented('socketFactory is not supported by samsa/kafkajs');
    }
    this.rootLogger = createLogger(config.logLevel ?? logLevel.INFO, config.logCreator);
    this.context = clientContext({
      brokers: config.brokers,
      clientId: config.clientId ?? 'kafkajs',
      connectionTimeout: config.connectionTimeout ?? 1000,
      requestTimeout: config.requestTimeout ?? 30_000,
      retry: config.retry ?? {},
      logger: this.rootLogger,
    });
  }

  producer(config?: ProducerConfig): Producer {
    return new Producer(this.context, config);
  }

  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(this.context, config);
  }

  admin(config?: AdminConfig): Admin {
    return new Admin(this.context, config);
  }

  logger(): Logger {
    return this.rootLogger;
  }
}
