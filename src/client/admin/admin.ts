/**
 * The Admin client: topics, configs, consumer groups and their offsets, partition offsets and records, and the
 * cluster, over Kafka's admin APIs, each request sent where Kafka wants it (controller, partition leader, group
 * coordinator; see routing.ts) with typed results.
 *
 *     await using admin = new Admin({ bootstrapServers: ['localhost:9092'] });
 *     await admin.createTopics([{ name: 'orders', numPartitions: 6, replicationFactor: 1 }]);
 *     const lag = await admin.describeGroupLag('billing');
 *
 * Failures: a broker's error code is a `KafkaError` (Kafka's code, name and message). Calls on several items
 * (topics, groups, partitions, config resources) resolve when all succeeded and otherwise reject with a
 * `KafkaAdminError` listing each failing item with its own error and carrying the results of the others (see
 * errors.ts); calls about one group throw that group's KafkaError. Unreachable brokers and timeouts are the
 * client's errors (`KafkaConnectionError`, `KafkaTimeoutError`).
 *
 * Concurrency: any number of calls may run at once; they share the cluster's connections and metadata.
 */

import { Cluster } from '../network/cluster.js';
import { alterConfigs, describeConfigs } from './configs.js';
import {
  deleteGroupOffsets,
  deleteGroups,
  describeGroupLag,
  describeGroups,
  listGroupOffsets,
  listGroups,
  resetGroupOffsets,
} from './groups.js';
import { deleteRecords, fetchTopicOffsets, listOffsets } from './offsets.js';
import { alterPartitionReassignments, listPartitionReassignments } from './reassignments.js';
import { type AdminContext, Router } from './routing.js';
import { createPartitions, createTopics, deleteTopics, describeCluster, describeTopics, listTopics } from './topics.js';
import type {
  AdminOptions,
  AlterConfigsResource,
  ClusterDescription,
  CommittedOffset,
  ConfigResource,
  ConfigResourceType,
  CreatedTopic,
  CreateTopicsOptions,
  DeletedRecords,
  DeleteRecordsItem,
  DescribeConfigsOptions,
  GroupDescription,
  GroupLag,
  GroupListing,
  ListedOffset,
  ListGroupsOptions,
  ListOffsetsOptions,
  ListOffsetsRequestItem,
  NewPartitions,
  NewTopic,
  PartitionReassignment,
  PartitionReassignmentRequest,
  ResetGroupOffsetsOptions,
  ResetOffset,
  ResourceConfigs,
  TopicDescription,
  TopicOffsets,
  TopicPartitionRef,
} from './types.js';

export class Admin {
  private readonly cluster: Cluster;
  private readonly ctx: AdminContext;

  constructor(options: AdminOptions) {
    this.cluster = new Cluster({
      bootstrapServers: options.bootstrapServers,
      clientId: options.clientId ?? 'samsa-admin',
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.metadataMaxAgeMs === undefined ? {} : { metadataMaxAgeMs: options.metadataMaxAgeMs }),
    });
    this.ctx = {
      cluster: this.cluster,
      router: new Router(this.cluster, options.retryBackoffMs ?? 100),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    };
  }

  /** Connects and reads the cluster's metadata (optional: the first call does it). */
  async connect(): Promise<void> {
    await this.cluster.metadata();
  }

  /** Closes every connection; later calls fail. */
  close(): Promise<void> {
    return this.cluster.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- topics ---------------------------------------------------------------------------------------------------

  /** CreateTopics; errors per topic (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG, ...). */
  createTopics(topics: readonly NewTopic[], options?: CreateTopicsOptions): Promise<CreatedTopic[]> {
    return createTopics(this.ctx, topics, options);
  }

  /** DeleteTopics; UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist. */
  deleteTopics(
    names: readonly string[],
    options?: { timeoutMs?: number },
  ): Promise<{ name: string; topicId: string }[]> {
    return deleteTopics(this.ctx, names, options);
  }

  /** Topic names, sorted (internal topics only with `includeInternal`). */
  listTopics(options?: { includeInternal?: boolean }): Promise<string[]> {
    return listTopics(this.ctx, options);
  }

  /** Id, internal flag and partitions (leader, replicas, ISR) of each topic, in the order asked. */
  describeTopics(names: readonly string[]): Promise<TopicDescription[]> {
    return describeTopics(this.ctx, names);
  }

  /** Grows topics to `totalCount` partitions (INVALID_PARTITIONS when that is not more than now). */
  createPartitions(
    requests: readonly NewPartitions[],
    options?: { validateOnly?: boolean; timeoutMs?: number },
  ): Promise<{ topic: string; totalCount: number }[]> {
    return createPartitions(this.ctx, requests, options);
  }

  /**
   * AlterPartitionReassignments (KIP-455): moves each partition to its target replicas (null cancels the move in
   * progress), answered once the controller recorded the moves; they run in the background (see
   * `listPartitionReassignments`). Per partition: INVALID_REPLICA_ASSIGNMENT, UNKNOWN_TOPIC_OR_PARTITION,
   * NO_REASSIGNMENT_IN_PROGRESS.
   */
  alterPartitionReassignments(
    items: readonly PartitionReassignmentRequest[],
    options?: { timeoutMs?: number },
  ): Promise<TopicPartitionRef[]> {
    return alterPartitionReassignments(this.ctx, items, options);
  }

  /** The reassignments in progress, of these partitions or of all, sorted by topic and partition. */
  listPartitionReassignments(
    partitions?: readonly TopicPartitionRef[],
    options?: { timeoutMs?: number },
  ): Promise<PartitionReassignment[]> {
    return listPartitionReassignments(this.ctx, partitions, options);
  }

  // ---- configs --------------------------------------------------------------------------------------------------

  describeConfigs(resources: readonly ConfigResource[], options?: DescribeConfigsOptions): Promise<ResourceConfigs[]> {
    return describeConfigs(this.ctx, resources, options);
  }

  /** IncrementalAlterConfigs: set, delete, append or subtract single keys; the others stay as they are. */
  alterConfigs(
    resources: readonly AlterConfigsResource[],
    options?: { validateOnly?: boolean },
  ): Promise<{ type: ConfigResourceType; name: string }[]> {
    return alterConfigs(this.ctx, resources, options);
  }

  // ---- groups ---------------------------------------------------------------------------------------------------

  /** Every group of every broker, sorted by id. */
  listGroups(options?: ListGroupsOptions): Promise<GroupListing[]> {
    return listGroups(this.ctx, options);
  }

  /** State, protocol and members (with decoded assignments); GROUP_ID_NOT_FOUND for a group that does not exist. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return describeGroups(this.ctx, groupIds);
  }

  /** Committed offsets of a group: of the given partitions (offset null where none), else every committed one. */
  listGroupOffsets(groupId: string, partitions?: readonly TopicPartitionRef[]): Promise<CommittedOffset[]> {
    return listGroupOffsets(this.ctx, groupId, partitions);
  }

  /** Per partition: committed offset, log end offset, lag and owning member, as kafka-consumer-groups --describe. */
  describeGroupLag(groupId: string): Promise<GroupLag> {
    return describeGroupLag(this.ctx, groupId);
  }

  /** Deletes Empty groups and their offsets (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND per group). */
  deleteGroups(groupIds: readonly string[]): Promise<string[]> {
    return deleteGroups(this.ctx, groupIds);
  }

  /** OffsetDelete (KIP-496): GROUP_SUBSCRIBED_TO_TOPIC for topics a member still subscribes to. */
  deleteGroupOffsets(groupId: string, partitions: readonly TopicPartitionRef[]): Promise<TopicPartitionRef[]> {
    return deleteGroupOffsets(this.ctx, groupId, partitions);
  }

  /** kafka-consumer-groups --reset-offsets: only for inactive groups; `dryRun` only computes. */
  resetGroupOffsets(groupId: string, options: ResetGroupOffsetsOptions): Promise<ResetOffset[]> {
    return resetGroupOffsets(this.ctx, groupId, options);
  }

  // ---- cluster and offsets --------------------------------------------------------------------------------------

  /** Cluster id, controller and brokers. */
  describeCluster(): Promise<ClusterDescription> {
    return describeCluster(this.ctx);
  }

  /** ListOffsets per partition, asked of each partition's leader. */
  listOffsets(items: readonly ListOffsetsRequestItem[], options?: ListOffsetsOptions): Promise<ListedOffset[]> {
    return listOffsets(this.ctx, items, options);
  }

  /** Earliest, latest (high watermark) and last stable offset of every partition of a topic. */
  fetchTopicOffsets(topic: string): Promise<TopicOffsets[]> {
    return fetchTopicOffsets(this.ctx, topic);
  }

  /** DeleteRecords: moves each partition's log start offset up to `beforeOffset` (-1: the high watermark). */
  deleteRecords(items: readonly DeleteRecordsItem[], options?: { timeoutMs?: number }): Promise<DeletedRecords[]> {
    return deleteRecords(this.ctx, items, options);
  }
}
