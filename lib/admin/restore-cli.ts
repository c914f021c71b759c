// `bleepstore restore --from DIR`: puts a backup into an empty data directory.
import type { ProcessHooks } from '../process-hooks.ts';
import { restore } from './backup.ts';
import { AdminError, adminConfig, runAdmin, STORE_OPTIONS, STORE_USAGE, parseFlags } from './open-store.ts';

const USAGE = `Usage: bleepstore restore --from DIR [options]

Copies a backup made by "bleepstore backup" into the data directory, which must hold no
metadata.db yet. Start the server on it afterwards.

Options:
  --from DIR          the backup directory
${STORE_USAGE}`;

export async function run(argv: string[], hooks: ProcessHooks): Promise<void> {
  await runAdmin('restore', hooks, [], async () => {
    const { values } = parseFlags({
      args: argv,
      options: { ...STORE_OPTIONS, from: { type: 'string' } },
      strict: true,
    });
    if (values.help) return console.log(USAGE);
    if (!values.from) throw new AdminError('--from DIR is required.', 2);
    const r = await restore(adminConfig(values), values.from);
    console.log(`Restored the metadata and ${r.files} object files; start the server on this data directory.`);
  });
}
