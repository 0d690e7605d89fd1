/**
 * Configs: DescribeConfigs and IncrementalAlterConfigs (KIP-339: set, delete, append, subtract per key, leaving
 * the other keys alone, unlike the legacy AlterConfigs that replaced them all). A broker's own configs (a resource
 * named by its id) are asked of that broker, as only it knows its static settings; everything else goes to any
 * broker. Each resource's error becomes its failure (see errors.ts).
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { DescribeConfigsResponse, IncrementalAlterConfigsResponse } from '../../protocol/index.js';
import type { BrokerConnection } from '../network/connection.js';
import { itemError, settle } from './errors.js';
import { type AdminContext, failed, type Outcome, ok, partition } from './routing.js';
import type {
  AlterConfigOpType,
  AlterConfigsResource,
  ConfigEntry,
  ConfigResource,
  ConfigResourceType,
  ConfigSource,
  ConfigType,
  DescribeConfigsOptions,
  ResourceConfigs,
} from './types.js';

const DESCRIBE_CONFIGS = 32;
const INCREMENTAL_ALTER_CONFIGS = 44;

/** Kafka's ConfigResource.Type codes. */
const RESOURCE_TYPE: Readonly<Record<ConfigResourceType, number>> = {
  topic: 2,
  broker: 4,
  'broker-logger': 8,
  'client-metrics': 16,
  group: 32,
};

/** Kafka's ConfigSource ids, in order (DescribeConfigs v1+). */
const SOURCES: readonly ConfigSource[] = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
];

const TYPES: readonly ConfigType[] = [
  'UNKNOWN',
  'BOOLEAN',
  'STRING',
  'INT',
  'SHORT',
  'LONG',
  'DOUBLE',
  'LIST',
  'CLASS',
  'PASSWORD',
];

const OPS: Readonly<Record<AlterConfigOpType, number>> = { set: 0, delete: 1, append: 2, subtract: 3 };

const sourceName = (id: number): ConfigSource => SOURCES[id] ?? 'UNKNOWN';

/** The broker that must answer for a resource, or -1 for any broker. */
function destination(type: ConfigResourceType, name: string): number {
  if ((type === 'broker' || type === 'broker-logger') && /^\d+$/.test(name)) return Number(name);
  return -1;
}

const resourceName = (r: { type: ConfigResourceType; name: string }): string => `${r.type}:${r.name}`;

/**
 * Sends each destination's resources in one request and maps every resource to an outcome; a request that fails as
 * a whole fails each of its resources.
 */
async function perDestination<R>(
  ctx: AdminContext,
  resources: readonly { type: ConfigResourceType; name: string }[],
  send: (conn: BrokerConnection, indices: number[]) => Promise<Map<number, Outcome<R>>>,
): Promise<Outcome<R>[]> {
  const groups = new Map<number, number[]>();
  resources.forEach((r, i) => {
    const d = destination(r.type, r.name);
    groups.set(d, [...(groups.get(d) ?? []), i]);
  });
  const outcomes: Outcome<R>[] = new Array(resources.length);
  await Promise.all(
    [...groups].map(async ([nodeId, indices]) => {
      try {
        const run = (conn: BrokerConnection) => send(conn, indices);
        const answers = nodeId < 0 ? await ctx.router.toAny(run) : await ctx.router.toBroker(nodeId, run);
        for (const i of indices) {
          outcomes[i] =
            answers.get(i) ?? failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'the broker did not answer'));
        }
      } catch (e) {
        for (const i of indices) outcomes[i] = failed(e as Error);
      }
    }),
  );
  return outcomes;
}

/** Finds the answer for (type code, name) among a response's entries. */
function answerFor<E extends { resourceType: number; resourceName: string }>(
  entries: readonly E[],
  r: { type: ConfigResourceType; name: string },
): E | undefined {
  return entries.find((e) => e.resourceType === RESOURCE_TYPE[r.type] && e.resourceName === r.name);
}

export async function describeConfigs(
  ctx: AdminContext,
  resources: readonly ConfigResource[],
  options: DescribeConfigsOptions = {},
): Promise<ResourceConfigs[]> {
  const outcomes = await perDestination<ResourceConfigs>(ctx, resources, async (conn, indices) => {
    const v = conn.version(DESCRIBE_CONFIGS, 1, 4);
    if (options.includeDocumentation && v < 3) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `${conn.address} cannot describe config documentation`);
    }
    const res = await conn.send<DescribeConfigsResponse>(DESCRIBE_CONFIGS, v, {
      resources: indices.map((i) => {
        const r = resources[i]!;
        return {
          resourceType: RESOURCE_TYPE[r.type],
          resourceName: r.name,
          configurationKeys: r.configNames === undefined ? null : [...r.configNames],
        };
      }),
      includeSynonyms: options.includeSynonyms ?? false,
      includeDocumentation: options.includeDocumentation ?? false,
    });
    return new Map(
      indices.map((i): [number, Outcome<ResourceConfigs>] => {
        const r = resources[i]!;
        const a = answerFor(res.results, r);
        if (a === undefined) return [i, failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer'))];
        if (a.errorCode !== ErrorCode.NONE) return [i, failed(itemError(a.errorCode, a.errorMessage))];
        return [
          i,
          ok({
            type: r.type,
            name: r.name,
            entries: a.configs.map(
              (c): ConfigEntry => ({
                name: c.name,
                value: c.value,
                source: sourceName(c.configSource),
                isDefault: c.configSource === 5,
                readOnly: c.readOnly,
                sensitive: c.isSensitive,
                synonyms: (c.synonyms ?? []).map((s) => ({
                  name: s.name,
                  value: s.value,
                  source: sourceName(s.source),
                })),
                type: TYPES[c.configType] ?? 'UNKNOWN',
                documentation: c.documentation ?? null,
              }),
            ),
          }),
        ];
      }),
    );
  });
  const { results, failures } = partition(outcomes, (i) => resourceName(resources[i]!));
  return settle('describeConfigs', failures, results, resources.length);
}

export async function alterConfigs(
  ctx: AdminContext,
  resources: readonly AlterConfigsResource[],
  options: { validateOnly?: boolean } = {},
): Promise<{ type: ConfigResourceType; name: string }[]> {
  const outcomes = await perDestination<{ type: ConfigResourceType; name: string }>(
    ctx,
    resources,
    async (conn, indices) => {
      const v = conn.version(INCREMENTAL_ALTER_CONFIGS, 0, 1);
      const res = await conn.send<IncrementalAlterConfigsResponse>(INCREMENTAL_ALTER_CONFIGS, v, {
        resources: indices.map((i) => {
          const r = resources[i]!;
          return {
            resourceType: RESOURCE_TYPE[r.type],
            resourceName: r.name,
            configs: r.ops.map((o) => ({
              name: o.name,
              configOperation: OPS[o.op ?? 'set'],
              value: o.op === 'delete' ? null : (o.value ?? null),
            })),
          };
        }),
        validateOnly: options.validateOnly ?? false,
      });
      return new Map(
        indices.map((i): [number, Outcome<{ type: ConfigResourceType; name: string }>] => {
          const r = resources[i]!;
          const a = answerFor(res.responses, r);
          if (a === undefined) return [i, failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer'))];
          if (a.errorCode !== ErrorCode.NONE) return [i, failed(itemError(a.errorCode, a.errorMessage))];
          return [i, ok({ type: r.type, name: r.name })];
        }),
      );
    },
  );
  const { results, failures } = partition(outcomes, (i) => resourceName(resources[i]!));
  return settle('alterConfigs', failures, results, resources.length);
}
