/**
 * Every handler this broker serves, built for one broker. The registry (and so the ApiVersions answer) is made
 * from this list: an API that is not here is not advertised.
 */
import type { BrokerContext } from '../context.js';
import produceHandler from './00-produce.js';
import fetchHandler from './01-fetch.js';
import listOffsetsHandler from './02-list-offsets.js';
import metadataHandler from './03-metadata.js';
import findCoordinatorHandler from './10-find-coordinator.js';
import { apiVersionsHandler } from './18-api-versions.js';
import createTopicsHandler from './19-create-topics.js';
import deleteTopicsHandler from './20-delete-topics.js';
import deleteRecordsHandler from './21-delete-records.js';
import offsetForLeaderEpochHandler from './23-offset-for-leader-epoch.js';
import describeConfigsHandler from './32-describe-configs.js';
import alterConfigsHandler from './33-alter-configs.js';
import describeLogDirsHandler from './35-describe-log-dirs.js';
import createPartitionsHandler from './37-create-partitions.js';
import incrementalAlterConfigsHandler from './44-incremental-alter-configs.js';
import describeClusterHandler from './60-describe-cluster.js';
import type { Handler } from './registry.js';

export function allHandlers(broker: BrokerContext): Handler<never, unknown>[] {
  return [
    produceHandler(broker),
    fetchHandler(broker),
    listOffsetsHandler(broker),
    metadataHandler(broker),
    findCoordinatorHandler(broker),
    apiVersionsHandler,
    createTopicsHandler(broker),
    deleteTopicsHandler(broker),
    deleteRecordsHandler(broker),
    offsetForLeaderEpochHandler(broker),
    describeConfigsHandler(broker),
    alterConfigsHandler(broker),
    describeLogDirsHandler(broker),
    createPartitionsHandler(broker),
    incrementalAlterConfigsHandler(broker),
    describeClusterHandler(broker),
  ] as Handler<never, unknown>[];
}
