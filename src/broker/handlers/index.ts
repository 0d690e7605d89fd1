/**
 * Every handler this broker serves, built for one broker. The registry (and so the ApiVersions answer) is made
 * from this list: an API that is not here is not advertised.
 */
import type { BrokerContext } from '../context.js';
import produceHandler from './00-produce.js';
import fetchHandler from './01-fetch.js';
import listOffsetsHandler from './02-list-offsets.js';
import metadataHandler from './03-metadata.js';
import controlledShutdownHandler from './07-controlled-shutdown.js';
import offsetCommitHandler from './08-offset-commit.js';
import offsetFetchHandler from './09-offset-fetch.js';
import findCoordinatorHandler from './10-find-coordinator.js';
import joinGroupHandler from './11-join-group.js';
import heartbeatHandler from './12-heartbeat.js';
import leaveGroupHandler from './13-leave-group.js';
import syncGroupHandler from './14-sync-group.js';
import describeGroupsHandler from './15-describe-groups.js';
import listGroupsHandler from './16-list-groups.js';
import { apiVersionsHandler } from './18-api-versions.js';
import createTopicsHandler from './19-create-topics.js';
import deleteTopicsHandler from './20-delete-topics.js';
import deleteRecordsHandler from './21-delete-records.js';
import initProducerIdHandler from './22-init-producer-id.js';
import offsetForLeaderEpochHandler from './23-offset-for-leader-epoch.js';
import describeConfigsHandler from './32-describe-configs.js';
import alterConfigsHandler from './33-alter-configs.js';
import describeLogDirsHandler from './35-describe-log-dirs.js';
import createPartitionsHandler from './37-create-partitions.js';
import deleteGroupsHandler from './42-delete-groups.js';
import electLeadersHandler from './43-elect-leaders.js';
import incrementalAlterConfigsHandler from './44-incremental-alter-configs.js';
import alterPartitionReassignmentsHandler from './45-alter-partition-reassignments.js';
import listPartitionReassignmentsHandler from './46-list-partition-reassignments.js';
import offsetDeleteHandler from './47-offset-delete.js';
import describeClusterHandler from './60-describe-cluster.js';
import consumerGroupHeartbeatHandler from './68-consumer-group-heartbeat.js';
import consumerGroupDescribeHandler from './69-consumer-group-describe.js';
import type { Handler } from './registry.js';

export function allHandlers(broker: BrokerContext): Handler<never, unknown>[] {
  return [
    produceHandler(broker),
    fetchHandler(broker),
    listOffsetsHandler(broker),
    offsetCommitHandler(broker),
    offsetFetchHandler(broker),
    metadataHandler(broker),
    controlledShutdownHandler(broker),
    findCoordinatorHandler(broker),
    joinGroupHandler(broker),
    heartbeatHandler(broker),
    leaveGroupHandler(broker),
    syncGroupHandler(broker),
    describeGroupsHandler(broker),
    listGroupsHandler(broker),
    apiVersionsHandler,
    createTopicsHandler(broker),
    deleteTopicsHandler(broker),
    deleteRecordsHandler(broker),
    initProducerIdHandler(broker),
    offsetForLeaderEpochHandler(broker),
    describeConfigsHandler(broker),
    alterConfigsHandler(broker),
    describeLogDirsHandler(broker),
    createPartitionsHandler(broker),
    deleteGroupsHandler(broker),
    electLeadersHandler(broker),
    incrementalAlterConfigsHandler(broker),
    alterPartitionReassignmentsHandler(broker),
    listPartitionReassignmentsHandler(broker),
    offsetDeleteHandler(broker),
    describeClusterHandler(broker),
    consumerGroupHeartbeatHandler(broker),
    consumerGroupDescribeHandler(broker),
  ] as Handler<never, unknown>[];
}
