// Whole-store questions and changes for operators and embedders (bucket usage, reset), kept
// apart from the request path's statements in sqlite.ts.
import type { MetadataStore } from './sqlite.ts';

type Row = Record<string, unknown>;

export interface BucketUsage {
  objects: number;
  bytes: number;
  uploads: number;
}

/** Objects, their bytes and multipart uploads in progress in one bucket. */
export function bucketUsage(store: MetadataStore, bucket: string): BucketUsage {
  const o = store.q('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM objects WHERE bucket = ?').get(bucket) as Row;
  const u = store.q('SELECT COUNT(*) AS n FROM multipart_uploads WHERE bucket = ?').get(bucket) as Row;
  return { objects: Number(o.n), bytes: Number(o.b), uploads: Number(u.n) };
}

/**
 * Empties the store in one transaction: every bucket, object and multipart upload (keys
 * stay). Returns the file ids that no row references any more; they are queued in gc_files
 * first, so a crash before the caller removes them leaves the removal to the next start.
 */
export function removeAllContents(store: MetadataStore): string[] {
  const files = store.tx(() => {
    const ids = (store.db.prepare("SELECT file_id FROM objects WHERE file_id != '' UNION SELECT file_id FROM multipart_parts").all() as Row[])
      .map((r) => r.file_id as string);
    for (const id of ids) store.queueGc(id);
    store.db.exec('DELETE FROM multipart_parts; DELETE FROM multipart_uploads; DELETE FROM objects; DELETE FROM completed_uploads; DELETE FROM buckets;');
    return ids;
  });
  store.invalidate();
  return files;
}
