// The one error a bad configuration raises: one sentence naming the key (lib/config.ts).
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
