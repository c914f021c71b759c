// `bleepstore keys create|list|delete|rotate`: access keys in the data directory's database,
// safe while a server runs on it (the server reads keys on every request).
import type { ProcessHooks } from '../process-hooks.ts';
import { createKey, CredentialError, deleteKey, listKeys, rotateKey, type KeyInfo } from '../metadata/credentials.ts';
import type { CredentialRow } from '../metadata/types.ts';
import type { Config } from '../config.ts';
import {
  AdminError,
  adminConfig,
  openStore,
  printTable,
  runAdmin,
  STORE_OPTIONS,
  STORE_USAGE,
  parseFlags,
} from './open-store.ts';

const USAGE = `Usage: bleepstore keys create --display-name NAME [--access-key ID] [options]
       bleepstore keys create --owner-of ACCESS_KEY [--access-key ID] [options]
       bleepstore keys list [options]
       bleepstore keys delete ACCESS_KEY [options]
       bleepstore keys rotate ACCESS_KEY [options]

create makes a key for a new owner (--display-name), or another key for the owner of an
existing key (--owner-of). create and rotate print the secret once; nothing shows it again.

Options:
${STORE_USAGE}
  --json              print JSON instead of text`;

const OPTIONS = {
  ...STORE_OPTIONS,
  'display-name': { type: 'string' },
  'owner-of': { type: 'string' },
  'access-key': { type: 'string' },
  json: { type: 'boolean' },
} as const;

function printSecret(row: CredentialRow, json: boolean, verb: string): void {
  if (json) {
    console.log(
      JSON.stringify({
        access_key_id: row.accessKeyId,
        secret_key: row.secretKey,
        owner_id: row.ownerId,
        display_name: row.displayName,
      }),
    );
    return;
  }
  console.log(`${verb} access key for ${row.displayName}
  Access key:   ${row.accessKeyId}
  Secret key:   ${row.secretKey}
  Owner id:     ${row.ownerId}
The secret key is shown only this once; store it now.`);
}

function printList(keys: KeyInfo[], json: boolean): void {
  if (json) {
    console.log(
      JSON.stringify(
        keys.map((k) => ({
          access_key_id: k.accessKeyId,
          owner_id: k.ownerId,
          display_name: k.displayName,
          active: k.active,
          created_at: k.createdAt,
        })),
      ),
    );
    return;
  }
  printTable([
    ['ACCESS KEY', 'DISPLAY NAME', 'OWNER ID', 'CREATED'],
    ...keys.map((k) => [k.accessKeyId, k.displayName, k.ownerId, k.createdAt]),
  ]);
}

/** The config's own key is re-seeded from the config on every server start. */
function noteConfigKey(config: Config, accessKeyId: string): void {
  if (accessKeyId === config.auth.access_key) {
    console.error(
      `bleepstore keys: note: "${accessKeyId}" is the key in the server's config; the server restores it from the config when it next starts.`,
    );
  }
}

export async function run(argv: string[], hooks: ProcessHooks): Promise<void> {
  await runAdmin('keys', hooks, [CredentialError], async () => {
    const { values, positionals } = parseFlags({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (values.help) return console.log(USAGE);
    if (command === undefined)
      throw new AdminError('a command is required: create, list, delete or rotate (see --help).', 2);
    const wantsKey = command === 'delete' || command === 'rotate';
    if (!['create', 'list', 'delete', 'rotate'].includes(command))
      throw new AdminError(`unknown command "${command}"; use create, list, delete or rotate.`, 2);
    if (wantsKey ? rest.length !== 1 : rest.length !== 0) {
      throw new AdminError(
        wantsKey ? `${command} takes one access key.` : `${command} takes no arguments (got "${rest.join(' ')}").`,
        2,
      );
    }
    if (
      command !== 'create' &&
      (values['display-name'] !== undefined || values['owner-of'] !== undefined || values['access-key'] !== undefined)
    ) {
      throw new AdminError('--display-name, --owner-of and --access-key belong to create.', 2);
    }
    const config = adminConfig(values);
    const store = openStore(config, command !== 'create');
    const json = values.json === true;
    try {
      switch (command) {
        case 'create': {
          const row = await createKey(store, {
            ...(values['display-name'] !== undefined ? { displayName: values['display-name'] } : {}),
            ...(values['owner-of'] !== undefined ? { ownerOf: values['owner-of'] } : {}),
            ...(values['access-key'] !== undefined ? { accessKeyId: values['access-key'] } : {}),
          });
          return printSecret(row, json, 'Created');
        }
        case 'list':
          return printList(listKeys(store), json);
        case 'delete': {
          const gone = await deleteKey(store, rest[0]!);
          if (json) console.log(JSON.stringify({ deleted: gone.accessKeyId }));
          else
            console.log(
              `Deleted access key ${gone.accessKeyId} (${gone.displayName}); requests signed with it now fail.`,
            );
          return noteConfigKey(config, gone.accessKeyId);
        }
        case 'rotate': {
          const row = await rotateKey(store, rest[0]!);
          printSecret(row, json, 'Rotated');
          return noteConfigKey(config, row.accessKeyId);
        }
      }
    } finally {
      store.close();
    }
  });
}
