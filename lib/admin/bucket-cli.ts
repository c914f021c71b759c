// `bleepstore bucket list|create|delete|info|allow`: buckets in the data directory's
// database, safe while a server runs on it (it sees the change on its next request).
import type { ProcessHooks } from '../process-hooks.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';
import { BucketOpError, createOwnedBucket, grantOnBucket } from './bucket-ops.ts';
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

const USAGE = `Usage: bleepstore bucket list [options]
       bleepstore bucket create NAME [--owner-of ACCESS_KEY] [options]
       bleepstore bucket info NAME [options]
       bleepstore bucket delete NAME [options]
       bleepstore bucket allow --read|--write --key ACCESS_KEY NAME [options]

create makes a bucket owned by the owner of --owner-of (default: the config's access key).
delete removes an empty bucket. allow grants the owner of --key READ (list) and/or WRITE
(put and delete objects) on the bucket, added to its ACL.

Options:
${STORE_USAGE}
  --json              print JSON instead of text`;

const OPTIONS = {
  ...STORE_OPTIONS,
  'owner-of': { type: 'string' },
  key: { type: 'string' },
  read: { type: 'boolean' },
  write: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const COMMANDS = ['list', 'create', 'info', 'delete', 'allow'];

function ownerOfKey(store: MetadataStore, accessKeyId: string) {
  const c = store.getCredential(accessKeyId);
  if (!c) throw new AdminError(`No access key "${accessKeyId}" (see "bleepstore keys list").`);
  return { id: c.ownerId, display_name: c.displayName };
}

function describe(store: MetadataStore, name: string) {
  const b = store.getBucket(name);
  if (!b) throw new AdminError(`No bucket named "${name}".`);
  const u = { ...store.bucketStat(name), uploads: store.uploadCount(name) };
  return {
    name: b.name,
    owner_id: b.ownerId,
    owner_display_name: b.ownerDisplay,
    region: b.region,
    created_at: b.createdAt,
    objects: u.objects,
    bytes: u.bytes,
    uploads_in_progress: u.uploads,
    grants: b.acl.grants.map((g) => ({
      grantee: g.grantee.type === 'Group' ? g.grantee.uri : g.grantee.display_name || g.grantee.id,
      permission: g.permission,
    })),
  };
}

export async function run(argv: string[], hooks: ProcessHooks): Promise<void> {
  await runAdmin('bucket', hooks, [BucketOpError], async () => {
    const { values, positionals } = parseFlags({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (values.help) return console.log(USAGE);
    if (command === undefined || !COMMANDS.includes(command))
      throw new AdminError(`a command is required: ${COMMANDS.join(', ')} (see --help).`, 2);
    if (command === 'list' ? rest.length !== 0 : rest.length !== 1)
      throw new AdminError(command === 'list' ? 'list takes no arguments.' : `${command} takes one bucket name.`, 2);
    if (command === 'allow' && (!values.key || (!values.read && !values.write)))
      throw new AdminError('allow needs --key ACCESS_KEY and --read and/or --write.', 2);
    const config = adminConfig(values);
    const store = openStore(config, command !== 'create');
    const json = values.json === true;
    const name = rest[0]!;
    try {
      switch (command) {
        case 'list': {
          const rows = store.listBuckets().map((b) => describe(store, b.name));
          if (json) return console.log(JSON.stringify(rows));
          return printTable([
            ['BUCKET', 'OWNER', 'OBJECTS', 'BYTES', 'CREATED'],
            ...rows.map((r) => [r.name, r.owner_display_name, String(r.objects), String(r.bytes), r.created_at]),
          ]);
        }
        case 'create': {
          const owner = ownerOfKey(store, values['owner-of'] ?? config.auth.access_key);
          const created = await createOwnedBucket(store, name, owner, config.server.region);
          if (json) return console.log(JSON.stringify({ created: name, owner_id: owner.id, new: created }));
          return console.log(
            created
              ? `Created bucket ${name}, owned by ${owner.display_name}.`
              : `Bucket ${name} already exists and belongs to ${owner.display_name}.`,
          );
        }
        case 'info': {
          const d = describe(store, name);
          if (json) return console.log(JSON.stringify(d));
          return console.log(
            [
              `Bucket:    ${d.name}`,
              `Owner:     ${d.owner_display_name} (${d.owner_id})`,
              `Region:    ${d.region}`,
              `Created:   ${d.created_at}`,
              `Objects:   ${d.objects}`,
              `Bytes:     ${d.bytes}`,
              `Uploads:   ${d.uploads_in_progress} in progress`,
              `Grants:    ${d.grants.map((g) => `${g.grantee}:${g.permission}`).join(', ')}`,
            ].join('\n'),
          );
        }
        case 'delete': {
          const outcome = await store.submit({ type: 'bucket.delete', name });
          if (outcome === 'missing') throw new AdminError(`No bucket named "${name}".`);
          if (outcome === 'not-empty')
            throw new AdminError(`Bucket "${name}" is not empty (objects or uploads in progress); empty it first.`);
          return console.log(json ? JSON.stringify({ deleted: name }) : `Deleted bucket ${name}.`);
        }
        case 'allow': {
          const grantee = ownerOfKey(store, values.key!);
          const perms = [...(values.read ? ['READ' as const] : []), ...(values.write ? ['WRITE' as const] : [])];
          await grantOnBucket(store, name, grantee, perms);
          if (json) return console.log(JSON.stringify({ bucket: name, grantee_id: grantee.id, permissions: perms }));
          return console.log(
            `Granted ${perms.join(' and ')} on ${name} to ${grantee.display_name} (owner of ${values.key}).`,
          );
        }
      }
    } finally {
      store.close();
    }
  });
}
