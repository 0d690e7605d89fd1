import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiVersionsHandler } from '../../src/broker/handlers/18-api-versions.js';
import { type Handler, HandlerRegistry } from '../../src/broker/handlers/registry.js';
import { API_SPECS, apiSpec } from '../../src/protocol/index.js';

const fake = (apiKey: number, minVersion: number, maxVersion: number): Handler => ({
  apiKey,
  minVersion,
  maxVersion,
  handle: () => null,
});

describe('HandlerRegistry', () => {
  it('rejects duplicates', () => {
    const reg = new HandlerRegistry([apiVersionsHandler]);
    assert.throws(() => reg.register(apiVersionsHandler), /duplicate/);
  });

  it('rejects versions outside the spec and unknown api keys', () => {
    const reg = new HandlerRegistry();
    const metadata = apiSpec(3)!;
    assert.throws(() => reg.register(fake(3, 0, metadata.maxVersion + 1)), /outside/);
    assert.throws(() => reg.register(fake(3, -1, 1)), /outside/);
    assert.throws(() => reg.register(fake(3, 2, 1)), /invalid version range/);
    assert.throws(() => reg.register(fake(9999, 0, 0)), /no protocol spec/);
  });

  it('advertises a lower minimum than it serves only within the spec (Produce v0 for librdkafka)', () => {
    const reg = new HandlerRegistry();
    reg.register({ ...fake(0, 3, 11), advertisedMinVersion: 0 });
    assert.deepEqual(reg.apiVersions(), [{ apiKey: 0, minVersion: 0, maxVersion: 11 }]);
    assert.equal(reg.get(0)!.handler.minVersion, 3, 'requests below v3 are still refused');
    assert.throws(() => new HandlerRegistry().register({ ...fake(0, 3, 11), advertisedMinVersion: 4 }), /advertised/);
    assert.throws(() => new HandlerRegistry().register({ ...fake(0, 3, 11), advertisedMinVersion: -1 }), /advertised/);
  });

  it('never accepts a spec’s unstable latest version', () => {
    const unstable = API_SPECS.find((s) => s.latestVersionUnstable && s.maxVersion > s.minVersion);
    if (unstable === undefined) return;
    const reg = new HandlerRegistry();
    assert.throws(() => reg.register(fake(unstable.apiKey, unstable.minVersion, unstable.maxVersion)), /outside/);
    reg.register(fake(unstable.apiKey, unstable.minVersion, unstable.maxVersion - 1));
  });

  it('advertises exactly what is registered, each range inside the spec', () => {
    const reg = new HandlerRegistry([fake(12, 0, 4), apiVersionsHandler]);
    const list = reg.apiVersions();
    assert.deepEqual(
      list.map((a) => a.apiKey),
      [12, 18],
    );
    for (const a of list) {
      const spec = apiSpec(a.apiKey)!;
      assert.ok(a.minVersion >= spec.minVersion && a.maxVersion <= spec.maxVersion);
      if (spec.latestVersionUnstable) assert.ok(a.maxVersion < spec.maxVersion);
    }
    assert.deepEqual(list[1], { apiKey: 18, minVersion: 0, maxVersion: apiSpec(18)!.maxVersion });
  });
});
