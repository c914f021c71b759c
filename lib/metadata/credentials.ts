// Access keys: create, list, delete, rotate. Each key belongs to an owner (a canonical id and
// a display name); a new user gets a fresh random 64-hex id, and a second key for the same
// owner copies both from an existing key. The random ids and secrets are chosen here, by the
// proposer, and travel in the command; apply() only records them.
import { randomBytes, randomInt } from 'node:crypto';
import type { MetadataStore } from './sqlite.ts';
import { CredentialError } from './errors.ts';
import type { CredentialRow, KeyInfo } from './types.ts';

export { CredentialError } from './errors.ts';
export type { KeyInfo } from './types.ts';

/** Where a change goes: the store itself, or (cluster mode) the leader through the admin API. */
export type Submitter = Pick<MetadataStore, 'submit'>;

export interface CreateKeyOptions {
  /** A new owner with this display name. */
  displayName?: string;
  /** Or: another key for the owner of this existing access key. */
  ownerOf?: string;
  /** The access key id to use; generated when absent. */
  accessKeyId?: string;
}

// Characters SigV4 carries safely in `Credential=<id>/<scope>`.
const ACCESS_KEY_RE = /^[A-Za-z0-9._-]{3,128}$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function newAccessKeyId(): string {
  let id = 'BK';
  for (let i = 0; i < 18; i++) id += BASE32[randomInt(32)];
  return id;
}

function newSecret(): string {
  return randomBytes(30).toString('base64url');
}

/** Creates a key and returns it with its secret: the only time the secret is shown. */
export async function createKey(store: Submitter, opts: CreateKeyOptions): Promise<CredentialRow> {
  if ((opts.displayName === undefined) === (opts.ownerOf === undefined)) {
    throw new CredentialError(
      'Give either a display name for a new owner or an existing access key to share an owner with.',
    );
  }
  if (opts.displayName !== undefined && !opts.displayName.trim())
    throw new CredentialError('The display name must not be empty.');
  const accessKeyId = opts.accessKeyId ?? newAccessKeyId();
  if (!ACCESS_KEY_RE.test(accessKeyId)) {
    throw new CredentialError(
      `Access key "${accessKeyId}" must be 3 to 128 letters, digits, dots, dashes or underscores.`,
    );
  }
  return store.submit({
    type: 'credential.create',
    accessKeyId,
    secretKey: newSecret(),
    at: new Date().toISOString(),
    owner:
      opts.ownerOf !== undefined
        ? { of: opts.ownerOf }
        : { id: randomBytes(32).toString('hex'), displayName: opts.displayName!.trim() },
  });
}

/** Every key, without secrets, ordered by owner then creation. */
export function listKeys(store: MetadataStore): KeyInfo[] {
  return store.listKeys();
}

/** Deletes a key; requests signed with it fail with InvalidAccessKeyId from then on. */
export function deleteKey(store: Submitter, accessKeyId: string): Promise<KeyInfo> {
  return store.submit({ type: 'credential.delete', accessKeyId });
}

/** Gives a key a new secret and returns it; the old secret stops working at once. */
export function rotateKey(store: Submitter, accessKeyId: string): Promise<CredentialRow> {
  return store.submit({ type: 'credential.rotate', accessKeyId, secretKey: newSecret() });
}

/** Enables or disables a key; a disabled key's requests fail as if it did not exist. */
export function setKeyStatus(store: Submitter, accessKeyId: string, active: boolean): Promise<KeyInfo> {
  return store.submit({ type: 'credential.status', accessKeyId, active });
}

/** The same operations bound to one store, as `store.credentials` exposes them. */
export interface Credentials {
  create(opts: CreateKeyOptions): Promise<CredentialRow>;
  list(): KeyInfo[];
  delete(accessKeyId: string): Promise<KeyInfo>;
  rotate(accessKeyId: string): Promise<CredentialRow>;
}

export function credentialsOf(store: MetadataStore): Credentials {
  return {
    create: (opts) => createKey(store, opts),
    list: () => listKeys(store),
    delete: (id) => deleteKey(store, id),
    rotate: (id) => rotateKey(store, id),
  };
}
