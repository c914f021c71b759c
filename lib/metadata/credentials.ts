// Access keys: create, list, delete, rotate. Each key belongs to an owner (a canonical id and
// a display name); a new user gets a fresh random 64-hex id, and a second key for the same
// owner copies both from an existing key. The server looks keys up in SQLite on every
// request, so every change here takes effect on the next request, even from another process.
import { randomBytes, randomInt } from 'node:crypto';
import type { MetadataStore } from './sqlite.ts';
import type { CredentialRow } from './types.ts';

type Row = Record<string, unknown>;

export type KeyInfo = Omit<CredentialRow, 'secretKey'>;

export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialError';
  }
}

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

function toInfo(r: Row): KeyInfo {
  return {
    accessKeyId: r.access_key_id as string,
    ownerId: r.owner_id as string,
    displayName: r.display_name as string,
    active: r.active === 1,
    createdAt: r.created_at as string,
  };
}

function existing(store: MetadataStore, accessKeyId: string): Row {
  const r = store.db.prepare('SELECT * FROM credentials WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
  if (!r) throw new CredentialError(`No access key "${accessKeyId}".`);
  return r;
}

/** Creates a key and returns it with its secret: the only time the secret is shown. */
export function createKey(store: MetadataStore, opts: CreateKeyOptions): CredentialRow {
  if ((opts.displayName === undefined) === (opts.ownerOf === undefined)) {
    throw new CredentialError('Give either a display name for a new owner or an existing access key to share an owner with.');
  }
  if (opts.displayName !== undefined && !opts.displayName.trim()) throw new CredentialError('The display name must not be empty.');
  const accessKeyId = opts.accessKeyId ?? newAccessKeyId();
  if (!ACCESS_KEY_RE.test(accessKeyId)) {
    throw new CredentialError(`Access key "${accessKeyId}" must be 3 to 128 letters, digits, dots, dashes or underscores.`);
  }
  return store.tx(() => {
    let ownerId: string;
    let displayName: string;
    if (opts.ownerOf !== undefined) {
      const other = existing(store, opts.ownerOf);
      ownerId = other.owner_id as string;
      displayName = other.display_name as string;
    } else {
      ownerId = randomBytes(32).toString('hex');
      displayName = opts.displayName!.trim();
    }
    if (store.db.prepare('SELECT 1 FROM credentials WHERE access_key_id = ?').get(accessKeyId)) {
      throw new CredentialError(`Access key "${accessKeyId}" already exists.`);
    }
    const row: CredentialRow = { accessKeyId, secretKey: newSecret(), ownerId, displayName, active: true, createdAt: new Date().toISOString() };
    store.db.prepare('INSERT INTO credentials (access_key_id, secret_key, owner_id, display_name, active, created_at) VALUES (?, ?, ?, ?, 1, ?)')
      .run(row.accessKeyId, row.secretKey, row.ownerId, row.displayName, row.createdAt);
    store.invalidate();
    return row;
  });
}

/** Every key, without secrets, ordered by owner then creation. */
export function listKeys(store: MetadataStore): KeyInfo[] {
  const rows = store.db.prepare('SELECT access_key_id, owner_id, display_name, active, created_at FROM credentials ORDER BY display_name, owner_id, created_at, access_key_id').all() as Row[];
  return rows.map(toInfo);
}

/** Deletes a key; requests signed with it fail with InvalidAccessKeyId from then on. */
export function deleteKey(store: MetadataStore, accessKeyId: string): KeyInfo {
  return store.tx(() => {
    const r = existing(store, accessKeyId);
    store.db.prepare('DELETE FROM credentials WHERE access_key_id = ?').run(accessKeyId);
    store.invalidate();
    return toInfo(r);
  });
}

/** Gives a key a new secret and returns it; the old secret stops working at once. */
export function rotateKey(store: MetadataStore, accessKeyId: string): CredentialRow {
  return store.tx(() => {
    const r = existing(store, accessKeyId);
    const secretKey = newSecret();
    store.db.prepare('UPDATE credentials SET secret_key = ? WHERE access_key_id = ?').run(secretKey, accessKeyId);
    store.invalidate();
    return { ...toInfo(r), secretKey };
  });
}

/** The same operations bound to one store, as `store.credentials` exposes them. */
export interface Credentials {
  create(opts: CreateKeyOptions): CredentialRow;
  list(): KeyInfo[];
  delete(accessKeyId: string): KeyInfo;
  rotate(accessKeyId: string): CredentialRow;
}

export function credentialsOf(store: MetadataStore): Credentials {
  return {
    create: (opts) => createKey(store, opts),
    list: () => listKeys(store),
    delete: (id) => deleteKey(store, id),
    rotate: (id) => rotateKey(store, id),
  };
}
