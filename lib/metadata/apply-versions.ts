// Helpers of apply() for versions and Object Lock: archiving the current version, removing
// noncurrent ones, freeing files no version references, and the lock and condition checks.
import type { Row, Sql } from './connection.ts';
import type { Change } from './changes.ts';
import { LockedError, PreconditionError } from './errors.ts';
import { VERSION_COLUMNS } from './rows.ts';
import type { DeleteCondition, Retention } from './types.ts';

/** How apply() tells the change hook what it changed. */
export type Emit = (change: Change) => void;

export function queueGc(tx: Sql, fileId: string, at: string): void {
  tx.q('INSERT OR IGNORE INTO gc_files (file_id, queued_at) VALUES (?, ?)').run(fileId, at);
}

/** Moves the current version (if any) to object_versions as the newest noncurrent one. */
export function archiveCurrent(tx: Sql, bucket: string, key: string): boolean {
  const r = tx
    .q(`INSERT INTO object_versions (bucket, key, version_id, seq, ${VERSION_COLUMNS})
        SELECT bucket, key, COALESCE(version_id, 'null'),
          (SELECT COALESCE(MAX(seq), 0) + 1 FROM object_versions WHERE bucket = ? AND key = ?), ${VERSION_COLUMNS}
        FROM objects WHERE bucket = ? AND key = ?`)
    .run(bucket, key, bucket, key);
  if (r.changes === 0) return false;
  tx.q('DELETE FROM objects WHERE bucket = ? AND key = ?').run(bucket, key);
  return true;
}

/** Removes one noncurrent version or delete marker; returns its file (queued) if no row still uses it. */
export function dropNoncurrent(tx: Sql, bucket: string, key: string, versionId: string, at: string): string | null {
  const r = tx
    .q('DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ? RETURNING file_id')
    .get(bucket, key, versionId) as Row | undefined;
  return r ? releaseFile(tx, r.file_id as string, at) : null;
}

/** Queues a file no object row references any more; returns it, or null. */
export function releaseFile(tx: Sql, fileId: string, at: string): string | null {
  if (!fileId) return null;
  if (tx.q('SELECT 1 FROM objects WHERE file_id = ? LIMIT 1').get(fileId)) return null;
  if (tx.q('SELECT 1 FROM object_versions WHERE file_id = ? LIMIT 1').get(fileId)) return null;
  queueGc(tx, fileId, at);
  return fileId;
}

/**
 * Object Lock: a version under legal hold or unexpired retention cannot be removed; GOVERNANCE
 * yields to a caller allowed to bypass it, COMPLIANCE to no one.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
 */
export function refuseLocked(r: Row, at: string, bypassGovernance: boolean): void {
  if (r.legal_hold === 1) throw new LockedError('Object is under a legal hold.');
  if (!r.retention) return;
  const ret = JSON.parse(r.retention as string) as Retention;
  if (ret.until <= at) return;
  if (ret.mode === 'COMPLIANCE' || !bypassGovernance)
    throw new LockedError(`Object is protected by ${ret.mode} retention until ${ret.until}.`);
}

export function currentForCondition(tx: Sql, bucket: string, key: string): Row | undefined {
  return tx.q('SELECT size, etag, last_modified FROM objects WHERE bucket = ? AND key = ?').get(bucket, key) as
    | Row
    | undefined;
}

/** A conditional delete's headers against the version it would remove (undefined: none, or a delete marker). */
export function checkDeleteCondition(r: Row | undefined, cond: DeleteCondition): void {
  if (!r) throw new PreconditionError('missing');
  if (cond.ifMatch !== undefined && cond.ifMatch !== '*' && cond.ifMatch !== r.etag)
    throw new PreconditionError('failed');
  if (cond.size !== undefined && cond.size !== r.size) throw new PreconditionError('failed');
  if (
    cond.lastModifiedSeconds !== undefined &&
    cond.lastModifiedSeconds !== Math.floor(Date.parse(r.last_modified as string) / 1000)
  )
    throw new PreconditionError('failed');
}

/** Bulk removals (import --replace, store reset) refuse while any version is locked. */
export function refuseIfAnyLocked(tx: Sql, at: string): void {
  const locked = "legal_hold = 1 OR json_extract(retention, '$.until') > ?";
  if (
    tx.q(`SELECT 1 FROM objects WHERE ${locked} LIMIT 1`).get(at) ||
    tx.q(`SELECT 1 FROM object_versions WHERE ${locked} LIMIT 1`).get(at)
  )
    throw new LockedError(
      'Some object versions are protected by Object Lock (retention or legal hold); they cannot be removed.',
    );
}

/** The newest noncurrent version becomes current again, unless it is a delete marker. */
export function promoteNewest(tx: Sql, bucket: string, key: string, emit: Emit): void {
  const top = tx
    .q(
      'SELECT version_id, delete_marker, size, etag FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1',
    )
    .get(bucket, key) as Row | undefined;
  if (!top || top.delete_marker === 1) return;
  tx.q(`INSERT INTO objects (bucket, key, version_id, ${VERSION_COLUMNS})
        SELECT bucket, key, NULLIF(version_id, 'null'), ${VERSION_COLUMNS} FROM object_versions
        WHERE bucket = ? AND key = ? AND version_id = ?`).run(bucket, key, top.version_id as string);
  tx.q('DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?').run(
    bucket,
    key,
    top.version_id as string,
  );
  emit({
    type: 'object.written',
    bucket,
    key,
    size: top.size as number,
    etag: top.etag as string,
    replaced: null,
    promoted: true,
  });
}

/**
 * PutObjectRetention: COMPLIANCE can only be extended (never shortened, removed or made
 * GOVERNANCE); GOVERNANCE only so without bypass.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes
 */
export function checkRetentionChange(r: Row, next: Retention | null, at: string, bypassGovernance: boolean): void {
  if (!r.retention) return;
  const prev = JSON.parse(r.retention as string) as Retention;
  if (prev.until <= at) return;
  const weakens =
    next === null || next.until < prev.until || (prev.mode === 'COMPLIANCE' && next.mode !== 'COMPLIANCE');
  if (!weakens) return;
  if (prev.mode === 'COMPLIANCE' || !bypassGovernance)
    throw new LockedError(`Object is protected by ${prev.mode} retention until ${prev.until}.`);
}
