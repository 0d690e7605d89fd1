/**
 * DescribeCluster (api key 60), versions 0..1 (KIP-700): the brokers with their endpoint on the listener the client
 * came in on (as Metadata answers), the cluster id and the controller. From v1 (KIP-919) the request says which kind
 * of endpoint it meant to reach: this is a broker, so BROKER (1) is served, CONTROLLER (2) is MISMATCHED_ENDPOINT_TYPE
 * and any other value UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST at v0), with Kafka's messages. Authorized
 * operations are returned only when asked: every cluster operation, as there is no authorizer.
 */
import {
  type DescribeClusterRequest,
  type DescribeClusterResponse,
  type DescribeClusterResponseDescribeClusterBroker,
  ErrorCode,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler, RequestContext } from './registry.js';
import { AUTHORIZED_OPERATIONS_OMITTED } from './support.js';

const BROKER_ENDPOINT = 1;
const CONTROLLER_ENDPOINT = 2;

/** The operations Kafka supports on the CLUSTER resource: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE. */
const ALL_CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);

function failed(errorCode: number, errorMessage: string): DescribeClusterResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    endpointType: BROKER_ENDPOINT,
    clusterId: '',
    controllerId: -1,
    brokers: [],
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export default function describeClusterHandler(
  broker: BrokerContext,
): Handler<DescribeClusterRequest, DescribeClusterResponse> {
  function brokers(ctx: RequestContext): DescribeClusterResponseDescribeClusterBroker[] {
    const out: DescribeClusterResponseDescribeClusterBroker[] = [];
    for (const b of broker.metadata.brokers()) {
      // Same choice as Metadata: a broker without an endpoint on this listener cannot be reached by this client.
      const ep =
        b.endpoints.find((e) => e.listener === ctx.listener) ?? (b.endpoints.length === 1 ? b.endpoints[0] : undefined);
      if (ep !== undefined) out.push({ brokerId: b.id, host: ep.host, port: ep.port, rack: b.rack });
    }
    return out;
  }

  return {
    apiKey: 60,
    minVersion: 0,
    maxVersion: 1,
    handle(ctx, request) {
      const v0 = ctx.apiVersion === 0;
      if (request.endpointType === CONTROLLER_ENDPOINT) {
        return failed(
          v0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
          'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER',
        );
      }
      if (request.endpointType !== BROKER_ENDPOINT) {
        return failed(
          v0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
          `Unsupported endpoint type ${request.endpointType}`,
        );
      }
      const list = brokers(ctx);
      const controllerId = broker.metadata.controllerId();
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        endpointType: BROKER_ENDPOINT,
        clusterId: broker.metadata.clusterId,
        // Kafka answers -1 rather than name a controller the client cannot find in the list.
        controllerId: list.some((b) => b.brokerId === controllerId) ? controllerId : -1,
        brokers: list,
        clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
          ? ALL_CLUSTER_OPERATIONS
          : AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  };
}
