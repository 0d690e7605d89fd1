/**
 * Turns anything a command throws into one line for people and an exit status for scripts: a broker that does not
 * answer says which address and what to do; a Kafka error gives Kafka's name for it and the broker's message; a
 * usage problem says what was wrong with the arguments.
 */
import { KafkaClientError, KafkaConnectionError, KafkaTimeoutError } from '../../client/errors.js';
import { KafkaError } from '../../protocol/errors.js';
import { ExitCode } from './exit-codes.js';

/** A problem with the command line itself (exit status 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure whose message is already the one line to print (exit status 1 unless given). */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.FAILED,
  ) {
    super(message);
  }
}

export function describeFailure(e: unknown, bootstrap: readonly string[]): { line: string; exitCode: number } {
  if (e instanceof UsageError) return { line: e.message, exitCode: ExitCode.USAGE };
  if (e instanceof CommandError) return { line: e.message, exitCode: e.exitCode };
  if (e instanceof KafkaConnectionError && e.message.startsWith('no broker answers')) {
    return {
      line: `no broker answers at ${bootstrap.join(', ')}: is \`samsa start\` running? (or pass --bootstrap-server)`,
      exitCode: ExitCode.UNREACHABLE,
    };
  }
  if (e instanceof KafkaConnectionError || e instanceof KafkaTimeoutError) {
    return { line: `${e.message}`, exitCode: ExitCode.UNREACHABLE };
  }
  if (e instanceof KafkaError) return { line: `${e.errorName}: ${e.message}`, exitCode: ExitCode.FAILED };
  if (e instanceof KafkaClientError) return { line: e.message, exitCode: ExitCode.FAILED };
  return { line: e instanceof Error ? e.message : String(e), exitCode: ExitCode.FAILED };
}
