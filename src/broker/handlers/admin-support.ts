/**
 * What the admin handlers (topics, partitions, configs) share: turning a failure into the error code and message
 * Kafka would answer with, config resource types, and the checks Kafka applies to config resources before it looks
 * at any config (duplicates, null values, which broker a BROKER resource names).
 */
import { AdminOperationError } from '../../metadata/replica-assignment.js';
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import type { RequestContext } from './registry.js';
import { errorCodeOf } from './support.js';

/** Kafka's ConfigResource.Type ids. */
export const ResourceType = {
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

const RESOURCE_TYPE_NAMES: Readonly<Record<number, string>> = {
  2: 'TOPIC',
  4: 'BROKER',
  8: 'BROKER_LOGGER',
  16: 'CLIENT_METRICS',
  32: 'GROUP',
};

export function resourceTypeName(type: number): string {
  return RESOURCE_TYPE_NAMES[type] ?? 'UNKNOWN';
}

export interface ApiError {
  errorCode: number;
  errorMessage: string | null;
}

export const NO_ERROR: ApiError = { errorCode: ErrorCode.NONE, errorMessage: null };

export function apiError(errorCode: number, errorMessage: string | null = null): ApiError {
  return { errorCode, errorMessage };
}

/**
 * The code and message a failure answers with. Like Kafka's ApiError.fromThrowable, an unexpected failure gets
 * UNKNOWN_SERVER_ERROR without a message (its text may reveal internals); it is logged instead. The refusals Kafka
 * raises as AdminOperationException (e.g. racks on only some brokers) are UNKNOWN_SERVER_ERROR too, but keep their
 * message: it is written for users and says what to fix.
 */
export function failure(ctx: RequestContext, err: unknown, what: Record<string, unknown>): ApiError {
  if (err instanceof AdminOperationError) {
    ctx.logger.info({ ...what, client: ctx.clientId, err: err.message }, 'admin request refused');
    return apiError(err.code, err.message);
  }
  const errorCode = errorCodeOf(err);
  if (errorCode === ErrorCode.UNKNOWN_SERVER_ERROR) {
    ctx.logger.error({ ...what, client: ctx.clientId, err: (err as Error)?.message }, 'admin request failed');
    return apiError(errorCode);
  }
  ctx.logger.debug({ ...what, code: errorCode, err: (err as Error).message }, 'admin request refused');
  return apiError(errorCode, err instanceof KafkaError ? err.message : null);
}

/** The keys that occur more than once. */
export function duplicatesOf<T>(items: readonly T[], key: (item: T) => string): Set<string> {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) dups.add(k);
    else seen.add(k);
  }
  return dups;
}

/**
 * Checks Kafka makes on one resource of AlterConfigs / IncrementalAlterConfigs before anything else: a config named
 * twice, or a null value where one is needed (`needsValue`), is INVALID_REQUEST.
 */
export function configListProblem<C extends { name: string; value: string | null }>(
  configs: readonly C[],
  needsValue: (config: C) => boolean,
): ApiError | null {
  if (duplicatesOf(configs, (c) => c.name).size > 0) {
    return apiError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
  }
  const nulls = configs.filter((c) => c.value === null && needsValue(c)).map((c) => c.name);
  if (nulls.length > 0)
    return apiError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
  return null;
}

/**
 * A BROKER resource being altered must name this broker, or be empty for the cluster-wide default (`allowEmpty`;
 * a BROKER_LOGGER resource must name a broker).
 */
export function alterBrokerNameProblem(name: string, nodeId: number, allowEmpty = true): ApiError | null {
  if (name === '' && allowEmpty) return null;
  if (!/^-?\d+$/.test(name)) {
    return apiError(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${name}`);
  }
  if (Number(name) !== nodeId) {
    return apiError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId}, but received ${name}`);
  }
  return null;
}

/** samsa has no dynamic broker configs: any change to a BROKER resource is refused, as Kafka refuses static keys. */
export function brokerConfigsAreStatic(names: readonly string[]): ApiError | null {
  if (names.length === 0) return null;
  return apiError(
    ErrorCode.INVALID_REQUEST,
    `Cannot update these configs dynamically: ${names.join(', ')} (samsa has no dynamic broker configs; ` +
      'set them in server.properties and restart the broker)',
  );
}

/** A config resource as both AlterConfigs and IncrementalAlterConfigs name it. */
export interface ConfigResource {
  resourceType: number;
  resourceName: string;
}

/**
 * Applies `alter` to each resource of an (Incremental)AlterConfigs request in order and collects the per-resource
 * answers; a resource named twice is refused as Kafka does, and a failure becomes that resource's error.
 */
export async function alterEachResource<R extends ConfigResource>(
  ctx: RequestContext,
  api: string,
  resources: readonly R[],
  alter: (resource: R) => Promise<ApiError>,
): Promise<(ApiError & ConfigResource)[]> {
  const key = (r: R) => `${r.resourceType}\0${r.resourceName}`;
  const duplicates = duplicatesOf(resources, key);
  const responses: (ApiError & ConfigResource)[] = [];
  for (const resource of resources) {
    let error: ApiError;
    if (duplicates.has(key(resource))) {
      error = apiError(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
    } else {
      try {
        error = await alter(resource);
      } catch (err) {
        error = failure(ctx, err, { api, resource: resource.resourceName });
      }
    }
    responses.push({ ...error, resourceType: resource.resourceType, resourceName: resource.resourceName });
  }
  return responses;
}
