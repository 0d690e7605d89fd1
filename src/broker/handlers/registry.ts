/**
 * The handler registry: one entry per API key, each from a handler module that exports its key, its supported
 * version range and its `handle` function. The server routes requests through it and the ApiVersions response is
 * built from it, so only what is registered is advertised. Registration rejects duplicates, ranges outside the
 * spec's valid versions, and a spec's unstable newest version (never advertised, as in Kafka).
 */
import type { Logger } from '../../log/logger.js';
import { type ApiSpec, apiSpec, type RequestHeader } from '../../protocol/index.js';

/** What a handler knows about the request it serves. */
export interface RequestContext {
  /** The decoded request header (api key, version, correlation id, client id). */
  readonly header: RequestHeader;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly clientId: string | null;
  /** Sequence number of the connection within this server. */
  readonly connectionId: number;
  readonly remoteAddress: string;
  /** Name of the listener the connection came in on (e.g. PLAINTEXT): Metadata answers with its endpoints. */
  readonly listener: string;
  readonly logger: Logger;
  readonly registry: HandlerRegistry;
}

/** A response body together with the version to encode it with (the request's, unless a fallback says otherwise). */
export interface EncodedAs {
  readonly version: number;
  readonly body: unknown;
}

export interface Handler<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * The lowest version put in the ApiVersions answer when it must differ from `minVersion` (Produce: Kafka 4
   * advertises v0 but refuses v0..2, because librdkafka only compresses for brokers that list Produce v0).
   */
  readonly advertisedMinVersion?: number;
  /** Serves one decoded request. `null` means no response is sent (Produce with acks=0). */
  handle(ctx: RequestContext, request: Req): Res | null | Promise<Res | null>;
  /**
   * Called instead of closing the connection when the request's version is outside the handler's range; the body
   * is not decoded (its layout is unknown). Returns the response to send and the version to encode it with, or
   * null to close the connection. Only ApiVersions uses this (KIP-511 fallback).
   */
  unsupportedVersion?(ctx: RequestContext): EncodedAs | null;
}

export interface AdvertisedApi {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface RegisteredHandler {
  readonly handler: Handler;
  readonly spec: ApiSpec;
}

export class HandlerRegistry {
  private readonly byKey: (RegisteredHandler | undefined)[] = [];

  constructor(handlers: Iterable<Handler<never, unknown>> = []) {
    for (const h of handlers) this.register(h);
  }

  register(handler: Handler<never, unknown>): this {
    const h = handler as unknown as Handler;
    const spec = apiSpec(h.apiKey);
    if (spec === undefined) throw new Error(`no protocol spec for api key ${h.apiKey}`);
    if (this.byKey[h.apiKey] !== undefined) throw new Error(`duplicate handler for ${spec.name} (api key ${h.apiKey})`);
    if (!Number.isInteger(h.minVersion) || !Number.isInteger(h.maxVersion) || h.minVersion > h.maxVersion) {
      throw new Error(`${spec.name}: invalid version range ${h.minVersion}..${h.maxVersion}`);
    }
    const top = stableMaxVersion(spec);
    if (h.minVersion < spec.minVersion || h.maxVersion > top) {
      throw new Error(
        `${spec.name}: versions ${h.minVersion}..${h.maxVersion} outside the spec's stable range ${spec.minVersion}..${top}`,
      );
    }
    const advertised = h.advertisedMinVersion;
    if (advertised !== undefined && (advertised < spec.minVersion || advertised > h.minVersion)) {
      throw new Error(`${spec.name}: advertised minimum ${advertised} outside ${spec.minVersion}..${h.minVersion}`);
    }
    this.byKey[h.apiKey] = { handler: h, spec };
    return this;
  }

  get(apiKey: number): RegisteredHandler | undefined {
    return apiKey >= 0 ? this.byKey[apiKey] : undefined;
  }

  /** The ApiVersions list: every registered API with its range, by api key. */
  apiVersions(): AdvertisedApi[] {
    const out: AdvertisedApi[] = [];
    for (const e of this.byKey) {
      if (e !== undefined) {
        const minVersion = e.handler.advertisedMinVersion ?? e.handler.minVersion;
        out.push({ apiKey: e.handler.apiKey, minVersion, maxVersion: e.handler.maxVersion });
      }
    }
    return out;
  }
}

/** The newest version of a spec that may be advertised (the latest is skipped while upstream marks it unstable). */
export function stableMaxVersion(spec: ApiSpec): number {
  return spec.latestVersionUnstable ? spec.maxVersion - 1 : spec.maxVersion;
}
