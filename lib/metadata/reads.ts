// Every read of the metadata: the read-only half of MetadataStore. Credential and bucket rows
// are read by every request and change rarely, so they are cached; the change hook clears the
// cache for writes through this connection, PRAGMA data_version for writes by another process.
import type { Row, Sql } from './connection.ts';
import {
  OBJECT_COLUMNS_WITHOUT_DATA,
  OBJECT_ROW,
  OBJECT_ROW_WITH_DATA,
  toBucket,
  toCredential,
  toObject,
  toPart,
  toUpload,
} from './rows.ts';
import type {
  BucketRow,
  CredentialRow,
  KeyInfo,
  ListedObject,
  ListedVersion,
  ObjectRow,
  PartRow,
  StoreStats,
  UploadRow,
} from './types.ts';

function listed(r: Row): ListedObject {
  return {
    key: r.key as string,
    size: r.size as number,
    etag: r.etag as string,
    lastModified: r.last_modified as string,
    storageClass: r.storage_class as string,
    ownerId: r.owner_id as string,
    ownerDisplay: r.owner_display as string,
  };
}

export class MetadataReads {
  protected readonly sql: Sql;
  private readonly credentialCache = new Map<string, CredentialRow | undefined>();
  private readonly bucketCache = new Map<string, BucketRow | undefined>();
  private dataVersion = -1;
  private versionCheckedAt = -Infinity;
  private versionCheckMs = 1;
  private inlineRead = 0;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /**
   * Other threads of this process write through their own connections (serving threads,
   * lib/workers/): check data_version on every cached read, so a change another thread
   * answered is seen by the next request here (read-your-writes across connections).
   */
  readAcrossThreads(): void {
    this.versionCheckMs = 0;
  }

  /** Answers when the database does (for /readyz and /health). */
  ping(): void {
    this.sql.q('SELECT 1 FROM buckets LIMIT 1').get();
  }

  // ---- credentials ----

  getCredential(accessKeyId: string): CredentialRow | undefined {
    return this.cached(this.credentialCache, accessKeyId, () => {
      const r = this.sql.q('SELECT * FROM credentials WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
      return r ? toCredential(r) : undefined;
    });
  }

  /** Every key, without secrets, ordered by owner then creation. */
  listKeys(): KeyInfo[] {
    const rows = this.sql
      .q('SELECT * FROM credentials ORDER BY display_name, owner_id, created_at, access_key_id')
      .all() as Row[];
    return rows.map((r) => {
      const { secretKey: _, ...info } = toCredential(r);
      return info;
    });
  }

  /**
   * Cached rows; `bleepstore keys` in another process changes PRAGMA data_version, checked at
   * most once a millisecond, so a deleted key stops working at once. Nothing is cached inside
   * a transaction.
   */
  private cached<T>(cache: Map<string, T | undefined>, key: string, load: () => T | undefined): T | undefined {
    if (this.sql.inTransaction) return load();
    const now = performance.now();
    if (now - this.versionCheckedAt >= this.versionCheckMs) {
      this.versionCheckedAt = now;
      const version = (this.sql.qa('PRAGMA data_version').get() as unknown as [number])[0];
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

  /** Drops cached credentials and buckets. */
  protected invalidate(): void {
    this.credentialCache.clear();
    this.bucketCache.clear();
  }

  // ---- buckets ----

  getBucket(name: string): BucketRow | undefined {
    return this.cached(this.bucketCache, name, () => {
      const r = this.sql.q('SELECT * FROM buckets WHERE name = ?').get(name) as Row | undefined;
      return r ? toBucket(r) : undefined;
    });
  }

  listBuckets(ownerId?: string): BucketRow[] {
    const rows =
      ownerId === undefined
        ? this.sql.q('SELECT * FROM buckets ORDER BY name').all()
        : this.sql.q('SELECT * FROM buckets WHERE owner_id = ? ORDER BY name').all(ownerId);
    return (rows as Row[]).map(toBucket);
  }

  // ---- objects ----

  /**
   * The object's row; `withData: false` leaves out an inline object's bytes (HEAD, ACL reads,
   * conditions), which would otherwise be copied out of SQLite for nothing.
   */
  getObject(bucket: string, key: string, withData = true): ObjectRow | undefined {
    const reader = withData ? OBJECT_ROW_WITH_DATA : OBJECT_ROW;
    const v = this.sql.qa(`SELECT ${reader.columns} FROM objects WHERE bucket = ? AND key = ?`).get(bucket, key) as
      | unknown[]
      | undefined;
    if (!v) return undefined;
    const o = toObject(reader.row(v));
    if (o.inline) this.inlineRead += o.inline.length;
    return o;
  }

  /**
   * One version by id ('null': the null version), current or not; a delete marker comes back
   * with `deleteMarker: true`. Undefined when there is no such version.
   */
  getVersion(bucket: string, key: string, versionId: string, withData = true): ObjectRow | undefined {
    const cur = this.getObject(bucket, key, withData);
    if (cur && (cur.versionId ?? 'null') === versionId) return cur;
    const r = (
      withData
        ? this.sql.q('SELECT * FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?')
        : this.sql.q(
            `SELECT ${OBJECT_COLUMNS_WITHOUT_DATA}, delete_marker FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?`,
          )
    ).get(bucket, key, versionId) as Row | undefined;
    return r ? toObject(r) : undefined;
  }

  /** The newest noncurrent version or delete marker of a key (a current row is newer still). */
  newestNoncurrent(
    bucket: string,
    key: string,
  ): { versionId: string; deleteMarker: boolean; lastModified: string } | undefined {
    const r = this.sql
      .q(
        'SELECT version_id, delete_marker, last_modified FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1',
      )
      .get(bucket, key) as Row | undefined;
    return r
      ? {
          versionId: r.version_id as string,
          deleteMarker: r.delete_marker === 1,
          lastModified: r.last_modified as string,
        }
      : undefined;
  }

  /**
   * Up to `limit` distinct keys that have any version (current, noncurrent or a delete
   * marker), after `after` (or from `prefix`) and starting with prefix, in UTF-8 byte order.
   */
  listVersionKeys(bucket: string, opts: { prefix: string; after: string | null; limit: number }): string[] {
    const start =
      opts.after !== null && Buffer.compare(Buffer.from(opts.after), Buffer.from(opts.prefix)) >= 0 ? opts.after : null;
    const op = start !== null ? '>' : '>=';
    const from = start ?? opts.prefix;
    const rows = this.sql
      .q(`SELECT key FROM (SELECT key FROM objects WHERE bucket = ? AND key ${op} ?
            UNION SELECT key FROM object_versions WHERE bucket = ? AND key ${op} ?) ORDER BY key LIMIT ?`)
      .all(bucket, from, bucket, from, opts.limit) as Row[];
    const out: string[] = [];
    for (const r of rows) {
      const key = r.key as string;
      if (!key.startsWith(opts.prefix)) break;
      out.push(key);
    }
    return out;
  }

  /** Every version and delete marker of one key, newest first (the current version, if any, leads). */
  keyVersions(bucket: string, key: string): ListedVersion[] {
    const cols = 'version_id, size, etag, last_modified, storage_class, owner_id, owner_display';
    const cur = this.sql
      .q(`SELECT ${cols}, 0 AS delete_marker FROM objects WHERE bucket = ? AND key = ?`)
      .get(bucket, key) as Row | undefined;
    const rest = this.sql
      .q(`SELECT ${cols}, delete_marker FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC`)
      .all(bucket, key) as Row[];
    return (cur ? [cur, ...rest] : rest).map((r, i) => ({
      versionId: (r.version_id as string | null) ?? 'null',
      isLatest: i === 0,
      deleteMarker: r.delete_marker === 1,
      ...listed(r),
      key,
    }));
  }

  /** Noncurrent versions and delete markers in the whole store. */
  noncurrentCount(): number {
    return Number((this.sql.q('SELECT COUNT(*) AS n FROM object_versions').get() as Row).n);
  }

  /** Inline object bytes copied out of SQLite so far (bleepstore_inline_bytes_read_total). */
  inlineBytesRead(): number {
    return this.inlineRead;
  }

  /**
   * Up to `limit` objects with key > after (or >= from) and starting with prefix, in key
   * order. Keys sharing a prefix are contiguous in binary order, so the scan stops at the
   * first key past the prefix.
   */
  listObjects(bucket: string, opts: { prefix: string; after: string | null; limit: number }): ListedObject[] {
    // Compare as UTF-8 bytes, the order SQLite's BINARY collation uses (JS compares UTF-16).
    const start =
      opts.after !== null && Buffer.compare(Buffer.from(opts.after), Buffer.from(opts.prefix)) >= 0 ? opts.after : null;
    const rows = (
      start !== null
        ? this.sql
            .q(`SELECT key, size, etag, last_modified, storage_class, owner_id, owner_display FROM objects
                WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?`)
            .all(bucket, start, opts.limit)
        : this.sql
            .q(`SELECT key, size, etag, last_modified, storage_class, owner_id, owner_display FROM objects
                WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?`)
            .all(bucket, opts.prefix, opts.limit)
    ) as Row[];
    const out: ListedObject[] = [];
    for (const r of rows) {
      const key = r.key as string;
      if (!key.startsWith(opts.prefix)) break;
      out.push(listed(r));
    }
    return out;
  }

  /** Bucket, object and byte totals from bucket_stats: one row per bucket, never a scan of objects. */
  stats(): StoreStats {
    const s = this.sql
      .q(
        'SELECT COUNT(*) AS buckets, COALESCE(SUM(objects), 0) AS objects, COALESCE(SUM(bytes), 0) AS bytes FROM bucket_stats',
      )
      .get() as Row;
    return { buckets: s.buckets as number, objects: s.objects as number, bytes: s.bytes as number };
  }

  /** One bucket's totals (zero for a bucket with no row yet). */
  bucketStat(bucket: string): { objects: number; bytes: number } {
    const r = this.sql.q('SELECT objects, bytes FROM bucket_stats WHERE bucket = ?').get(bucket) as Row | undefined;
    return { objects: (r?.objects as number) ?? 0, bytes: (r?.bytes as number) ?? 0 };
  }

  /** Per-bucket totals, in bucket order. */
  bucketStats(): Array<{ bucket: string; objects: number; bytes: number }> {
    return this.sql.q('SELECT bucket, objects, bytes FROM bucket_stats ORDER BY bucket').all() as Array<{
      bucket: string;
      objects: number;
      bytes: number;
    }>;
  }

  // ---- multipart uploads ----

  getUpload(uploadId: string): UploadRow | undefined {
    const r = this.sql.q('SELECT * FROM multipart_uploads WHERE upload_id = ?').get(uploadId) as Row | undefined;
    return r ? toUpload(r) : undefined;
  }

  listParts(uploadId: string, after = 0, limit = 10001): PartRow[] {
    return (
      this.sql
        .q('SELECT * FROM multipart_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?')
        .all(uploadId, after, limit) as Row[]
    ).map(toPart);
  }

  completedUpload(uploadId: string): { bucket: string; key: string; etag: string } | undefined {
    return this.sql.q('SELECT bucket, key, etag FROM completed_uploads WHERE upload_id = ?').get(uploadId) as
      | { bucket: string; key: string; etag: string }
      | undefined;
  }

  /**
   * Up to `limit` uploads whose key starts with prefix, in key order (then initiation time),
   * after the markers. The prefix bounds the scan itself, so the limit counts only matches.
   */
  listUploads(
    bucket: string,
    opts: { prefix: string; keyMarker: string | null; uploadIdMarker: string | null; limit: number },
  ): UploadRow[] {
    // A marker before the prefix (UTF-8 byte order, as SQLite compares) starts at the prefix.
    const marker =
      opts.keyMarker !== null && Buffer.compare(Buffer.from(opts.keyMarker), Buffer.from(opts.prefix)) >= 0
        ? opts.keyMarker
        : null;
    if (marker === null) opts = { ...opts, keyMarker: null };
    const rows =
      opts.keyMarker === null
        ? this.sql
            .q(
              `SELECT * FROM multipart_uploads WHERE bucket = ? AND key >= ? ORDER BY key, initiated_at, upload_id LIMIT ?`,
            )
            .all(bucket, opts.prefix, opts.limit)
        : opts.uploadIdMarker === null
          ? this.sql
              .q(
                `SELECT * FROM multipart_uploads WHERE bucket = ? AND key > ? ORDER BY key, initiated_at, upload_id LIMIT ?`,
              )
              .all(bucket, opts.keyMarker, opts.limit)
          : this.sql
              .q(`SELECT * FROM multipart_uploads u WHERE bucket = ? AND (key > ? OR (key = ? AND (initiated_at, upload_id) >
                      (SELECT initiated_at, upload_id FROM multipart_uploads WHERE upload_id = ?)))
                    ORDER BY key, initiated_at, upload_id LIMIT ?`)
              .all(bucket, opts.keyMarker, opts.keyMarker, opts.uploadIdMarker, opts.limit);
    return (rows as Row[]).map(toUpload).filter((u) => u.key.startsWith(opts.prefix));
  }

  /** Multipart uploads in progress in one bucket. */
  uploadCount(bucket: string): number {
    return Number((this.sql.q('SELECT COUNT(*) AS n FROM multipart_uploads WHERE bucket = ?').get(bucket) as Row).n);
  }

  /** Multipart uploads in progress in every bucket. */
  totalUploadCount(): number {
    return Number((this.sql.q('SELECT COUNT(*) AS n FROM multipart_uploads').get() as Row).n);
  }

  /** A consistent copy of the whole database at `path` (a new file), taken while it serves. */
  backupTo(path: string): void {
    // VACUUM INTO reads one snapshot and writes a compact copy; it changes nothing here.
    // https://www.sqlite.org/lang_vacuum.html#vacuuminto
    this.sql.q('VACUUM INTO ?').run(path);
  }

  // ---- file bookkeeping (crash-only recovery) ----

  pendingGc(limit = 1000): string[] {
    return (this.sql.q('SELECT file_id FROM gc_files ORDER BY file_id LIMIT ?').all(limit) as Row[]).map(
      (r) => r.file_id as string,
    );
  }

  /** Async mode's pending write tasks, oldest first (lib/events/write-tasks.ts). */
  pendingTasks(limit: number): Array<{ id: string; command: string; file_id: string | null }> {
    return this.sql
      .q("SELECT id, command, file_id FROM write_tasks WHERE state = 'pending' ORDER BY seq LIMIT ?")
      .all(limit) as Array<{ id: string; command: string; file_id: string | null }>;
  }

  pendingTaskCount(): number {
    return (this.sql.q("SELECT COUNT(*) AS n FROM write_tasks WHERE state = 'pending'").get() as Row).n as number;
  }

  task(id: string): { state: string; error_code: string | null; error_message: string | null } | undefined {
    return this.sql.q('SELECT state, error_code, error_message FROM write_tasks WHERE id = ?').get(id) as
      | { state: string; error_code: string | null; error_message: string | null }
      | undefined;
  }

  /** True if some object or part row (or a pending write task) still points at the file. */
  isFileReferenced(fileId: string): boolean {
    return (
      Boolean(this.sql.q('SELECT 1 FROM objects WHERE file_id = ? LIMIT 1').get(fileId)) ||
      Boolean(this.sql.q('SELECT 1 FROM object_versions WHERE file_id = ? LIMIT 1').get(fileId)) ||
      Boolean(this.sql.q('SELECT 1 FROM multipart_parts WHERE file_id = ? LIMIT 1').get(fileId)) ||
      Boolean(this.sql.q("SELECT 1 FROM write_tasks WHERE file_id = ? AND state = 'pending' LIMIT 1").get(fileId))
    );
  }

  /** Up to `limit` referenced file ids greater than `after`, in order (for a paged scrub). */
  referencedFileIds(after: string, limit: number): string[] {
    return (
      this.sql
        .q(`SELECT file_id FROM (SELECT file_id FROM objects WHERE file_id > ? UNION SELECT file_id FROM object_versions WHERE file_id > ?
              UNION SELECT file_id FROM multipart_parts WHERE file_id > ?) ORDER BY file_id LIMIT ?`)
        .all(after, after, after, limit) as Row[]
    ).map((r) => r.file_id as string);
  }

  // ---- blobs of the sqlite storage backend ----

  blobChunk(fileId: string, seq: number): Buffer | undefined {
    const r = this.sql.q('SELECT data FROM blob_chunks WHERE file_id = ? AND seq = ?').get(fileId, seq) as
      | { data: Uint8Array }
      | undefined;
    return r ? Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength) : undefined;
  }

  blobExists(fileId: string): boolean {
    return Boolean(this.sql.q('SELECT 1 FROM blob_chunks WHERE file_id = ? LIMIT 1').get(fileId));
  }

  /** Up to `limit` blob ids after `after`, in order (a page of the orphan sweep). */
  blobIds(after: string, limit: number): string[] {
    return (
      this.sql
        .q('SELECT DISTINCT file_id FROM blob_chunks WHERE file_id > ? ORDER BY file_id LIMIT ?')
        .all(after, limit) as Row[]
    ).map((r) => r.file_id as string);
  }
}
