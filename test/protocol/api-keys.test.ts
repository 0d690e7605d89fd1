import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  API_SPECS,
  ApiKey,
  apiSpec,
  Reader,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeRequestHeader,
} from '../../src/protocol/index.js';

const specDir = new URL('../../../../shared/kafka-protocol/messages/', import.meta.url);

test('the API table matches the specs in ../shared when they are present', (t) => {
  if (!existsSync(specDir)) {
    t.skip('../shared/kafka-protocol is not beside this checkout');
    return;
  }
  let requests = 0;
  for (const file of readdirSync(specDir).filter((f) => f.endsWith('Request.json'))) {
    const text = readFileSync(new URL(file, specDir), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*\/\//.test(l))
      .join('\n');
    const spec = JSON.parse(text) as { apiKey?: number; validVersions: string; flexibleVersions: string };
    if (spec.apiKey === undefined) continue;
    requests++;
    const api = apiSpec(spec.apiKey);
    assert.ok(api, `api key ${spec.apiKey} (${file}) is in the table`);
    const [lo, hi] = spec.validVersions.split('-').map(Number);
    assert.equal(api.minVersion, lo, file);
    assert.equal(api.maxVersion, hi ?? lo, file);
    const flex = spec.flexibleVersions === 'none' ? -1 : Number.parseInt(spec.flexibleVersions, 10);
    assert.equal(api.firstFlexibleVersion, flex, file);
  }
  assert.equal(requests, API_SPECS.length);
});

test('header versions follow flexible versions, with the two historical exceptions', () => {
  assert.equal(requestHeaderVersion(ApiKey.Produce, 8), 1);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 9), 2);
  assert.equal(responseHeaderVersion(ApiKey.Produce, 9), 1);
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0);
  // ApiVersions responses always use header v0 so that a client can read them before negotiating.
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
});

test('the request header keeps ClientId as a non-compact string even in the flexible version', () => {
  const w = new Writer();
  writeRequestHeader(w, 2, { requestApiKey: 18, requestApiVersion: 3, correlationId: 42, clientId: 'kcat' });
  const b = w.toBuffer();
  // api key, version, correlation id, int16 length 4, 'kcat', empty tagged fields.
  assert.equal(
    b.toString('hex'),
    ['0012', '0003', '0000002a', '0004', Buffer.from('kcat').toString('hex'), '00'].join(''),
  );
  const h = readRequestHeader(new Reader(b), 2);
  assert.equal(h.clientId, 'kcat');
  assert.equal(h.correlationId, 42);
});
