/**
 * DescribeConfigs (api key 32), versions 1..4 (Kafka 4 removed v0). Resources:
 *   TOPIC (2)          every topic config with its effective value and where it comes from (the topic override, a
 *                      broker key set in the file / environment / flags, or the default); UNKNOWN_TOPIC_OR_PARTITION
 *                      without a message for a topic that does not exist, INVALID_TOPIC_EXCEPTION for an illegal name.
 *   BROKER (4)         this node's id: every broker config (read-only: there are no dynamic broker configs); the
 *                      empty name (the cluster-wide dynamic defaults): none. Another id is INVALID_REQUEST.
 *   BROKER_LOGGER (8)  this node's id: the log4j loggers Kafka lists; samsa has none to change, so the list is
 *                      empty. An empty or other id is INVALID_REQUEST, with Kafka's messages.
 *   others             INVALID_REQUEST (group and client-metrics configs do not exist here).
 * configurationKeys null (or empty) means all; unknown keys are left out. Synonyms (v1+, KIP-226) are sent only
 * when asked, documentation only when asked (v3+, KIP-569), and the config type from v3. Sensitive values are null.
 */
import { topicNameProblem } from '../../metadata/topic-name.js';
import {
  type DescribeConfigsRequest,
  type DescribeConfigsRequestDescribeConfigsResource,
  type DescribeConfigsResponse,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
  type DescribeConfigsResponseDescribeConfigsResult,
  ErrorCode,
} from '../../protocol/index.js';
import { type ConfigEntryDescription, describeBrokerConfigs, describeTopicConfigs } from '../config/topic-config.js';
import type { BrokerContext } from '../context.js';
import { type ApiError, apiError, failure, ResourceType, resourceTypeName } from './admin-support.js';
import type { Handler } from './registry.js';

type Resource = DescribeConfigsRequestDescribeConfigsResource;
type ResourceResult = DescribeConfigsResponseDescribeConfigsResult;
type Entry = DescribeConfigsResponseDescribeConfigsResourceResult;

function failed(resource: Resource, error: ApiError): ResourceResult {
  return {
    errorCode: error.errorCode,
    errorMessage: error.errorMessage,
    resourceType: resource.resourceType,
    resourceName: resource.resourceName,
    configs: [],
  };
}

export default function describeConfigsHandler(
  broker: BrokerContext,
): Handler<DescribeConfigsRequest, DescribeConfigsResponse> {
  return {
    apiKey: 32,
    minVersion: 1,
    maxVersion: 4,
    handle(ctx, request) {
      const v = ctx.apiVersion;
      const synonyms = request.includeSynonyms;
      const documentation = request.includeDocumentation && v >= 3;
      const entry = (e: ConfigEntryDescription): Entry => ({
        name: e.name,
        value: e.isSensitive ? null : e.value,
        readOnly: e.readOnly,
        // Only v0 had isDefault (configSource replaced it), and v0 is not served.
        isDefault: false,
        configSource: e.source,
        isSensitive: e.isSensitive,
        synonyms: e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })),
        configType: v >= 3 ? e.configType : 0,
        documentation: e.documentation,
      });
      const ownId = String(broker.nodeId);

      const describe = (resource: Resource): ResourceResult => {
        const { resourceType, resourceName: name, configurationKeys: keys } = resource;
        const ok = (entries: ConfigEntryDescription[]): ResourceResult => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType,
          resourceName: name,
          configs: entries.map(entry),
        });
        switch (resourceType) {
          case ResourceType.TOPIC: {
            const problem = topicNameProblem(name);
            if (problem !== null) return failed(resource, apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem));
            const topic = broker.metadata.topic(name);
            if (topic === undefined) return failed(resource, apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
            return ok(describeTopicConfigs(topic.configs, broker.config, keys, synonyms, documentation));
          }
          case ResourceType.BROKER: {
            if (name === '') return ok([]);
            if (!/^-?\d+$/.test(name)) {
              return failed(
                resource,
                apiError(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${name}`),
              );
            }
            if (Number(name) !== broker.nodeId) {
              return failed(
                resource,
                apiError(
                  ErrorCode.INVALID_REQUEST,
                  `Unexpected broker id, expected ${ownId} or empty string, but received ${name}`,
                ),
              );
            }
            return ok(describeBrokerConfigs(broker.config, keys, synonyms, documentation));
          }
          case ResourceType.BROKER_LOGGER: {
            if (name === '')
              return failed(resource, apiError(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty'));
            if (!/^-?\d+$/.test(name)) {
              return failed(
                resource,
                apiError(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${name}`),
              );
            }
            if (Number(name) !== broker.nodeId) {
              return failed(
                resource,
                apiError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${ownId} but received ${name}`),
              );
            }
            return ok([]);
          }
          default:
            return failed(
              resource,
              apiError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${resourceTypeName(resourceType)}`),
            );
        }
      };

      const results = request.resources.map((resource) => {
        try {
          return describe(resource);
        } catch (err) {
          return failed(resource, failure(ctx, err, { api: 'DescribeConfigs', resource: resource.resourceName }));
        }
      });
      return { throttleTimeMs: 0, results };
    },
  };
}
