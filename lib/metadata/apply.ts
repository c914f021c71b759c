// apply(tx, cmd): the one place metadata changes. It reads the database and the command,
// nothing else (no clock, no random source, no environment), and tells the change hook what
// it changed. Each entry of APPLY handles one command type; the compiler insists on all.
import type { Row, Sql } from './connection.ts';
import {
  objectRow,
  type Command,
  type CommandOf,
  type CommandType,
  type ObjectRecord,
  type Results,
  type TaskCommand,
} from './commands.ts';
import { CredentialError, PreconditionError } from './errors.ts';
import { toBucket, toCredential } from './rows.ts';
import type { DeleteCondition, KeyInfo, WriteCondition } from './types.ts';
import {
  queueGc,
  archiveCurrent,
  dropNoncurrent,
  releaseFile,
  refuseLocked,
  currentForCondition,
  checkDeleteCondition,
  promoteNewest,
  checkRetentionChange,
  type Emit,
} from './apply-versions.ts';
import { IMPORT_APPLIERS } from './apply-import.ts';

export type { Emit } from './apply-versions.ts';
type Appliers = { [T in CommandType]: (tx: Sql, cmd: CommandOf<T>, emit: Emit) => Results[T] };

export function apply<C extends Command>(tx: Sql, cmd: C, emit: Emit): Results[C['type']] {
  const fn = APPLY[cmd.type] as unknown as (tx: Sql, cmd: C, emit: Emit) => Results[C['type']];
  return fn(tx, cmd, emit);
}

function credentialRow(tx: Sql, accessKeyId: string): Row {
  const r = tx.q('SELECT * FROM credentials WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
  if (!r) throw new CredentialError(`No access key "${accessKeyId}".`, 'missing');
  return r;
}

function keyInfo(r: Row): KeyInfo {
  const { secretKey: _, ...info } = toCredential(r);
  return info;
}

/**
 * Writes an object row as the current version. With a version id (versioning Enabled) the
 * current version becomes noncurrent; without one it is the null version, which replaces the
 * null version wherever it is (an unversioned bucket: the current row, exactly as before
 * versioning existed). Returns the replaced file id (queued for gc).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersionSuspendedBuckets.html
 */
function putObject(
  tx: Sql,
  rec: ObjectRecord,
  cond: WriteCondition | undefined,
  at: string,
  emit: Emit,
): string | null {
  const o = objectRow(rec);
  const prev = tx
    .q('SELECT file_id, etag, size, version_id, retention, legal_hold FROM objects WHERE bucket = ? AND key = ?')
    .get(o.bucket, o.key) as Row | undefined;
  if (cond?.ifNoneMatchStar && prev) throw new PreconditionError('failed');
  if (cond?.ifMatch !== undefined) {
    if (!prev) throw new PreconditionError('missing');
    if (cond.ifMatch !== '*' && cond.ifMatch !== prev.etag) throw new PreconditionError('failed');
  }
  const versionId = o.versionId ?? null;
  let replaced: string | null = null;
  if (prev && (versionId !== null || prev.version_id !== null)) archiveCurrent(tx, o.bucket, o.key);
  else if (prev) {
    refuseLocked(prev, at, false);
    if (prev.file_id && prev.file_id !== o.fileId) replaced = prev.file_id as string;
  }
  if (versionId === null && !(prev && prev.version_id === null))
    replaced = dropNoncurrent(tx, o.bucket, o.key, 'null', at);
  tx.q(`INSERT OR REPLACE INTO objects (bucket, key, file_id, size, etag, content_type, content_encoding,
          content_language, content_disposition, cache_control, expires, storage_class, acl, user_metadata,
          last_modified, checksum_algorithm, checksum_value, checksum_type, parts_count, owner_id, owner_display, inline_data,
          part_sizes, version_id, tags, retention, legal_hold)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    o.bucket,
    o.key,
    o.fileId,
    o.size,
    o.etag,
    o.contentType,
    o.contentEncoding,
    o.contentLanguage,
    o.contentDisposition,
    o.cacheControl,
    o.expires,
    o.storageClass,
    JSON.stringify(o.acl),
    JSON.stringify(o.userMetadata),
    o.lastModified,
    o.checksum?.algorithm ?? null,
    o.checksum?.value ?? null,
    o.checksum?.type ?? null,
    o.partsCount,
    o.ownerId,
    o.ownerDisplay,
    o.inline,
    o.partSizes ? JSON.stringify(o.partSizes) : null,
    versionId,
    o.tags?.length ? JSON.stringify(o.tags) : null,
    o.retention ? JSON.stringify(o.retention) : null,
    o.legalHold ? 1 : 0,
  );
  emit({
    type: 'object.written',
    bucket: o.bucket,
    key: o.key,
    size: o.size,
    etag: o.etag,
    replaced: prev ? { size: prev.size as number } : null,
    ...(versionId === null ? {} : { versionId }),
  });
  if (replaced) queueGc(tx, replaced, at);
  return replaced;
}

function deleteObject(
  tx: Sql,
  bucket: string,
  key: string,
  at: string,
  emit: Emit,
  cond?: DeleteCondition,
): string | null {
  if (cond) checkDeleteCondition(currentForCondition(tx, bucket, key), cond);
  const r = tx.q('DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING file_id, size').get(bucket, key) as
    | Row
    | undefined;
  if (!r) return null;
  emit({ type: 'object.removed', bucket, key, size: r.size as number });
  if (!r.file_id) return null;
  queueGc(tx, r.file_id as string, at);
  return r.file_id as string;
}

/** Removes an upload and its parts; the part files are queued. Null when there is no such upload. */
function dropUpload(tx: Sql, uploadId: string, at: string): string[] | null {
  if (!tx.q('SELECT 1 FROM multipart_uploads WHERE upload_id = ?').get(uploadId)) return null;
  const files = (
    tx.q('SELECT file_id FROM multipart_parts WHERE upload_id = ? ORDER BY part_number').all(uploadId) as Row[]
  ).map((r) => r.file_id as string);
  for (const f of files) queueGc(tx, f, at);
  tx.q('DELETE FROM multipart_parts WHERE upload_id = ?').run(uploadId);
  tx.q('DELETE FROM multipart_uploads WHERE upload_id = ?').run(uploadId);
  return files;
}

const APPLY: Appliers = {
  'credential.seed'(tx, c, emit) {
    tx.q(`INSERT INTO credentials (access_key_id, secret_key, owner_id, display_name, active, created_at)
          VALUES (?, ?, ?, ?, 1, ?)
          ON CONFLICT(access_key_id) DO UPDATE SET secret_key = excluded.secret_key,
            owner_id = excluded.owner_id, display_name = excluded.display_name, active = 1`).run(
      c.accessKeyId,
      c.secretKey,
      c.ownerId,
      c.displayName,
      c.at,
    );
    emit({ type: 'credential.changed', accessKeyId: c.accessKeyId });
    return null;
  },
  'credential.create'(tx, c, emit) {
    let owner: { id: string; displayName: string };
    if ('of' in c.owner) {
      const other = credentialRow(tx, c.owner.of);
      owner = { id: other.owner_id as string, displayName: other.display_name as string };
    } else owner = c.owner;
    if (tx.q('SELECT 1 FROM credentials WHERE access_key_id = ?').get(c.accessKeyId)) {
      throw new CredentialError(`Access key "${c.accessKeyId}" already exists.`, 'exists');
    }
    tx.q(
      'INSERT INTO credentials (access_key_id, secret_key, owner_id, display_name, active, created_at) VALUES (?, ?, ?, ?, 1, ?)',
    ).run(c.accessKeyId, c.secretKey, owner.id, owner.displayName, c.at);
    emit({ type: 'credential.changed', accessKeyId: c.accessKeyId });
    return {
      accessKeyId: c.accessKeyId,
      secretKey: c.secretKey,
      ownerId: owner.id,
      displayName: owner.displayName,
      active: true,
      createdAt: c.at,
    };
  },
  'credential.rotate'(tx, c, emit) {
    const r = credentialRow(tx, c.accessKeyId);
    tx.q('UPDATE credentials SET secret_key = ? WHERE access_key_id = ?').run(c.secretKey, c.accessKeyId);
    emit({ type: 'credential.changed', accessKeyId: c.accessKeyId });
    return { ...keyInfo(r), secretKey: c.secretKey };
  },
  'credential.delete'(tx, c, emit) {
    const r = credentialRow(tx, c.accessKeyId);
    tx.q('DELETE FROM credentials WHERE access_key_id = ?').run(c.accessKeyId);
    emit({ type: 'credential.changed', accessKeyId: c.accessKeyId });
    return keyInfo(r);
  },
  'credential.status'(tx, c, emit) {
    credentialRow(tx, c.accessKeyId);
    tx.q('UPDATE credentials SET active = ? WHERE access_key_id = ?').run(c.active ? 1 : 0, c.accessKeyId);
    emit({ type: 'credential.changed', accessKeyId: c.accessKeyId });
    return keyInfo(credentialRow(tx, c.accessKeyId));
  },

  'bucket.create'(tx, { bucket: b }, emit) {
    const existing = tx.q('SELECT * FROM buckets WHERE name = ?').get(b.name) as Row | undefined;
    if (existing) return { created: false, existing: toBucket(existing) };
    tx.q(
      'INSERT INTO buckets (name, region, owner_id, owner_display, acl, created_at, ownership, versioning, object_lock) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      b.name,
      b.region,
      b.ownerId,
      b.ownerDisplay,
      JSON.stringify(b.acl),
      b.createdAt,
      b.ownership ? JSON.stringify(b.ownership) : null,
      b.versioning ? JSON.stringify(b.versioning) : null,
      b.objectLock ? JSON.stringify(b.objectLock) : null,
    );
    emit({ type: 'bucket.created', bucket: b.name });
    return { created: true };
  },
  'bucket.delete'(tx, { name }, emit) {
    if (!tx.q('SELECT 1 FROM buckets WHERE name = ?').get(name)) return 'missing';
    if (tx.q('SELECT 1 FROM objects WHERE bucket = ? LIMIT 1').get(name)) return 'not-empty';
    if (tx.q('SELECT 1 FROM object_versions WHERE bucket = ? LIMIT 1').get(name)) return 'not-empty';
    if (tx.q('SELECT 1 FROM multipart_uploads WHERE bucket = ? LIMIT 1').get(name)) return 'not-empty';
    tx.q('DELETE FROM buckets WHERE name = ?').run(name);
    emit({ type: 'bucket.deleted', bucket: name });
    return 'deleted';
  },
  'bucket.acl'(tx, { name, acl }, emit) {
    const changed = tx.q('UPDATE buckets SET acl = ? WHERE name = ?').run(JSON.stringify(acl), name).changes > 0;
    if (changed) emit({ type: 'bucket.acl', bucket: name });
    return changed;
  },
  'bucket.config'(tx, { name, column, value }, emit) {
    // `column` is one of the BucketConfigs keys (the command type allows nothing else).
    const changed =
      tx.q(`UPDATE buckets SET ${column} = ? WHERE name = ?`).run(value === null ? null : JSON.stringify(value), name)
        .changes > 0;
    if (changed) emit({ type: 'bucket.config', bucket: name });
    return changed;
  },
  'bucket.notifications'(tx, { name, rules }, emit) {
    if (!tx.q('SELECT 1 FROM buckets WHERE name = ?').get(name)) return false;
    if (rules.length)
      tx.q('INSERT OR REPLACE INTO bucket_notifications (bucket, rules) VALUES (?, ?)').run(
        name,
        JSON.stringify(rules),
      );
    else tx.q('DELETE FROM bucket_notifications WHERE bucket = ?').run(name);
    emit({ type: 'bucket.config', bucket: name });
    return true;
  },

  'object.put'(tx, c, emit) {
    return { replacedFileId: putObject(tx, c.object, c.cond, c.at, emit) };
  },
  'object.delete'(tx, c, emit) {
    return deleteObject(tx, c.bucket, c.key, c.at, emit, c.cond);
  },
  'objects.delete'(tx, c, emit) {
    return c.keys.map((k) => deleteObject(tx, c.bucket, k, c.at, emit)).filter((f): f is string => f !== null);
  },
  'object.acl'(tx, c, emit) {
    const acl = JSON.stringify(c.acl);
    const changed =
      c.versionId === undefined
        ? tx.q('UPDATE objects SET acl = ? WHERE bucket = ? AND key = ?').run(acl, c.bucket, c.key).changes > 0
        : tx
            .q("UPDATE objects SET acl = ? WHERE bucket = ? AND key = ? AND COALESCE(version_id, 'null') = ?")
            .run(acl, c.bucket, c.key, c.versionId).changes > 0 ||
          tx
            .q(
              'UPDATE object_versions SET acl = ? WHERE bucket = ? AND key = ? AND version_id = ? AND delete_marker = 0',
            )
            .run(acl, c.bucket, c.key, c.versionId).changes > 0;
    if (changed) emit({ type: 'object.acl', bucket: c.bucket, key: c.key });
    return changed;
  },

  'marker.put'(tx, c, emit) {
    if (c.cond) checkDeleteCondition(currentForCondition(tx, c.bucket, c.key), c.cond);
    const prev = tx.q('SELECT size FROM objects WHERE bucket = ? AND key = ?').get(c.bucket, c.key) as Row | undefined;
    if (prev) archiveCurrent(tx, c.bucket, c.key);
    // Announced also on a key whose newest version is already a marker (or that has none), as
    // AWS does; only a marker that hides a current version changes the counters.
    emit({
      type: 'object.removed',
      bucket: c.bucket,
      key: c.key,
      size: prev ? (prev.size as number) : 0,
      marker: true,
      versionId: c.markerId ?? 'null',
      ...(prev ? {} : { uncounted: true as const }),
    });
    const nullRow =
      c.markerId === null
        ? (tx
            .q("SELECT retention, legal_hold FROM object_versions WHERE bucket = ? AND key = ? AND version_id = 'null'")
            .get(c.bucket, c.key) as Row | undefined)
        : undefined;
    if (nullRow) refuseLocked(nullRow, c.at, false);
    const removed = c.markerId === null ? dropNoncurrent(tx, c.bucket, c.key, 'null', c.at) : null;
    tx.q(`INSERT INTO object_versions (bucket, key, version_id, seq, delete_marker, file_id, size, etag, last_modified,
            owner_id, owner_display)
          VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM object_versions WHERE bucket = ? AND key = ?), 1, '', 0, '', ?, ?, ?)`).run(
      c.bucket,
      c.key,
      c.markerId ?? 'null',
      c.bucket,
      c.key,
      c.at,
      c.owner.id,
      c.owner.displayName,
    );
    return { removed };
  },
  'version.delete'(tx, c, emit) {
    const cur = tx
      .q(
        'SELECT file_id, size, etag, last_modified, version_id, retention, legal_hold FROM objects WHERE bucket = ? AND key = ?',
      )
      .get(c.bucket, c.key) as Row | undefined;
    if (c.cond) {
      const target =
        cur && ((cur.version_id as string | null) ?? 'null') === c.versionId
          ? cur
          : (tx
              .q(
                'SELECT size, etag, last_modified FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ? AND delete_marker = 0',
              )
              .get(c.bucket, c.key, c.versionId) as Row | undefined);
      checkDeleteCondition(target, c.cond);
    }
    if (cur && ((cur.version_id as string | null) ?? 'null') === c.versionId) {
      refuseLocked(cur, c.at, c.bypassGovernance);
      tx.q('DELETE FROM objects WHERE bucket = ? AND key = ?').run(c.bucket, c.key);
      emit({ type: 'object.removed', bucket: c.bucket, key: c.key, size: cur.size as number, versionId: c.versionId });
      const removed = releaseFile(tx, cur.file_id as string, c.at);
      promoteNewest(tx, c.bucket, c.key, emit);
      return { found: true, deleteMarker: false, removed };
    }
    const v = tx
      .q(
        'SELECT delete_marker, size, retention, legal_hold FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?',
      )
      .get(c.bucket, c.key, c.versionId) as Row | undefined;
    if (!v) return { found: false, deleteMarker: false, removed: null };
    refuseLocked(v, c.at, c.bypassGovernance);
    const removed = dropNoncurrent(tx, c.bucket, c.key, c.versionId, c.at);
    // A version (or marker) removed for good: s3:ObjectRemoved:Delete, as for a current one.
    emit({
      type: 'object.removed',
      bucket: c.bucket,
      key: c.key,
      size: v.size as number,
      versionId: c.versionId,
      uncounted: true,
    });
    // Removing the delete marker that hid the key brings the newest version back.
    if (!cur) promoteNewest(tx, c.bucket, c.key, emit);
    return { found: true, deleteMarker: v.delete_marker === 1, removed };
  },
  'version.set'(tx, c, emit) {
    const cur = tx
      .q('SELECT version_id, etag, retention, legal_hold FROM objects WHERE bucket = ? AND key = ?')
      .get(c.bucket, c.key) as Row | undefined;
    const inCurrent =
      cur !== undefined && (c.versionId === null || ((cur.version_id as string | null) ?? 'null') === c.versionId);
    const row = inCurrent
      ? cur
      : c.versionId === null
        ? undefined
        : (tx
            .q(
              'SELECT version_id, etag, retention, legal_hold FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ? AND delete_marker = 0',
            )
            .get(c.bucket, c.key, c.versionId) as Row | undefined);
    if (!row) return false;
    if ('tags' in c.set) {
      const versionId = (row.version_id as string | null) ?? 'null';
      emit({
        type: 'object.tagged',
        bucket: c.bucket,
        key: c.key,
        etag: row.etag as string,
        ...(versionId === 'null' ? {} : { versionId }),
      });
    }
    let column: 'tags' | 'retention' | 'legal_hold';
    let value: string | number | null;
    if ('tags' in c.set) {
      column = 'tags';
      value = c.set.tags?.length ? JSON.stringify(c.set.tags) : null;
    } else if ('legalHold' in c.set) {
      column = 'legal_hold';
      value = c.set.legalHold ? 1 : 0;
    } else {
      checkRetentionChange(row, c.set.retention, c.at, c.set.bypassGovernance);
      column = 'retention';
      value = c.set.retention ? JSON.stringify(c.set.retention) : null;
    }
    if (inCurrent) tx.q(`UPDATE objects SET ${column} = ? WHERE bucket = ? AND key = ?`).run(value, c.bucket, c.key);
    else
      tx.q(`UPDATE object_versions SET ${column} = ? WHERE bucket = ? AND key = ? AND version_id = ?`).run(
        value,
        c.bucket,
        c.key,
        c.versionId,
      );
    return true;
  },

  'upload.create'(tx, { upload: u }) {
    tx.q(`INSERT INTO multipart_uploads (upload_id, bucket, key, content_type, content_encoding, content_language,
            content_disposition, cache_control, expires, storage_class, acl, user_metadata, owner_id, owner_display,
            initiated_at, checksum_algorithm, checksum_type, tags, retention, legal_hold)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      u.uploadId,
      u.bucket,
      u.key,
      u.contentType,
      u.contentEncoding,
      u.contentLanguage,
      u.contentDisposition,
      u.cacheControl,
      u.expires,
      u.storageClass,
      JSON.stringify(u.acl),
      JSON.stringify(u.userMetadata),
      u.ownerId,
      u.ownerDisplay,
      u.initiatedAt,
      u.checksumAlgorithm,
      u.checksumType,
      u.tags?.length ? JSON.stringify(u.tags) : null,
      u.retention ? JSON.stringify(u.retention) : null,
      u.legalHold ? 1 : 0,
    );
    return null;
  },
  'upload.part'(tx, { uploadId, part: p, at }) {
    if (!tx.q('SELECT 1 FROM multipart_uploads WHERE upload_id = ?').get(uploadId)) {
      queueGc(tx, p.fileId, at);
      return { stored: false, remove: [p.fileId] };
    }
    const prev = tx
      .q('SELECT file_id FROM multipart_parts WHERE upload_id = ? AND part_number = ?')
      .get(uploadId, p.partNumber) as Row | undefined;
    tx.q(`INSERT OR REPLACE INTO multipart_parts (upload_id, part_number, file_id, size, etag, last_modified, checksum_value)
          VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
      uploadId,
      p.partNumber,
      p.fileId,
      p.size,
      p.etag,
      p.lastModified,
      p.checksumValue,
    );
    if (!prev || prev.file_id === p.fileId) return { stored: true, remove: [] };
    queueGc(tx, prev.file_id as string, at);
    return { stored: true, remove: [prev.file_id as string] };
  },
  'upload.abort'(tx, c) {
    return dropUpload(tx, c.uploadId, c.at);
  },
  /**
   * The object row replaces any current version, the upload and its parts go (their files
   * queued), and the completion is remembered so a retried Complete answers the same.
   * Null when the upload vanished meanwhile (the assembled file is then queued).
   */
  'upload.complete'(tx, c, emit) {
    if (!tx.q('SELECT 1 FROM multipart_uploads WHERE upload_id = ?').get(c.uploadId)) {
      if (c.object.fileId) queueGc(tx, c.object.fileId, c.at);
      return null;
    }
    const replaced = putObject(tx, c.object, c.cond, c.at, emit);
    const files = dropUpload(tx, c.uploadId, c.at) ?? [];
    tx.q(
      'INSERT OR REPLACE INTO completed_uploads (upload_id, bucket, key, etag, completed_at) VALUES (?, ?, ?, ?, ?)',
    ).run(c.uploadId, c.object.bucket, c.object.key, c.object.etag, c.at);
    return replaced ? [...files, replaced] : files;
  },
  /** Drops uploads initiated before `cutoff` and completions remembered since before it. */
  'uploads.reap'(tx, c) {
    const ids = (
      tx.q('SELECT upload_id FROM multipart_uploads WHERE initiated_at < ? ORDER BY upload_id').all(c.cutoff) as Row[]
    ).map((r) => r.upload_id as string);
    const files = ids.flatMap((id) => dropUpload(tx, id, c.at) ?? []);
    tx.q('DELETE FROM completed_uploads WHERE completed_at < ?').run(c.cutoff);
    return files;
  },
  'task.queue'(tx, c) {
    tx.q("INSERT INTO write_tasks (id, state, command, file_id, created_at) VALUES (?, 'pending', ?, ?, ?)").run(
      c.id,
      JSON.stringify(c.command),
      c.fileId,
      c.at,
    );
    return null;
  },
  'task.run'(tx, c, emit) {
    const r = tx.q('SELECT state FROM write_tasks WHERE id = ?').get(c.id) as Row | undefined;
    if (r?.state !== 'pending') return { ran: false };
    const result = apply(tx, c.command, emit) as Results[TaskCommand['type']];
    tx.q("UPDATE write_tasks SET state = 'done', done_at = ? WHERE id = ?").run(c.at, c.id);
    return { ran: true, result };
  },
  'task.fail'(tx, c) {
    tx.q(
      "UPDATE write_tasks SET state = 'failed', error_code = ?, error_message = ?, done_at = ? WHERE id = ? AND state = 'pending'",
    ).run(c.code, c.message, c.at, c.id);
    return null;
  },
  'tasks.prune'(tx, c) {
    return Number(tx.q("DELETE FROM write_tasks WHERE state <> 'pending' AND done_at < ?").run(c.before).changes);
  },
  'gc.done'(tx, c) {
    for (const id of c.fileIds) tx.q('DELETE FROM gc_files WHERE file_id = ?').run(id);
    return null;
  },
  'outbox.delivered'(tx, c) {
    tx.q('DELETE FROM event_outbox WHERE target = ? AND seq IN (SELECT value FROM json_each(?))').run(
      c.target,
      JSON.stringify(c.seqs),
    );
    return null;
  },
  'outbox.forget'(tx, c) {
    const keep = JSON.stringify(c.keepTargets);
    return Number(
      tx.q('DELETE FROM event_outbox WHERE target NOT IN (SELECT value FROM json_each(?))').run(keep).changes,
    );
  },
  'outbox.trim'(tx, c) {
    // Keeps the newest rows that hold `keep` events (a row holds a transaction's events);
    // returns how many events went.
    const cut = tx
      .q(`SELECT MIN(seq) AS s FROM (
            SELECT seq, n, SUM(n) OVER (ORDER BY seq DESC) AS c FROM event_outbox WHERE target = ?)
          WHERE c - n < ?`)
      .get(c.target, c.keep) as Row;
    if (cut.s === null) return 0;
    const s = cut.s as number;
    const dropped = tx.q('SELECT SUM(n) AS n FROM event_outbox WHERE target = ? AND seq < ?').get(c.target, s) as Row;
    tx.q('DELETE FROM event_outbox WHERE target = ? AND seq < ?').run(c.target, s);
    return Number(dropped.n ?? 0);
  },

  'blob.chunk'(tx, c) {
    tx.q('INSERT INTO blob_chunks (file_id, seq, data) VALUES (?, ?, ?)').run(
      c.fileId,
      c.seq,
      Buffer.from(c.data, 'base64'),
    );
    return null;
  },
  'blob.remove'(tx, c) {
    tx.q('DELETE FROM blob_chunks WHERE file_id = ?').run(c.fileId);
    return null;
  },
  ...IMPORT_APPLIERS,
};
