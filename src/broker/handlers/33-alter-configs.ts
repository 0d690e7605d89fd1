/**
 * AlterConfigs (api key 33), versions 0..2: the legacy, non-incremental config change (KIP-339 deprecated it in
 * favour of IncrementalAlterConfigs). For a TOPIC it replaces the whole set of overrides with the given one (keys
 * left out return to their defaults), after validating it: an unknown key or bad value is INVALID_CONFIG with
 * Kafka's wording, an unknown topic UNKNOWN_TOPIC_OR_PARTITION ("The topic 'x' does not exist."). A BROKER resource
 * (this node's id, or empty for the cluster default) accepts only an empty set, since samsa has no dynamic broker
 * configs; anything else is INVALID_REQUEST naming the keys, as Kafka refuses keys it cannot change at runtime.
 * Before that, as Kafka's broker does: a resource listed twice, a key listed twice, or a null value is
 * INVALID_REQUEST. BROKER_LOGGER and unknown types are INVALID_REQUEST ("Unknown resource type N"). validateOnly
 * checks and changes nothing.
 */
import {
  type AlterConfigsRequest,
  type AlterConfigsRequestAlterConfigsResource,
  type AlterConfigsResponse,
  type AlterConfigsResponseAlterConfigsResourceResponse,
  ErrorCode,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import { alterTopicConfigs } from './44-incremental-alter-configs.js';
import {
  type ApiError,
  alterBrokerNameProblem,
  alterEachResource,
  apiError,
  brokerConfigsAreStatic,
  configListProblem,
  NO_ERROR,
  ResourceType,
  resourceTypeName,
} from './admin-support.js';
import type { Handler, RequestContext } from './registry.js';

type Resource = AlterConfigsRequestAlterConfigsResource;
type ResourceResponse = AlterConfigsResponseAlterConfigsResourceResponse;

export default function alterConfigsHandler(broker: BrokerContext): Handler<AlterConfigsRequest, AlterConfigsResponse> {
  async function alter(ctx: RequestContext, resource: Resource, validateOnly: boolean): Promise<ApiError> {
    const problem = configListProblem(resource.configs, () => true);
    if (problem !== null) return problem;
    const { resourceType, resourceName: name } = resource;
    switch (resourceType) {
      case ResourceType.TOPIC: {
        const configs: Record<string, string> = {};
        for (const c of resource.configs) configs[c.name] = c.value!;
        return alterTopicConfigs(ctx, broker, name, () => configs, validateOnly);
      }
      case ResourceType.BROKER:
        return (
          alterBrokerNameProblem(name, broker.nodeId) ??
          brokerConfigsAreStatic(resource.configs.map((c) => c.name)) ??
          NO_ERROR
        );
      case ResourceType.CLIENT_METRICS:
      case ResourceType.GROUP:
        return apiError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${resourceTypeName(resourceType)}`);
      default:
        // Legacy AlterConfigs never supported BROKER_LOGGER: Kafka refuses it like an unknown type.
        return apiError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${resourceType}`);
    }
  }

  return {
    apiKey: 33,
    minVersion: 0,
    maxVersion: 2,
    async handle(ctx, request) {
      const responses: ResourceResponse[] = await alterEachResource(
        ctx,
        'AlterConfigs',
        request.resources,
        (resource) => alter(ctx, resource, request.validateOnly),
      );
      return { throttleTimeMs: 0, responses };
    },
  };
}
