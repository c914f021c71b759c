// Placeholder until this subcommand is built.
import type { ProcessHooks } from '../cli.ts';

export async function run(_argv: string[], hooks: ProcessHooks): Promise<void> {
  console.error('bleepstore: this command is not built yet.');
  hooks.exit(2);
}
