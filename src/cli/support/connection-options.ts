/**
 * The options every client command shares: where the cluster is (`--bootstrap-server`, also spelled
 * `--bootstrap-servers` and `-b` as kcat does; default SAMSA_BOOTSTRAP_SERVER or localhost:9092), the client id,
 * the request timeout and the output format; and the wrapper that runs a command body and turns failures into one
 * line and an exit status.
 */
import type { Command } from 'commander';
import { describeFailure } from './errors.js';
import { type OutputFormat, outputFormat } from './output.js';

export interface CommonOptions {
  bootstrapServer?: string;
  bootstrapServers?: string;
  clientId?: string;
  requestTimeoutMs?: string;
  output?: string;
}

export interface ClientSettings {
  bootstrapServers: string[];
  clientId: string;
  requestTimeoutMs: number;
  output: OutputFormat;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('-b, --bootstrap-server <list>', 'brokers to connect to, host:port[,host:port]')
    .option('--bootstrap-servers <list>', 'alias of --bootstrap-server')
    .option('--client-id <id>', 'client id sent to the brokers', 'samsa-cli')
    .option('--request-timeout-ms <ms>', 'request timeout', '30000')
    .option('--output <format>', 'table or json', 'table');
}

export function clientSettings(opts: CommonOptions): ClientSettings {
  const list = opts.bootstrapServer ?? opts.bootstrapServers ?? process.env.SAMSA_BOOTSTRAP_SERVER ?? 'localhost:9092';
  return {
    bootstrapServers: list
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    clientId: opts.clientId ?? 'samsa-cli',
    requestTimeoutMs: Number(opts.requestTimeoutMs ?? 30000),
    output: outputFormat(opts.output),
  };
}

/** Runs a command body; a failure prints one line on stderr and sets the exit status. */
export async function runCommand(
  opts: CommonOptions,
  body: (settings: ClientSettings) => Promise<void>,
): Promise<void> {
  let settings: ClientSettings | undefined;
  try {
    settings = clientSettings(opts);
    await body(settings);
  } catch (e) {
    const { line, exitCode } = describeFailure(e, settings?.bootstrapServers ?? ['localhost:9092']);
    process.stderr.write(`samsa: ${line}\n`);
    process.exitCode = exitCode;
  }
}
