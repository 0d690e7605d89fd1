/**
 * The third-party clients the compatibility tests drive, each probed once per test process and only when a test
 * file asks for it (a probe starts a process): kcat, confluent-kafka-python, kafka-python with the optional codec
 * libraries it found, and @platformatic/kafka with the Node it runs on. The results feed `skipUnless` /
 * `requireTool` in harness.ts.
 */
import { fileURLToPath } from 'node:url';
import { type Codec, PYTHON, probeTool, type Tool } from './harness.js';

let kcat: Tool | undefined;
let confluent: Tool | undefined;
let kafkaPython: Tool | undefined;
let platformatic: Tool | undefined;

/** kcat, with the librdkafka it runs on in `details.librdkafka`. */
export function kcatTool(): Tool {
  kcat ??= probeTool('kcat', 'kcat', ['-V'], (out) => {
    const m = /Version (\S+) .*librdkafka (\S+) /.exec(out);
    if (m === null) throw new Error(`unexpected kcat -V output: ${out}`);
    return { version: m[1]!, details: { librdkafka: m[2]! } };
  });
  return kcat;
}

/** confluent-kafka-python (Debian's, through /usr/bin/python3), with its librdkafka in `details.librdkafka`. */
export function confluentTool(): Tool {
  confluent ??= probeTool(
    'confluent-kafka-python',
    PYTHON,
    ['-c', 'import confluent_kafka as c; print(c.version()[0], c.libversion()[0])'],
    (out) => {
      const [version, librdkafka] = out.trim().split(' ');
      if (!version || !librdkafka) throw new Error(`unexpected output: ${out}`);
      return { version, details: { librdkafka } };
    },
  );
  return confluent;
}

/** kafka-python, with `details.snappy/lz4/zstd` '1' when the codec library it needs is importable. */
export function kafkaPythonTool(): Tool {
  kafkaPython ??= probeTool(
    'kafka-python',
    PYTHON,
    [
      '-c',
      'import kafka, kafka.codec as c; print(kafka.__version__, *(int(f()) for f in (c.has_snappy, c.has_lz4, c.has_zstd)))',
    ],
    (out) => {
      const [version, snappy, lz4, zstd] = out.trim().split(' ');
      if (!version || zstd === undefined) throw new Error(`unexpected output: ${out}`);
      return { version, details: { snappy: snappy!, lz4: lz4!, zstd: zstd } };
    },
  );
  return kafkaPython;
}

/**
 * The @platformatic/kafka client scripts (plain JavaScript, not compiled by tsc): they run from their place in the
 * source tree, where '@platformatic/kafka' resolves from the repository's node_modules. This file runs from
 * dist/test/compat/.
 */
export const PLATFORMATIC_CLIENT_SCRIPT = fileURLToPath(
  new URL('../../../test/compat/broker/platformatic-client.mjs', import.meta.url),
);

/** The package's `engines`: ">= 22.22.0 || >= 24.6.0", i.e. 22.22 or newer. */
function nodeIsNewEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 22);
}

/**
 * @platformatic/kafka (npm devDependency), which needs Node >= 22.22 while the suite also runs on Node 20: its
 * scripts run as child processes on this Node when it is new enough, otherwise on the Node named by
 * SAMSA_NODE22_BIN (set by .ci/run). `details.node` is the Node binary to run them with.
 */
export function platformaticTool(): Tool {
  if (platformatic !== undefined) return platformatic;
  const name = '@platformatic/kafka';
  const node = nodeIsNewEnough(process.version) ? process.execPath : process.env.SAMSA_NODE22_BIN;
  if (node === undefined || node === '') {
    platformatic = {
      name,
      missing: `${name} needs Node >= 22.22; this is Node ${process.version} and SAMSA_NODE22_BIN is not set`,
      details: {},
    };
    return platformatic;
  }
  platformatic = probeTool(name, node, [PLATFORMATIC_CLIENT_SCRIPT, '--version'], (out) => {
    const info = JSON.parse(out) as { node: string; version: string };
    if (!nodeIsNewEnough(info.node)) throw new Error(`${node} is Node ${info.node}, ${name} needs >= 22.22`);
    return { version: info.version, details: { node, nodeVersion: info.node } };
  });
  return platformatic;
}

/** The Python library each optional kafka-python codec needs (Debian package names). */
const CODEC_LIBRARY: Partial<Record<Codec, string>> = {
  snappy: 'python3-snappy',
  lz4: 'python3-lz4',
  zstd: 'python3-zstandard',
};

/** The `skip` option for a kafka-python test of `codec`: skipped outside CI when its codec library is missing. */
export function kafkaPythonCodecSkip(codec: Codec): string | false {
  const tool = kafkaPythonTool();
  const lib = CODEC_LIBRARY[codec];
  if (lib === undefined || tool.missing !== undefined || tool.details[codec] === '1') return false;
  // CI installs the codec libraries (.ci/run), so there a missing one fails the test instead of skipping it.
  if (process.env.CI) return false;
  return `kafka-python needs ${lib} for ${codec}; it is not installed here (.ci/run installs it)`;
}
