// All SQL lives here. node:sqlite is synchronous; each call is a short indexed query, and
// every write is one transaction, so the event loop is held only for the commit itself.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Durability } from '../config.ts';
import { MIGRATIONS } from './schema.ts';
import type {
  Acl, BucketRow, ContentHeaders, CredentialRow, ListedObject, ObjectRow, StoredChecksum, WriteCondition,
} from './types.ts';

type Row = Record<string, unknown>;

const SYNC_MODE: Record<Durability, string> = { full: 'FULL', normal: 'NORMAL', off: 'OFF' };

export class PreconditionError extends Error {
  /** 'failed' → 412 PreconditionFailed; 'missing' → the If-Match target does not exist. */
  readonly reason: 'failed' | 'missing';
  constructor(reason: 'failed' | 'missing') {
    super(`precondition ${reason}`);
    this.reason = reason;
  }
}

function toBucket(r: Row): BucketRow {
  return {
    name: r.name as string,
    region: r.region as string,
    ownerId: r.owner_id as string,
    ownerDisplay: r.owner_display as string,
    acl: JSON.parse(r.acl as string) as Acl,
    createdAt: r.created_at as string,
  };
}

/** A Buffer view of a BLOB value, without copying it. */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

const OBJECT_COLUMNS_WITHOUT_DATA = `bucket, key, file_id, size, etag, content_type, content_encoding, content_language,
  content_disposition, cache_control, expires, storage_class, acl, user_metadata, last_modified, checksum_algorithm,
  checksum_value, checksum_type, parts_count, owner_id, owner_display`;

/** The columns objects and multipart uploads share: content headers, class, ACL, metadata. */
export function describedColumns(r: Row): ContentHeaders & { storageClass: string; acl: Acl; userMetadata: Record<string, string> } {
  return {
    contentType: r.content_type as string,
    contentEncoding: r.content_encoding as string | null,
    contentLanguage: r.content_language as string | null,
    contentDisposition: r.content_disposition as string | null,
    cacheControl: r.cache_control as string | null,
    expires: r.expires as string | null,
    storageClass: r.storage_class as string,
    acl: JSON.parse(r.acl as string) as Acl,
    userMetadata: JSON.parse(r.user_metadata as string) as Record<string, string>,
  };
}

function toObject(r: Row): ObjectRow {
  const algorithm = r.checksum_algorithm as StoredChecksum['algorithm'] | null;
  return {
    bucket: r.bucket as string,
    key: r.key as string,
    fileId: r.file_id as string,
    size: r.size as number,
    etag: r.etag as string,
    ...describedColumns(r),
    lastModified: r.last_modified as string,
    checksum: algorithm
      ? { algorithm, value: r.checksum_value as string, type: (r.checksum_type as StoredChecksum['type']) ?? 'FULL_OBJECT' }
      : null,
    partsCount: (r.parts_count as number | null) ?? null,
    inline: r.inline_data ? asBuffer(r.inline_data as Uint8Array) : null,
    ownerId: r.owner_id as string,
    ownerDisplay: r.owner_display as string,
  };
}

function toCredential(r: Row): CredentialRow {
  return {
    accessKeyId: r.access_key_id as string,
    secretKey: r.secret_key as string,
    ownerId: r.owner_id as string,
    displayName: r.display_name as string,
    active: r.active === 1,
    createdAt: r.created_at as string,
  };
}

export interface OpenOptions {
  /** File path, or ':memory:'. */
  path: string;
  durability: Durability;
}

export class MetadataStore {
  readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();
  private savepoints = 0;
  private readonly credentialCache = new Map<string, CredentialRow | undefined>();
  private readonly bucketCache = new Map<string, BucketRow | undefined>();
  private dataVersion = -1;
  private versionCheckedAt = -Infinity;
  private queue: Array<{ fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private flushScheduled = false;

  constructor(opts: OpenOptions) {
    if (opts.path !== ':memory:') mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true });
    this.db = new DatabaseSync(opts.path);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec(`PRAGMA synchronous = ${SYNC_MODE[opts.durability]}`);
    this.db.exec('PRAGMA foreign_keys = ON');
    this.db.exec('PRAGMA busy_timeout = 5000');
    // Hot rows (inline objects above all) are read through a 64 MiB memory map, so a small
    // GET costs no read() call; the map is bounded because mapped pages count towards RSS.
    this.db.exec('PRAGMA cache_size = -16384');
    this.db.exec('PRAGMA mmap_size = 67108864');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as Row;
    const current = (row.v as number | null) ?? 0;
    MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (version <= current) return;
      this.tx(() => {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(version, new Date().toISOString());
      });
    });
  }

  /** Cached prepared statement (other metadata modules share the cache). */
  q(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /**
   * Runs fn atomically: its own IMMEDIATE transaction, or a savepoint when a transaction is
   * already open (inside `batch`), so writes compose. Rolls back on any throw.
   */
  tx<T>(fn: () => T): T {
    const nested = this.db.isTransaction;
    const name = `tx${++this.savepoints}`;
    this.db.exec(nested ? `SAVEPOINT ${name}` : 'BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec(nested ? `RELEASE ${name}` : 'COMMIT');
      return out;
    } catch (err) {
      if (nested) {
        this.db.exec(`ROLLBACK TO ${name}`);
        this.db.exec(`RELEASE ${name}`);
      } else if (this.db.isTransaction) {
        this.db.exec('ROLLBACK');
      }
      throw err;
    } finally {
      this.savepoints--;
    }
  }

  /**
   * Group commit: writes queued in the same turn of the event loop share one transaction,
   * so with synchronous=FULL several requests pay for one WAL fsync instead of one each.
   * Each write still succeeds or fails on its own (a savepoint per write); the promise
   * settles only after the shared COMMIT, so nobody is answered before the data is durable.
   */
  batch<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const items = this.queue;
    this.queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const item of items) {
        try {
          outcomes.push({ ok: true, value: this.tx(item.fn) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      for (const item of items) item.reject(err);
      return;
    }
    items.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  // ---- credentials ----

  getCredential(accessKeyId: string): CredentialRow | undefined {
    return this.cached(this.credentialCache, accessKeyId, () => {
      const r = this.q('SELECT * FROM credentials WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
      return r ? toCredential(r) : undefined;
    });
  }

  /**
   * Every request reads its credential and bucket; those rows change rarely, so they are
   * cached. Writes through this connection call invalidate(); writes by another process
   * (`bleepstore keys`) change PRAGMA data_version, checked at most once a millisecond, so
   * a deleted key stops working at once. Nothing is cached inside a transaction.
   */
  private cached<T>(cache: Map<string, T | undefined>, key: string, load: () => T | undefined): T | undefined {
    if (this.db.isTransaction) return load();
    const now = performance.now();
    if (now - this.versionCheckedAt >= 1) {
      this.versionCheckedAt = now;
      const version = (this.q('PRAGMA data_version').get() as Row).data_version as number;
      if (version !== this.dataVersion) {
        this.dataVersion = version;
        this.invalidate();
      }
    }
    if (cache.has(key)) return cache.get(key);
    const value = load();
    if (cache.size > 10_000) cache.clear();
    cache.set(key, value);
    return value;
  }

  /** Drops cached credentials and buckets (after any write to those tables). */
  invalidate(): void {
    this.credentialCache.clear();
    this.bucketCache.clear();
  }

  /** Seeds or refreshes a credential; idempotent. */
  upsertCredential(c: Omit<CredentialRow, 'createdAt' | 'active'>): void {
    this.q(`INSERT INTO credentials (access_key_id, secret_key, owner_id, display_name, active, created_at)
            VALUES (?, ?, ?, ?, 1, ?)
            ON CONFLICT(access_key_id) DO UPDATE SET secret_key = excluded.secret_key,
              owner_id = excluded.owner_id, display_name = excluded.display_name, active = 1`)
      .run(c.accessKeyId, c.secretKey, c.ownerId, c.displayName, new Date().toISOString());
    this.invalidate();
  }

  // ---- buckets ----

  getBucket(name: string): BucketRow | undefined {
    return this.cached(this.bucketCache, name, () => {
      const r = this.q('SELECT * FROM buckets WHERE name = ?').get(name) as Row | undefined;
      return r ? toBucket(r) : undefined;
    });
  }

  /** Inserts the bucket; returns the existing row instead when the name is taken. */
  createBucket(b: BucketRow): { created: true } | { created: false; existing: BucketRow } {
    this.invalidate();
    return this.tx(() => {
      const existing = this.getBucket(b.name);
      if (existing) return { created: false as const, existing };
      this.q('INSERT INTO buckets (name, region, owner_id, owner_display, acl, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(b.name, b.region, b.ownerId, b.ownerDisplay, JSON.stringify(b.acl), b.createdAt);
      return { created: true as const };
    });
  }

  listBuckets(ownerId?: string): BucketRow[] {
    const rows = ownerId === undefined
      ? this.q('SELECT * FROM buckets ORDER BY name').all()
      : this.q('SELECT * FROM buckets WHERE owner_id = ? ORDER BY name').all(ownerId);
    return (rows as Row[]).map(toBucket);
  }

  /** 'deleted', 'missing', or 'not-empty' (objects or in-progress uploads remain). */
  deleteBucket(name: string): 'deleted' | 'missing' | 'not-empty' {
    this.invalidate();
    return this.tx(() => {
      if (!this.q('SELECT 1 FROM buckets WHERE name = ?').get(name)) return 'missing';
      if (this.q('SELECT 1 FROM objects WHERE bucket = ? LIMIT 1').get(name)) return 'not-empty';
      if (this.q('SELECT 1 FROM multipart_uploads WHERE bucket = ? LIMIT 1').get(name)) return 'not-empty';
      this.q('DELETE FROM buckets WHERE name = ?').run(name);
      return 'deleted';
    });
  }

  setBucketAcl(name: string, acl: Acl): boolean {
    this.invalidate();
    return this.q('UPDATE buckets SET acl = ? WHERE name = ?').run(JSON.stringify(acl), name).changes > 0;
  }

  // ---- objects ----

  /**
   * The object's row; `withData: false` leaves out an inline object's bytes (HEAD, ACL reads,
   * conditions), which would otherwise be copied out of SQLite for nothing.
   */
  getObject(bucket: string, key: string, withData = true): ObjectRow | undefined {
    const r = (withData
      ? this.q('SELECT * FROM objects WHERE bucket = ? AND key = ?')
      : this.q(`SELECT ${OBJECT_COLUMNS_WITHOUT_DATA} FROM objects WHERE bucket = ? AND key = ?`)).get(bucket, key) as Row | undefined;
    return r ? toObject(r) : undefined;
  }

  /**
   * Commits an object row, replacing any previous version atomically. The replaced file id
   * is queued in gc_files in the same transaction and returned so the caller can remove it.
   * Throws PreconditionError when `cond` does not hold at commit time.
   */
  putObject(o: ObjectRow, cond?: WriteCondition): { replacedFileId: string | null } {
    return this.tx(() => ({ replacedFileId: this.putObjectInTx(o, cond) }));
  }

  /** The body of putObject, for callers already inside a transaction. */
  putObjectInTx(o: ObjectRow, cond?: WriteCondition): string | null {
    const prev = this.q('SELECT file_id, etag FROM objects WHERE bucket = ? AND key = ?').get(o.bucket, o.key) as Row | undefined;
    if (cond?.ifNoneMatchStar && prev) throw new PreconditionError('failed');
    if (cond?.ifMatch !== undefined) {
      if (!prev) throw new PreconditionError('missing');
      if (cond.ifMatch !== '*' && cond.ifMatch !== prev.etag) throw new PreconditionError('failed');
    }
    this.q(`INSERT OR REPLACE INTO objects (bucket, key, file_id, size, etag, content_type, content_encoding,
              content_language, content_disposition, cache_control, expires, storage_class, acl, user_metadata,
              last_modified, checksum_algorithm, checksum_value, checksum_type, parts_count, owner_id, owner_display, inline_data)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(o.bucket, o.key, o.fileId, o.size, o.etag, o.contentType, o.contentEncoding, o.contentLanguage,
        o.contentDisposition, o.cacheControl, o.expires, o.storageClass, JSON.stringify(o.acl),
        JSON.stringify(o.userMetadata), o.lastModified, o.checksum?.algorithm ?? null, o.checksum?.value ?? null,
        o.checksum?.type ?? null, o.partsCount, o.ownerId, o.ownerDisplay, o.inline);
    const replaced = prev?.file_id && prev.file_id !== o.fileId ? (prev.file_id as string) : null;
    if (replaced) this.queueGc(replaced);
    return replaced;
  }

  /** Deletes the row; returns the file id queued for removal, or null if there was none. */
  deleteObject(bucket: string, key: string): string | null {
    return this.tx(() => this.deleteObjectInTx(bucket, key));
  }

  /** Deletes many keys in one transaction; returns the file ids queued for removal. */
  deleteObjects(bucket: string, keys: readonly string[]): string[] {
    return this.tx(() => keys.map((k) => this.deleteObjectInTx(bucket, k)).filter((f): f is string => f !== null));
  }

  private deleteObjectInTx(bucket: string, key: string): string | null {
    const r = this.q('DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING file_id').get(bucket, key) as Row | undefined;
    if (!r?.file_id) return null;
    this.queueGc(r.file_id as string);
    return r.file_id as string;
  }

  setObjectAcl(bucket: string, key: string, acl: Acl): boolean {
    return this.q('UPDATE objects SET acl = ? WHERE bucket = ? AND key = ?').run(JSON.stringify(acl), bucket, key).changes > 0;
  }

  /**
   * Up to `limit` objects with key > after (or >= from) and starting with prefix, in key
   * order. Keys sharing a prefix are contiguous in binary order, so the scan stops at the
   * first key past the prefix.
   */
  listObjects(bucket: string, opts: { prefix: string; after: string | null; limit: number }): ListedObject[] {
    // Compare as UTF-8 bytes, the order SQLite's BINARY collation uses (JS compares UTF-16).
    const start = opts.after !== null && Buffer.compare(Buffer.from(opts.after), Buffer.from(opts.prefix)) >= 0 ? opts.after : null;
    const rows = (start !== null
      ? this.q(`SELECT key, size, etag, last_modified, storage_class, owner_id, owner_display FROM objects
                WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?`).all(bucket, start, opts.limit)
      : this.q(`SELECT key, size, etag, last_modified, storage_class, owner_id, owner_display FROM objects
                WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?`).all(bucket, opts.prefix, opts.limit)) as Row[];
    const out: ListedObject[] = [];
    for (const r of rows) {
      const key = r.key as string;
      if (!key.startsWith(opts.prefix)) break;
      out.push({
        key, size: r.size as number, etag: r.etag as string, lastModified: r.last_modified as string,
        storageClass: r.storage_class as string, ownerId: r.owner_id as string, ownerDisplay: r.owner_display as string,
      });
    }
    return out;
  }

  countObjects(): { objects: number; bytes: number; buckets: number } {
    const o = this.q('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM objects').get() as Row;
    const b = this.q('SELECT COUNT(*) AS n FROM buckets').get() as Row;
    return { objects: o.n as number, bytes: o.b as number, buckets: b.n as number };
  }

  // ---- file bookkeeping (crash-only recovery) ----

  queueGc(fileId: string): void {
    this.q('INSERT OR IGNORE INTO gc_files (file_id, queued_at) VALUES (?, ?)').run(fileId, new Date().toISOString());
  }

  pendingGc(limit = 1000): string[] {
    return (this.q('SELECT file_id FROM gc_files LIMIT ?').all(limit) as Row[]).map((r) => r.file_id as string);
  }

  /** Drops gc intents once their files are gone. */
  gcDone(fileIds: readonly string[]): void {
    if (!fileIds.length) return;
    this.tx(() => {
      for (const id of fileIds) this.q('DELETE FROM gc_files WHERE file_id = ?').run(id);
    });
  }

  /** True if some object or part row still points at the file. */
  isFileReferenced(fileId: string): boolean {
    return Boolean(this.q('SELECT 1 FROM objects WHERE file_id = ? LIMIT 1').get(fileId))
      || Boolean(this.q('SELECT 1 FROM multipart_parts WHERE file_id = ? LIMIT 1').get(fileId));
  }

  /** Every file id any row references (objects and parts), streamed for large stores. */
  *referencedFileIds(): Generator<string> {
    for (const r of this.db.prepare("SELECT file_id FROM objects WHERE file_id != '' UNION ALL SELECT file_id FROM multipart_parts").iterate()) {
      yield (r as Row).file_id as string;
    }
  }
}
