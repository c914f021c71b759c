// `bleepstore backup --out DIR`: a consistent copy of a data directory, also while a server runs.
import type { ProcessHooks } from '../process-hooks.ts';
import { backup } from './backup.ts';
import { AdminError, adminConfig, runAdmin, STORE_OPTIONS, STORE_USAGE, parseFlags } from './open-store.ts';

const USAGE = `Usage: bleepstore backup --out DIR [options]

Copies the metadata (a consistent SQLite snapshot) and every object file it references into
DIR (new or empty), while the server keeps running. Restore with "bleepstore restore --from DIR".

Options:
  --out DIR           where the backup goes
${STORE_USAGE}
  --json              print JSON instead of text`;

export async function run(argv: string[], hooks: ProcessHooks): Promise<void> {
  await runAdmin('backup', hooks, [], async () => {
    const { values } = parseFlags({
      args: argv,
      options: { ...STORE_OPTIONS, out: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    });
    if (values.help) return console.log(USAGE);
    if (!values.out) throw new AdminError('--out DIR is required.', 2);
    const r = await backup(adminConfig(values), values.out);
    console.log(
      values.json
        ? JSON.stringify(r)
        : `Backed up the metadata and ${r.files} object files (${r.bytes} bytes) to ${values.out}.`,
    );
  });
}
