/**
 * IncrementalAlterConfigs (api key 44), versions 0..1 (KIP-339). Per resource, a list of operations applied to the
 * current overrides: SET (0) a value, DELETE (1) an override (back to the default), APPEND (2) / SUBTRACT (3) items
 * of a list-typed config such as cleanup.policy, starting from the override or else the config's default, as
 * Kafka's controller does; APPEND/SUBTRACT on any other config is INVALID_CONFIG ("Can't APPEND to key x because its
 * type is not LIST."). The result is validated as a whole (INVALID_CONFIG, Kafka's wording) and stored as the
 * topic's new overrides; validateOnly stops before storing. As Kafka's broker checks first: a resource listed twice,
 * a key listed twice, a null value for anything but DELETE, or an unknown operation is INVALID_REQUEST. An unknown
 * topic is UNKNOWN_TOPIC_OR_PARTITION ("The topic 'x' does not exist."). BROKER resources (this node or the empty
 * cluster default) accept only DELETEs, which change nothing: samsa has no dynamic broker configs. BROKER_LOGGER
 * (log levels, KIP-412) is refused with INVALID_REQUEST, as there are no runtime log levels to change.
 */
import { topicNameProblem } from '../../metadata/topic-name.js';
import {
  ErrorCode,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestAlterConfigsResource,
  type IncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsResponseAlterConfigsResourceResponse,
  KafkaError,
} from '../../protocol/index.js';
import { TOPIC_DEFS_BY_NAME } from '../config/definitions.js';
import { validateTopicConfigs } from '../config/topic-config.js';
import type { BrokerContext } from '../context.js';
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

type Resource = IncrementalAlterConfigsRequestAlterConfigsResource;
type ResourceResponse = IncrementalAlterConfigsResponseAlterConfigsResourceResponse;

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

/**
 * Replaces a topic's overrides with `next(current)` (which throws KafkaError to refuse), validated against the
 * broker's defaults; AlterConfigs uses it too. Answers with Kafka's code and message.
 */
export async function alterTopicConfigs(
  ctx: RequestContext,
  broker: BrokerContext,
  name: string,
  next: (current: Readonly<Record<string, string>>) => Record<string, string>,
  validateOnly: boolean,
): Promise<ApiError> {
  if (name === '') return apiError(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
  const problem = topicNameProblem(name);
  if (problem !== null) return apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  const topic = broker.metadata.topic(name);
  if (topic === undefined) {
    return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
  }
  let configs: Record<string, string>;
  try {
    configs = next(topic.configs);
  } catch (err) {
    if (err instanceof KafkaError) return apiError(err.code, err.message);
    throw err;
  }
  const invalid = validateTopicConfigs(configs, broker.config);
  if (invalid !== null) return apiError(ErrorCode.INVALID_CONFIG, invalid);
  // Like Kafka's controller, an unchanged set writes nothing (and so does not reconfigure the logs).
  if (sameConfigs(configs, topic.configs)) return NO_ERROR;
  await broker.topics.setConfigs(name, configs, validateOnly);
  if (!validateOnly) ctx.logger.info({ topic: name, configs, client: ctx.clientId }, 'topic configs changed');
  return NO_ERROR;
}

function sameConfigs(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** The items of a list value, without empty ones. */
function parts(value: string): string[] {
  return value.split(',').filter((s) => s !== '');
}

/** The overrides after applying `ops` in order. */
function applyOps(current: Readonly<Record<string, string>>, ops: Resource['configs']): Record<string, string> {
  const out: Record<string, string> = { ...current };
  for (const op of ops) {
    switch (op.configOperation) {
      case SET:
        out[op.name] = op.value!;
        break;
      case DELETE:
        delete out[op.name];
        break;
      default: {
        const def = TOPIC_DEFS_BY_NAME.get(op.name);
        if (def === undefined || def.type !== 'list') {
          throw new KafkaError(
            ErrorCode.INVALID_CONFIG,
            `Can't ${OP_NAMES[op.configOperation]} to key ${op.name} because its type is not LIST.`,
          );
        }
        const items = parts(Object.hasOwn(out, op.name) ? out[op.name]! : (def.default ?? ''));
        for (const item of op.value!.split(',')) {
          if (op.configOperation === APPEND) {
            if (!items.includes(item)) items.push(item);
          } else {
            const at = items.indexOf(item);
            if (at >= 0) items.splice(at, 1);
          }
        }
        out[op.name] = items.join(',');
      }
    }
  }
  return out;
}

export default function incrementalAlterConfigsHandler(
  broker: BrokerContext,
): Handler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse> {
  async function alter(ctx: RequestContext, resource: Resource, validateOnly: boolean): Promise<ApiError> {
    const problem = configListProblem(resource.configs, (c) => c.configOperation !== DELETE);
    if (problem !== null) return problem;
    const unknownOp = resource.configs.find((c) => c.configOperation < SET || c.configOperation > SUBTRACT);
    if (unknownOp !== undefined) {
      return apiError(ErrorCode.INVALID_REQUEST, `Unknown operations type ${unknownOp.configOperation}`);
    }
    const { resourceType, resourceName: name } = resource;
    switch (resourceType) {
      case ResourceType.TOPIC:
        return alterTopicConfigs(ctx, broker, name, (current) => applyOps(current, resource.configs), validateOnly);
      case ResourceType.BROKER:
        return (
          alterBrokerNameProblem(name, broker.nodeId) ??
          brokerConfigsAreStatic(resource.configs.filter((c) => c.configOperation !== DELETE).map((c) => c.name)) ??
          NO_ERROR
        );
      case ResourceType.BROKER_LOGGER:
        return (
          alterBrokerNameProblem(name, broker.nodeId, false) ??
          (resource.configs.length === 0
            ? NO_ERROR
            : apiError(
                ErrorCode.INVALID_REQUEST,
                'samsa cannot change log levels at runtime; set the log level in the broker configuration and restart',
              ))
        );
      case ResourceType.CLIENT_METRICS:
      case ResourceType.GROUP:
        return apiError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${resourceTypeName(resourceType)}`);
      default:
        return apiError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${resourceType}`);
    }
  }

  return {
    apiKey: 44,
    minVersion: 0,
    maxVersion: 1,
    async handle(ctx, request) {
      const responses: ResourceResponse[] = await alterEachResource(
        ctx,
        'IncrementalAlterConfigs',
        request.resources,
        (resource) => alter(ctx, resource, request.validateOnly),
      );
      return { throttleTimeMs: 0, responses };
    },
  };
}
