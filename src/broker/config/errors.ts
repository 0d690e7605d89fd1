/** The error for a broker configuration that cannot be used; its message is one line naming the key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
