/**
 * What the KafkaJS-compatible clients share, taken from the `Kafka` config: how to reach the brokers, timeouts,
 * the retry policy and the logger; and KafkaJS's retry timing (exponential, randomized waits).
 */
import { KafkaJSNonRetriableError } from './errors.js';
import type { Logger } from './logger.js';
import type { BrokersFunction, RetryOptions } from './types.js';

export interface ClientContext {
  readonly clientId: string;
  /** The bootstrap brokers; a brokers function is called on each connect, as in KafkaJS. */
  brokers(): Promise<string[]>;
  readonly connectionTimeout: number;
  readonly requestTimeout: number;
  readonly retry: RetryOptions;
  readonly logger: Logger;
}

export function clientContext(options: {
  brokers: string[] | BrokersFunction;
  clientId: string;
  connectionTimeout: number;
  requestTimeout: number;
  retry: RetryOptions;
  logger: Logger;
}): ClientContext {
  const { brokers } = options;
  return {
    clientId: options.clientId,
    connectionTimeout: options.connectionTimeout,
    requestTimeout: options.requestTimeout,
    retry: options.retry,
    logger: options.logger,
    async brokers() {
      const list = typeof brokers === 'function' ? await brokers() : brokers;
      if (!Array.isArray(list) || list.length === 0) {
        throw new KafkaJSNonRetriableError('Failed to connect: brokers parameter should not be an empty array');
      }
      return list;
    },
  };
}

export interface RetryPolicy {
  retries: number;
  initialRetryTime: number;
  maxRetryTime: number;
  factor: number;
  multiplier: number;
}

export function retryPolicy(retry: RetryOptions | undefined, retriesDefault = 5): RetryPolicy {
  return {
    retries: retry?.retries ?? retriesDefault,
    initialRetryTime: retry?.initialRetryTime ?? 300,
    maxRetryTime: retry?.maxRetryTime ?? 30_000,
    factor: retry?.factor ?? 0.2,
    multiplier: retry?.multiplier ?? 2,
  };
}

/** The wait before retry number `attempt` (0-based): initial * multiplier^attempt, randomized by +-factor, capped. */
export function retryTime(policy: RetryPolicy, attempt: number): number {
  const base = Math.min(policy.initialRetryTime * policy.multiplier ** attempt, policy.maxRetryTime);
  const spread = base * policy.factor;
  return Math.min(Math.ceil(base - spread + Math.random() * 2 * spread), policy.maxRetryTime);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The map's value for `key`, created by `make` when missing. */
export function entryOf<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
