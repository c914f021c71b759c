// The SQLite schema, applied idempotently on every start. Versioned so later migrations
// can be appended; each migration runs in its own transaction, so a crash mid-migration
// leaves the previous version intact.

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS buckets (
    name           TEXT PRIMARY KEY,
    region         TEXT NOT NULL DEFAULT 'us-east-1',
    owner_id       TEXT NOT NULL,
    owner_display  TEXT NOT NULL DEFAULT '',
    acl            TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS objects (
    bucket              TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
    key                 TEXT NOT NULL,
    file_id             TEXT NOT NULL,
    size                INTEGER NOT NULL,
    etag                TEXT NOT NULL,
    content_type        TEXT NOT NULL DEFAULT 'application/octet-stream',
    content_encoding    TEXT,
    content_language    TEXT,
    content_disposition TEXT,
    cache_control       TEXT,
    expires             TEXT,
    storage_class       TEXT NOT NULL DEFAULT 'STANDARD',
    acl                 TEXT NOT NULL DEFAULT '{}',
    user_metadata       TEXT NOT NULL DEFAULT '{}',
    last_modified       TEXT NOT NULL,
    delete_marker       INTEGER NOT NULL DEFAULT 0,
    checksum_algorithm  TEXT,
    checksum_value      TEXT,
    checksum_type       TEXT,
    parts_count         INTEGER,
    owner_id            TEXT NOT NULL DEFAULT '',
    owner_display       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (bucket, key)
  );
  CREATE INDEX IF NOT EXISTS idx_objects_file ON objects(file_id);
  CREATE TABLE IF NOT EXISTS multipart_uploads (
    upload_id           TEXT PRIMARY KEY,
    bucket              TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
    key                 TEXT NOT NULL,
    content_type        TEXT NOT NULL DEFAULT 'application/octet-stream',
    content_encoding    TEXT,
    content_language    TEXT,
    content_disposition TEXT,
    cache_control       TEXT,
    expires             TEXT,
    storage_class       TEXT NOT NULL DEFAULT 'STANDARD',
    acl                 TEXT NOT NULL DEFAULT '{}',
    user_metadata       TEXT NOT NULL DEFAULT '{}',
    owner_id            TEXT NOT NULL,
    owner_display       TEXT NOT NULL DEFAULT '',
    initiated_at        TEXT NOT NULL,
    checksum_algorithm  TEXT,
    checksum_type       TEXT
  );
  CREATE INDEX IF NOT EXISTS idx_uploads_bucket_key ON multipart_uploads(bucket, key, initiated_at);
  CREATE TABLE IF NOT EXISTS multipart_parts (
    upload_id      TEXT NOT NULL REFERENCES multipart_uploads(upload_id) ON DELETE CASCADE,
    part_number    INTEGER NOT NULL,
    file_id        TEXT NOT NULL,
    size           INTEGER NOT NULL,
    etag           TEXT NOT NULL,
    last_modified  TEXT NOT NULL,
    checksum_value TEXT,
    PRIMARY KEY (upload_id, part_number)
  );
  CREATE INDEX IF NOT EXISTS idx_parts_file ON multipart_parts(file_id);
  CREATE TABLE IF NOT EXISTS credentials (
    access_key_id  TEXT PRIMARY KEY,
    secret_key     TEXT NOT NULL,
    owner_id       TEXT NOT NULL,
    display_name   TEXT NOT NULL DEFAULT '',
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL
  );
  -- Files whose rows are gone: removed after the commit, and again on start if a crash
  -- came in between (crash-only rule: record intent before doing background work).
  CREATE TABLE IF NOT EXISTS gc_files (
    file_id   TEXT PRIMARY KEY,
    queued_at TEXT NOT NULL
  );
  `,
  `
  -- Uploads completed recently, so a retried Complete answers with the same object
  -- (crash-only rule 5: CompleteMultipartUpload is idempotent).
  CREATE TABLE IF NOT EXISTS completed_uploads (
    upload_id      TEXT PRIMARY KEY,
    bucket         TEXT NOT NULL,
    key            TEXT NOT NULL,
    etag           TEXT NOT NULL,
    completed_at   TEXT NOT NULL
  );
  `,
  `
  -- Small objects live in the row itself (file_id ''): a PUT is then one (group) commit,
  -- with no file, rename or directory fsync, and a GET needs no file open.
  ALTER TABLE objects ADD COLUMN inline_data BLOB;
  `,
  `
  -- Objects and bytes per bucket, kept by the change hook (changes.ts) in the same
  -- transaction as every write, so metrics never scan objects.
  CREATE TABLE IF NOT EXISTS bucket_stats (
    bucket   TEXT PRIMARY KEY REFERENCES buckets(name) ON DELETE CASCADE,
    objects  INTEGER NOT NULL DEFAULT 0,
    bytes    INTEGER NOT NULL DEFAULT 0
  );
  INSERT OR IGNORE INTO bucket_stats (bucket, objects, bytes)
    SELECT b.name, COUNT(o.key), COALESCE(SUM(o.size), 0) FROM buckets b LEFT JOIN objects o ON o.bucket = b.name GROUP BY b.name;
  -- Blobs of the sqlite storage backend (lib/storage/sqlite-blobs.ts), 1 MiB chunks.
  CREATE TABLE IF NOT EXISTS blob_chunks (
    file_id TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (file_id, seq)) WITHOUT ROWID;
  `,
  `
  -- Part sizes of a multipart object (JSON array, in part order), kept at Complete so
  -- GetObject/HeadObject ?partNumber=N can serve one part.
  -- https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (partNumber)
  ALTER TABLE objects ADD COLUMN part_sizes TEXT;
  `,
  `
  -- Bucket sub-resource configurations, each a JSON document or NULL when not set:
  -- CORS rules, the PublicAccessBlock flags, the object-ownership setting.
  ALTER TABLE buckets ADD COLUMN cors TEXT;
  ALTER TABLE buckets ADD COLUMN public_access_block TEXT;
  ALTER TABLE buckets ADD COLUMN ownership TEXT;
  `,
  `
  -- Event notifications not yet confirmed by their target (lib/events), one row per target
  -- and event, written in the same transaction as the change they describe; deleted only
  -- after the target confirmed them. event_seq numbers events in commit order.
  CREATE TABLE IF NOT EXISTS event_outbox (
    target TEXT NOT NULL, seq INTEGER NOT NULL, config_id TEXT NOT NULL, event TEXT NOT NULL,
    PRIMARY KEY (target, seq)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS event_seq (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
  INSERT OR IGNORE INTO event_seq (id, last) VALUES (1, 0);
  `,
  `
  -- Versioning (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html): objects
  -- keeps each key's current version, so the current-version lookup stays one primary-key read;
  -- object_versions holds noncurrent versions and delete markers, the newest with the highest
  -- seq. version_id NULL in objects (and 'null' in object_versions) is the null version. Tags,
  -- retention and legal hold travel with each version (Object Lock protects versions, not keys).
  ALTER TABLE buckets ADD COLUMN versioning TEXT;
  ALTER TABLE buckets ADD COLUMN tagging TEXT;
  ALTER TABLE buckets ADD COLUMN object_lock TEXT;
  ALTER TABLE buckets ADD COLUMN lifecycle TEXT;
  ALTER TABLE objects ADD COLUMN version_id TEXT;
  ALTER TABLE objects ADD COLUMN tags TEXT;
  ALTER TABLE objects ADD COLUMN retention TEXT;
  ALTER TABLE objects ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE multipart_uploads ADD COLUMN tags TEXT;
  ALTER TABLE multipart_uploads ADD COLUMN retention TEXT;
  ALTER TABLE multipart_uploads ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE IF NOT EXISTS object_versions (
    bucket              TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
    key                 TEXT NOT NULL,
    version_id          TEXT NOT NULL,
    seq                 INTEGER NOT NULL,
    delete_marker       INTEGER NOT NULL DEFAULT 0,
    file_id             TEXT NOT NULL,
    size                INTEGER NOT NULL,
    etag                TEXT NOT NULL,
    content_type        TEXT NOT NULL DEFAULT 'application/octet-stream',
    content_encoding    TEXT,
    content_language    TEXT,
    content_disposition TEXT,
    cache_control       TEXT,
    expires             TEXT,
    storage_class       TEXT NOT NULL DEFAULT 'STANDARD',
    acl                 TEXT NOT NULL DEFAULT '{}',
    user_metadata       TEXT NOT NULL DEFAULT '{}',
    last_modified       TEXT NOT NULL,
    checksum_algorithm  TEXT,
    checksum_value      TEXT,
    checksum_type       TEXT,
    parts_count         INTEGER,
    owner_id            TEXT NOT NULL DEFAULT '',
    owner_display       TEXT NOT NULL DEFAULT '',
    inline_data         BLOB,
    part_sizes          TEXT,
    tags                TEXT,
    retention           TEXT,
    legal_hold          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, key, version_id)
  );
  CREATE INDEX IF NOT EXISTS idx_versions_seq ON object_versions(bucket, key, seq);
  CREATE INDEX IF NOT EXISTS idx_versions_file ON object_versions(file_id);
  `,
  `
  -- Bucket notification configurations (PutBucketNotificationConfiguration): the rules as a
  -- JSON array; no row means the server-wide event targets apply (lib/metadata/outbox.ts).
  CREATE TABLE IF NOT EXISTS bucket_notifications (
    bucket TEXT PRIMARY KEY REFERENCES buckets(name) ON DELETE CASCADE,
    rules  TEXT NOT NULL);
  `,
  `
  -- Async consistency (write-first): a write accepted with 202 is a pending task holding its
  -- command; the consumer applies it and marks it done in the same transaction, so a re-run
  -- after a crash is a no-op (the id is the idempotency key). file_id keeps a pending task's
  -- staged blob from the orphan sweep.
  CREATE TABLE IF NOT EXISTS write_tasks (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    state      TEXT NOT NULL,
    command    TEXT NOT NULL,
    file_id    TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at TEXT NOT NULL,
    done_at    TEXT);
  CREATE INDEX IF NOT EXISTS idx_write_tasks_state ON write_tasks(state, seq);
  CREATE INDEX IF NOT EXISTS idx_write_tasks_file ON write_tasks(file_id);
  `,
  `
  -- An outbox row holds the events of one transaction (lib/metadata/outbox.ts, OutboxBuffer);
  -- n counts them. Rows written before this hold one event each.
  ALTER TABLE event_outbox ADD COLUMN n INTEGER NOT NULL DEFAULT 1;
  `,
  `
  -- The bucket policy (PutBucketPolicy) as its JSON text, checked when it was stored
  -- (lib/auth/bucket-policy.ts); NULL when the bucket has none.
  ALTER TABLE buckets ADD COLUMN policy TEXT;
  `,
];
