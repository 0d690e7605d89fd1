/**
 * The third-party clients the compatibility tests drive, each probed once per test process and only when a test
 * file asks for it (a probe starts a process): kcat, confluent-kafka-python and kafka-python with the optional
 * codec libraries it found. The results feed `skipUnless` / `requireTool` in harness.ts.
 */
import { type Codec, PYTHON, probeTool, type Tool } from './harness.js';

let kcat: Tool | undefined;
let confluent: Tool | undefined;
let kafkaPython: Tool | undefined;

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
