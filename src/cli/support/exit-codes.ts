/**
 * What the `samsa` command's exit status means, so scripts can tell failures apart:
 * 0 success; 1 the operation failed (a Kafka error, e.g. the topic exists); 2 bad usage (unknown flag, missing or
 * invalid argument); 3 no broker could be reached; 130 interrupted (Ctrl-C).
 */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  INTERRUPTED: 130,
} as const;
