/**
 * Instrumentation events as KafkaJS delivers them: `client.on(client.events.X, listener)` returns a function that
 * removes the listener; each event is `{ id, type, timestamp, payload }` with the type in KafkaJS's naming
 * ('consumer.group_join'). A listener that throws or rejects is logged, never propagated.
 */
import { KafkaJSNonRetriableError } from './errors.js';
import type { Logger } from './logger.js';

export const ConsumerEvents = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  FETCH_START: 'consumer.fetch_start',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
} as const;
export type ConsumerEvents = typeof ConsumerEvents;

export const ProducerEvents = {
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
} as const;
export type ProducerEvents = typeof ProducerEvents;

export const AdminEvents = {
  CONNECT: 'admin.connect',
  DISCONNECT: 'admin.disconnect',
  REQUEST: 'admin.network.request',
  REQUEST_TIMEOUT: 'admin.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'admin.network.request_queue_size',
} as const;
export type AdminEvents = typeof AdminEvents;

export interface InstrumentationEvent<T> {
  id: number;
  type: string;
  timestamp: number;
  payload: T;
}

export type RemoveInstrumentationEventListener = () => void;

/** A listener of one event type; its payload's shape depends on the event (see KafkaJS's documentation). */
// biome-ignore lint/suspicious/noExplicitAny: one signature for the listeners of every event's payload.
export type EventListener = (event: any) => unknown;

// Ids count across all clients of the process, as KafkaJS's do.
let nextId = 0;

export class InstrumentationEmitter {
  private readonly listeners = new Map<string, Set<(event: InstrumentationEvent<unknown>) => unknown>>();
  private readonly names: ReadonlySet<string>;

  constructor(
    private readonly events: Readonly<Record<string, string>>,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.names = new Set(Object.values(events));
  }

  on(eventName: string, listener: EventListener): RemoveInstrumentationEventListener {
    if (!this.names.has(eventName)) {
      const keys = Object.keys(this.events)
        .map((k) => `${this.prefix}.events.${k}`)
        .join(', ');
      throw new KafkaJSNonRetriableError(`Event name should be one of ${keys}`);
    }
    let set = this.listeners.get(eventName);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(eventName, set);
    }
    const l = listener as (event: InstrumentationEvent<unknown>) => unknown;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  has(eventName: string): boolean {
    return (this.listeners.get(eventName)?.size ?? 0) > 0;
  }

  emit(eventName: string, payload: unknown = null): void {
    const set = this.listeners.get(eventName);
    if (set === undefined || set.size === 0) return;
    const event: InstrumentationEvent<unknown> = { id: nextId++, type: eventName, timestamp: Date.now(), payload };
    if (nextId >= Number.MAX_SAFE_INTEGER) nextId = 0;
    for (const listener of [...set]) {
      try {
        const r = listener(event);
        if (r instanceof Promise) r.catch((e: unknown) => this.listenerFailed(eventName, e));
      } catch (e) {
        this.listenerFailed(eventName, e);
      }
    }
  }

  private listenerFailed(eventName: string, e: unknown): void {
    this.logger.error(`Failed to execute listener: ${(e as Error)?.message ?? String(e)}`, {
      eventName,
      stack: (e as Error)?.stack,
    });
  }
}
