/**
 * Topic administration as the controller does it: validates a request (names, counts, replication factor against
 * the registered brokers, manual assignments, configs), places replicas, and writes the result to the metadata
 * store. Every refusal is a KafkaError with Kafka's code and a message worded like Kafka's, so that admin clients
 * show users the text they know. CreateTopics, CreatePartitions, DeleteTopics, the config APIs and Metadata's
 * auto-creation all come through here.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { assignReplicas, type RackAwareMode } from './replica-assignment.js';
import { collisionKey, isInternalTopic, validateTopicName } from './topic-name.js';
import type { MetadataStore, TopicInfo } from './types.js';

export interface TopicDefaults {
  /** `num.partitions` */
  numPartitions: number;
  /** `default.replication.factor` */
  defaultReplicationFactor: number;
  /** `delete.topic.enable` */
  deleteTopicEnable: boolean;
}

export interface CreateTopicRequest {
  name: string;
  /** -1: num.partitions (ignored when assignments are given). */
  numPartitions: number;
  /** -1: default.replication.factor (ignored when assignments are given). */
  replicationFactor: number;
  /** Manual replica lists by partition, or empty. */
  assignments: readonly { partitionIndex: number; brokerIds: readonly number[] }[];
  configs: Readonly<Record<string, string | null>>;
  /**
   * How brokers' racks are used when replicas are placed here: `enforced` (the default, CreateTopics) refuses a
   * cluster where only some brokers have a rack; automatic and internal topic creation pass `safe` (ignore them).
   */
  rackAwareMode?: RackAwareMode;
}

export interface CreatedTopic {
  topic: TopicInfo;
  numPartitions: number;
  replicationFactor: number;
}

/** Validates topic config overrides; returns a Kafka-worded message for INVALID_CONFIG, or null. */
export type ConfigValidator = (configs: Readonly<Record<string, string | null>>) => string | null;

const INT32_MAX = 0x7fffffff;

export class TopicAdmin {
  constructor(
    private readonly store: MetadataStore,
    private readonly defaults: TopicDefaults,
    private readonly validateConfigs: ConfigValidator,
  ) {}

  /** Checks a creation; returns what would be created. Throws KafkaError. */
  plan(request: CreateTopicRequest): { assignments: number[][]; configs: Record<string, string> } {
    const { name } = request;
    validateTopicName(name);
    if (this.store.topic(name) !== undefined) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    }
    const key = collisionKey(name);
    for (const t of this.store.topics()) {
      if (collisionKey(t.name) === key) {
        throw new KafkaError(
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `Topic '${name}' collides with existing topic: ${t.name}`,
        );
      }
    }
    const live = this.store.brokers();
    const brokers = live.map((b) => b.id);
    let assignments: number[][];
    if (request.assignments.length > 0) {
      if (request.numPartitions !== -1 || request.replicationFactor !== -1) {
        throw new KafkaError(
          ErrorCode.INVALID_REQUEST,
          'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
        );
      }
      assignments = this.manualAssignments(request.assignments, 0, brokers);
    } else {
      const partitions = request.numPartitions === -1 ? this.defaults.numPartitions : request.numPartitions;
      const rf = request.replicationFactor === -1 ? this.defaults.defaultReplicationFactor : request.replicationFactor;
      if (partitions <= 0)
        throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
      if (rf <= 0)
        throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
      if (rf > brokers.length) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Replication factor: ${rf} larger than available brokers: ${brokers.length}.`,
        );
      }
      assignments = assignReplicas(live, partitions, rf, {
        startIndex: Math.floor(Math.random() * brokers.length),
        rackAwareMode: request.rackAwareMode ?? 'enforced',
      });
    }
    const problem = this.validateConfigs(request.configs);
    if (problem !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, problem);
    const configs: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.configs)) if (v !== null) configs[k] = v;
    return { assignments, configs };
  }

  async createTopic(request: CreateTopicRequest, validateOnly = false): Promise<CreatedTopic | null> {
    const { assignments, configs } = this.plan(request);
    if (validateOnly) return null;
    const topic = await this.store.createTopic({
      name: request.name,
      assignments,
      configs,
      internal: isInternalTopic(request.name),
    });
    return { topic, numPartitions: assignments.length, replicationFactor: assignments[0]?.length ?? 0 };
  }

  async deleteTopic(name: string): Promise<TopicInfo> {
    if (!this.defaults.deleteTopicEnable) {
      throw new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
    }
    const topic = this.store.topic(name);
    if (topic === undefined) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    await this.store.deleteTopic(name);
    return topic;
  }

  /** CreatePartitions: grows `name` to `count` partitions (assignments for the new ones, or placed here). */
  async createPartitions(
    name: string,
    count: number,
    assignments: readonly (readonly number[])[] | null,
    validateOnly = false,
  ): Promise<void> {
    const topic = this.store.topic(name);
    if (topic === undefined) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    const current = topic.partitions.length;
    if (count < current) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `Topic currently has ${current} partitions, which is higher than the requested ${count}.`,
      );
    }
    if (count === current) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
    }
    if (count > INT32_MAX) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Invalid partition count ${count}.`);
    const live = this.store.brokers();
    const brokers = live.map((b) => b.id);
    const added = count - current;
    let newAssignments: number[][];
    if (assignments !== null) {
      if (assignments.length !== added) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Increasing the number of partitions by ${added} but ${assignments.length} assignments provided.`,
        );
      }
      newAssignments = this.manualAssignments(
        assignments.map((brokerIds, i) => ({ partitionIndex: current + i, brokerIds })),
        current,
        brokers,
      );
    } else {
      const rf = topic.partitions[0]?.replicas.length ?? 1;
      if (rf > brokers.length) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Replication factor: ${rf} larger than available brokers: ${brokers.length}.`,
        );
      }
      // Continues the rotation partition 0 started, so leaders stay spread as if the topic had been created larger.
      newAssignments = assignReplicas(live, added, rf, {
        firstPartition: current,
        ...(topic.partitions[0]?.replicas[0] === undefined ? {} : { continueAfter: topic.partitions[0].replicas[0] }),
      });
    }
    if (validateOnly) return;
    await this.store.addPartitions(name, newAssignments);
  }

  /** Replaces (AlterConfigs) the topic's overrides after validating them. */
  async setConfigs(
    name: string,
    configs: Readonly<Record<string, string | null>>,
    validateOnly = false,
  ): Promise<void> {
    const topic = this.store.topic(name);
    if (topic === undefined) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    const problem = this.validateConfigs(configs);
    if (problem !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, problem);
    if (validateOnly) return;
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries(configs)) if (v !== null) next[k] = v;
    await this.store.setTopicConfigs(name, next);
  }

  private manualAssignments(
    given: readonly { partitionIndex: number; brokerIds: readonly number[] }[],
    first: number,
    brokers: readonly number[],
  ): number[][] {
    const sorted = [...given].sort((a, b) => a.partitionIndex - b.partitionIndex);
    const rf = sorted[0]?.brokerIds.length ?? 0;
    const live = new Set(brokers);
    return sorted.map((a, i) => {
      if (a.partitionIndex !== first + i) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          'Partitions should be numbered consecutively from the current partition count.',
        );
      }
      if (a.brokerIds.length === 0) {
        throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Partition ${a.partitionIndex} has no replicas.`);
      }
      if (a.brokerIds.length !== rf) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          'All partitions should have the same number of replicas.',
        );
      }
      if (new Set(a.brokerIds).size !== a.brokerIds.length) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Duplicate brokers not allowed in replica assignment: ${a.brokerIds.join(', ')} for partition id ${a.partitionIndex}.`,
        );
      }
      for (const id of a.brokerIds) {
        if (!live.has(id)) {
          throw new KafkaError(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Unknown broker ${id} in replica assignment for partition ${a.partitionIndex}.`,
          );
        }
      }
      return [...a.brokerIds];
    });
  }
}
