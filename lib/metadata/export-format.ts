// The record format of specs/metadata-serialization.md, table by table: which fields each
// record has, how a SQLite row becomes a record and back, and what a valid record is.
//
// Our own columns beyond the spec (file_id, checksums, an object's owner, ...) travel in one
// extra member per record, `x_bleepstore`. file_id matters most: object files are named by
// it, so metadata plus a copy of the objects/ directory is the whole store on another
// machine. A record without it cannot be imported here, since nothing would find its bytes.
import type { DatabaseSync } from 'node:sqlite';
import type { Acl, Grant, Permission } from './types.ts';

// bucket_notifications and object_versions are ours, beyond the spec's five: without them a
// restore would silently drop every bucket's event routing (PutBucketNotificationConfiguration)
// and every noncurrent version and delete marker of a versioned bucket.
export const TABLES = [
  'buckets',
  'objects',
  'object_versions',
  'multipart_uploads',
  'multipart_parts',
  'credentials',
  'bucket_notifications',
] as const;
export type TableName = (typeof TABLES)[number];
export const EXTENSION = 'x_bleepstore';
export const REDACTED = 'REDACTED';
const META_PREFIX = 'x-amz-meta-';

type Kind = 'text' | 'nullable' | 'int' | 'bool' | 'acl' | 'meta' | 'time' | 'rules';

const CONTENT: Record<string, Kind> = {
  content_type: 'text',
  content_encoding: 'nullable',
  content_language: 'nullable',
  content_disposition: 'nullable',
  cache_control: 'nullable',
  expires: 'nullable',
  storage_class: 'text',
  acl: 'acl',
  user_metadata: 'meta',
};

/** An object version's record, current (objects) or not (object_versions). */
const OBJECT: Record<string, Kind> = {
  bucket: 'text',
  key: 'text',
  size: 'int',
  etag: 'text',
  ...CONTENT,
  last_modified: 'time',
  delete_marker: 'bool',
};

export const FIELDS: Record<TableName, Record<string, Kind>> = {
  buckets: { name: 'text', region: 'text', owner_id: 'text', owner_display: 'text', acl: 'acl', created_at: 'time' },
  objects: OBJECT,
  // A version's id and its place among its key's versions (seq) travel in x_bleepstore.
  object_versions: OBJECT,
  multipart_uploads: {
    upload_id: 'text',
    bucket: 'text',
    key: 'text',
    ...CONTENT,
    owner_id: 'text',
    owner_display: 'text',
    initiated_at: 'time',
  },
  multipart_parts: { upload_id: 'text', part_number: 'int', size: 'int', etag: 'text', last_modified: 'time' },
  credentials: {
    access_key_id: 'text',
    secret_key: 'text',
    owner_id: 'text',
    display_name: 'text',
    active: 'bool',
    created_at: 'time',
  },
  bucket_notifications: { bucket: 'text', rules: 'rules' },
};

/** Export order: the primary key. */
export const ORDER: Record<TableName, string> = {
  buckets: 'name',
  objects: 'bucket, key',
  object_versions: 'bucket, key, seq, version_id',
  multipart_uploads: 'upload_id',
  multipart_parts: 'upload_id, part_number',
  credentials: 'access_key_id',
  bucket_notifications: 'bucket',
};

type Row = Record<string, unknown>;
export type JsonRecord = Record<string, unknown>;

export interface Column {
  name: string;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

/** The table's columns as SQLite knows them. */
export function columnsOf(db: DatabaseSync, table: TableName): Column[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as Row[]).map((c) => ({
    name: c.name as string,
    type: String(c.type).toUpperCase(),
    notNull: c.notnull === 1,
    hasDefault: c.dflt_value !== null,
  }));
}

/** Recursively sorted keys, so JSON.stringify output is stable and diffable. */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

export function rowToRecord(table: TableName, row: Row, includeSecrets: boolean): JsonRecord {
  const fields = FIELDS[table];
  const rec: JsonRecord = {};
  const ext: JsonRecord = {};
  for (const [col, value] of Object.entries(row)) {
    const kind = fields[col];
    if (kind === undefined) ext[col] = value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
    else if (kind === 'bool') rec[col] = value === 1;
    else if (kind === 'acl' || kind === 'rules') rec[col] = JSON.parse(value as string);
    else if (kind === 'meta') {
      const meta = JSON.parse(value as string) as Record<string, string>;
      rec[col] = Object.fromEntries(Object.entries(meta).map(([k, v]) => [META_PREFIX + k, v]));
    } else rec[col] = value;
  }
  if (table === 'credentials' && !includeSecrets) rec.secret_key = REDACTED;
  if (Object.keys(ext).length) rec[EXTENSION] = ext;
  return rec;
}

/** A record's problem, reported with the record's line by the caller. */
export class RecordError extends Error {}

const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const PERMISSIONS: readonly Permission[] = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'];
const FILE_ID_RE = /^[0-9a-f]{32}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An ACL from a record; `{}` (the spec's "default") means private to `owner`. */
function toAcl(v: unknown, field: string, owner: { id: string; display_name: string } | undefined): Acl | null {
  if (!isObject(v)) throw new RecordError(`"${field}" must be an object`);
  if (Object.keys(v).length === 0) return owner ? privateAcl(owner) : null;
  const o = v.owner;
  if (
    !isObject(o) ||
    typeof o.id !== 'string' ||
    (o.display_name !== undefined && typeof o.display_name !== 'string')
  ) {
    throw new RecordError(`"${field}.owner" must be an object with a string "id"`);
  }
  if (!Array.isArray(v.grants)) throw new RecordError(`"${field}.grants" must be an array`);
  const grants = v.grants.map((g, i): Grant => {
    const at = `"${field}.grants[${i}]"`;
    if (!isObject(g) || !isObject(g.grantee)) throw new RecordError(`${at} must have a "grantee" object`);
    if (!PERMISSIONS.includes(g.permission as Permission))
      throw new RecordError(`${at}.permission must be one of ${PERMISSIONS.join(', ')}`);
    const who = g.grantee;
    const permission = g.permission as Permission;
    if (who.type === 'CanonicalUser' && typeof who.id === 'string') {
      return {
        grantee: {
          type: 'CanonicalUser',
          id: who.id,
          ...(typeof who.display_name === 'string' ? { display_name: who.display_name } : {}),
        },
        permission,
      };
    }
    if (who.type === 'Group' && typeof who.uri === 'string')
      return { grantee: { type: 'Group', uri: who.uri }, permission };
    throw new RecordError(`${at}.grantee must be a CanonicalUser with an "id" or a Group with a "uri"`);
  });
  return { owner: { id: o.id, display_name: (o.display_name as string | undefined) ?? '' }, grants };
}

/** A NotificationRule as lib/events/notification-config.ts stores it. */
function isRule(r: unknown): boolean {
  return (
    isObject(r) &&
    ['id', 'kind', 'arn', 'target', 'prefix', 'suffix'].every((k) => typeof r[k] === 'string') &&
    Array.isArray(r.events) &&
    r.events.every((e) => typeof e === 'string')
  );
}

function checkField(table: TableName, name: string, kind: Kind, v: unknown): void {
  const bad = (what: string): never => {
    throw new RecordError(`${table} record: "${name}" must be ${what} (got ${JSON.stringify(v) ?? 'nothing'})`);
  };
  switch (kind) {
    case 'text':
      if (typeof v !== 'string') bad('a string');
      break;
    case 'nullable':
      if (v !== null && v !== undefined && typeof v !== 'string') bad('a string or null');
      break;
    case 'int':
      if (!Number.isSafeInteger(v) || (v as number) < 0) bad('a non-negative integer');
      break;
    case 'bool':
      if (typeof v !== 'boolean') bad('true or false');
      break;
    case 'time':
      if (typeof v !== 'string' || !TIME_RE.test(v)) bad('an ISO 8601 UTC time such as 2026-02-25T12:00:00.000Z');
      break;
    case 'meta':
      if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) bad('an object of strings');
      break;
    case 'rules':
      if (!Array.isArray(v) || !v.every(isRule)) bad('an array of notification rules');
      break;
    case 'acl':
      break;
  }
}

export interface CheckedRecord {
  /** Column → value, ready for INSERT (ACL and metadata as JSON text). */
  row: Row;
  /** An ACL given as `{}` whose owner is the bucket's; resolved when the bucket is known. */
  aclNeedsBucketOwner: boolean;
}

/** Validates a record and turns it into a row; `columns` are the table's real columns. */
export function recordToRow(table: TableName, rec: unknown, columns: readonly Column[]): CheckedRecord {
  if (!isObject(rec)) throw new RecordError(`${table} record must be an object`);
  const fields = FIELDS[table];
  for (const k of Object.keys(rec)) {
    if (k !== EXTENSION && fields[k] === undefined)
      throw new RecordError(`${table} record has an unknown field "${k}"`);
  }
  const row: Row = {};
  for (const [name, kind] of Object.entries(fields)) {
    const v = rec[name];
    checkField(table, name, kind, v);
    if (kind === 'bool') row[name] = v ? 1 : 0;
    else if (kind === 'meta') {
      row[name] = JSON.stringify(
        Object.fromEntries(
          Object.entries(v as Record<string, string>).map(([k, x]) => {
            const lower = k.toLowerCase();
            return [lower.startsWith(META_PREFIX) ? lower.slice(META_PREFIX.length) : lower, x];
          }),
        ),
      );
    } else if (kind === 'rules') row[name] = JSON.stringify(v);
    else if (kind !== 'acl') row[name] = v ?? null;
  }
  if (table === 'multipart_parts' && ((row.part_number as number) < 1 || (row.part_number as number) > 10000)) {
    throw new RecordError(`${table} record: "part_number" must be from 1 to 10000`);
  }

  const ext = rec[EXTENSION] ?? {};
  if (!isObject(ext)) throw new RecordError(`${table} record: "${EXTENSION}" must be an object`);
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const [k, v] of Object.entries(ext)) {
    const col = byName.get(k);
    if (!col || fields[k] !== undefined)
      throw new RecordError(`${table} record: "${EXTENSION}.${k}" is not a column this store has`);
    const ok = v === null ? !col.notNull : col.type === 'INTEGER' ? Number.isSafeInteger(v) : typeof v === 'string';
    if (!ok)
      throw new RecordError(
        `${table} record: "${EXTENSION}.${k}" must be ${col.type === 'INTEGER' ? 'an integer' : 'a string'}${col.notNull ? '' : ' or null'}`,
      );
    // BLOB columns (an inline object's bytes) travel as base64 text.
    row[k] = col.type === 'BLOB' && typeof v === 'string' ? Buffer.from(v, 'base64') : v;
  }
  for (const col of columns) {
    if (col.notNull && !col.hasDefault && !(col.name in row) && fields[col.name] === undefined) {
      const why =
        col.name === 'file_id' ? ', which names the file holding its bytes (export from BleepStore to get it)' : '';
      throw new RecordError(`${table} record has no "${EXTENSION}.${col.name}"${why}`);
    }
  }
  // An object kept inline (inline_data) has no file: its file_id is ''; nor has a delete marker.
  const noFile =
    (table === 'objects' || table === 'object_versions') &&
    row.file_id === '' &&
    (row.inline_data != null || row.delete_marker === 1);
  if ('file_id' in row && !noFile && !FILE_ID_RE.test(String(row.file_id)))
    throw new RecordError(`${table} record: "${EXTENSION}.file_id" must be 32 lower-case hex digits`);

  let aclNeedsBucketOwner = false;
  if ('acl' in fields) {
    const ownerId = (table === 'objects' ? row.owner_id : rec.owner_id) as string | undefined;
    const ownerDisplay = (table === 'objects' ? row.owner_display : rec.owner_display) as string | undefined;
    const owner = ownerId ? { id: ownerId, display_name: ownerDisplay ?? '' } : undefined;
    const acl = toAcl(rec.acl, 'acl', owner);
    if (acl) row.acl = JSON.stringify(acl);
    else aclNeedsBucketOwner = true;
  }
  return { row, aclNeedsBucketOwner };
}

/** The ACL an `{}` in a record stands for: the owner has FULL_CONTROL, nobody else anything. */
export function privateAcl(owner: { id: string; display_name: string }): Acl {
  return {
    owner: { ...owner },
    grants: [
      {
        grantee: { type: 'CanonicalUser', id: owner.id, display_name: owner.display_name },
        permission: 'FULL_CONTROL',
      },
    ],
  };
}
