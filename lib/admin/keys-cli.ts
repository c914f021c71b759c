// `bleepstore keys create|list|delete|rotate`: access keys in the data directory's database,
// safe while a server runs on it (the server reads keys on every request).
import type { ProcessHooks } from '../process-hooks.ts';
import { createKey, CredentialError, deleteKey, listKeys, rotateKey, type KeyInfo } from '../metadata/credentials.ts';
import type { CredentialRow } from '../metadata/types.ts';
import { ADMIN_OPTIONS, ADMIN_USAGE, adminBase, runningServer, type AdminApi } from './admin-client.ts';
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

/** The key operations, against the database file or a running server's admin API. */
interface KeyOps {
  create(o: { displayName?: string; ownerOf?: string; accessKeyId?: string }): Promise<CredentialRow>;
  list(): Promise<KeyInfo[]>;
  delete(id: string): Promise<KeyInfo>;
  rotate(id: string): Promise<CredentialRow>;
  close(): void;
}

function fileOps(config: Config, mustExist: boolean): KeyOps {
  const store = openStore(config, mustExist);
  return {
    create: (o) => createKey(store, o),
    list: async () => listKeys(store),
    delete: (id) => deleteKey(store, id),
    rotate: (id) => rotateKey(store, id),
    close: () => store.close(),
  };
}

const keyInfo = (j: Record<string, unknown>): KeyInfo => ({
  accessKeyId: String(j.access_key_id),
  ownerId: String(j.owner_id),
  displayName: String(j.display_name),
  active: j.status === 'active',
  createdAt: String(j.created_at),
});
const keyRow = (j: Record<string, unknown>): CredentialRow => ({
  ...keyInfo(j),
  secretKey: String(j.secret_access_key),
});

function apiOps(api: AdminApi): KeyOps {
  const keyPath = (id: string) => `/admin/credentials/${encodeURIComponent(id)}`;
  return {
    create: async (o) =>
      keyRow(
        await api.call('POST', '/admin/credentials', {
          ...(o.displayName !== undefined ? { display_name: o.displayName } : {}),
          ...(o.ownerOf !== undefined ? { owner_of: o.ownerOf } : {}),
          ...(o.accessKeyId !== undefined ? { access_key_id: o.accessKeyId } : {}),
        }),
      ),
    list: async () =>
      ((await api.call('GET', '/admin/credentials')).credentials as Record<string, unknown>[]).map(keyInfo),
    delete: async (id) => {
      const k = keyInfo(await api.call('GET', keyPath(id)));
      await api.call('DELETE', keyPath(id));
      return k;
    },
    rotate: async (id) => keyRow(await api.call('POST', `${keyPath(id)}/rotate`)),
    close() {},
  };
}

const USAGE = `Usage: bleepstore keys create --display-name NAME [--access-key ID] [options]
       bleepstore keys create --owner-of ACCESS_KEY [--access-key ID] [options]
       bleepstore keys list [options]
       bleepstore keys delete ACCESS_KEY [options]
       bleepstore keys rotate ACCESS_KEY [options]

create makes a key for a new owner (--display-name), or another key for the owner of an
existing key (--owner-of). create and rotate print the secret once; nothing shows it again.

While a server runs (its admin API answers at server.admin_port), the change goes through
it; in cluster mode it is a Raft entry every node applies, and the admin API is required.
Otherwise the command opens the data directory's database itself.

Options:
${STORE_USAGE}
${ADMIN_USAGE}
  --json              print JSON instead of text`;

const OPTIONS = {
  ...STORE_OPTIONS,
  ...ADMIN_OPTIONS,
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
    const api = await runningServer(config, values);
    if (!api && config.cluster.enabled)
      throw new AdminError(
        `cluster mode: access keys change through a running node's admin API (a direct write would reach one replica only), and none answers at ${adminBase(config, values) ?? '(server.admin_port is not set)'}; start the node or pass --admin-url`,
      );
    if (api) console.error(`bleepstore keys: through the running server's admin API at ${api.base}`);
    const store = api ? apiOps(api) : fileOps(config, command !== 'create');
    const json = values.json === true;
    try {
      switch (command) {
        case 'create': {
          const row = await store.create({
            ...(values['display-name'] !== undefined ? { displayName: values['display-name'] } : {}),
            ...(values['owner-of'] !== undefined ? { ownerOf: values['owner-of'] } : {}),
            ...(values['access-key'] !== undefined ? { accessKeyId: values['access-key'] } : {}),
          });
          return printSecret(row, json, 'Created');
        }
        case 'list':
          return printList(await store.list(), json);
        case 'delete': {
          const gone = await store.delete(rest[0]!);
          if (json) console.log(JSON.stringify({ deleted: gone.accessKeyId }));
          else
            console.log(
              `Deleted access key ${gone.accessKeyId} (${gone.displayName}); requests signed with it now fail.`,
            );
          return noteConfigKey(config, gone.accessKeyId);
        }
        case 'rotate': {
          const row = await store.rotate(rest[0]!);
          printSecret(row, json, 'Rotated');
          return noteConfigKey(config, row.accessKeyId);
        }
      }
    } finally {
      store.close();
    }
  });
}
