/**
 * ApiVersions (api key 18), every version the spec defines (0..4 today). Answers with the registry's list: only
 * registered APIs are advertised. No features are supported or finalized yet; throttle is always 0.
 * KIP-511 (v3: client software name/version, validated like Kafka: INVALID_REQUEST when malformed) and Kafka's
 * fallback for versions newer than ours: the body cannot be parsed, so the answer is UNSUPPORTED_VERSION encoded
 * as a v0 body that still carries our list, and the client retries with a version we know. The response header
 * is always v0 for ApiVersions (the server takes that from `responseHeaderVersion`).
 */
import { type ApiVersionsRequest, type ApiVersionsResponse, apiSpec, ErrorCode } from '../../protocol/index.js';
import { type EncodedAs, type Handler, type RequestContext, stableMaxVersion } from './registry.js';

const spec = apiSpec(18);
if (spec === undefined) throw new Error('ApiVersions spec missing');

/** Kafka's rule for client software name and version (KIP-511). */
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

function response(ctx: RequestContext, errorCode: number): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: ctx.registry.apiVersions(),
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}

export const apiVersionsHandler: Handler<ApiVersionsRequest, ApiVersionsResponse> = {
  apiKey: 18,
  minVersion: spec.minVersion,
  maxVersion: stableMaxVersion(spec),
  handle(ctx, request) {
    if (
      ctx.apiVersion >= 3 &&
      (!SOFTWARE_PATTERN.test(request.clientSoftwareName) || !SOFTWARE_PATTERN.test(request.clientSoftwareVersion))
    ) {
      return response(ctx, ErrorCode.INVALID_REQUEST);
    }
    return response(ctx, ErrorCode.NONE);
  },
  unsupportedVersion(ctx): EncodedAs | null {
    // Only versions newer than ours get the fallback; older-than-min requests are not ones a client can retry.
    if (ctx.apiVersion < apiVersionsHandler.minVersion) return null;
    return { version: 0, body: response(ctx, ErrorCode.UNSUPPORTED_VERSION) };
  },
};

export default apiVersionsHandler;
