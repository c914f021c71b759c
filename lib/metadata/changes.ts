// What a command changed, as the one change hook sees it inside the transaction. First users:
// the per-bucket counters below (so /metrics reads rows instead of scanning objects) and the
// in-process feed (sqlite.ts) that later event notifications and cluster code attach to.
import type { Sql } from './connection.ts';
import type { TableName } from './export-format.ts';

export type Change =
  | { type: 'bucket.created'; bucket: string }
  | { type: 'bucket.deleted'; bucket: string }
  | { type: 'bucket.acl'; bucket: string }
  | { type: 'bucket.config'; bucket: string }
  | {
      type: 'object.written';
      bucket: string;
      key: string;
      size: number;
      etag: string;
      replaced: { size: number } | null;
      /** The new version's id (a versioned bucket; absent for the null version). */
      versionId?: string;
      /** An older version became current again (its delete marker or successor was deleted):
       *  counted, but announced by the removal that caused it, as AWS does. */
      promoted?: true;
    }
  /**
   * `marker`: a delete marker was created (versioning); `versionId`: the marker's, or the
   * version removed for good. `uncounted`: what went was not a current version (a noncurrent
   * version, a delete marker, or nothing behind a new marker), so bucket_stats stays.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
   */
  | {
      type: 'object.removed';
      bucket: string;
      key: string;
      size: number;
      marker?: true;
      versionId?: string;
      uncounted?: true;
    }
  | { type: 'object.acl'; bucket: string; key: string }
  /** A version's tag set was replaced or removed (Put/DeleteObjectTagging). */
  | { type: 'object.tagged'; bucket: string; key: string; etag: string; versionId?: string }
  | { type: 'credential.changed'; accessKeyId: string }
  /** Bulk changes (an import's --replace): derived state is rebuilt from the tables. */
  | { type: 'tables.replaced'; tables: TableName[] };

export type ChangeHook = (tx: Sql, change: Change) => void;

/** Keeps bucket_stats (objects and bytes per bucket) in step with every change. */
export const countChange: ChangeHook = (tx, c) => {
  switch (c.type) {
    case 'bucket.created':
      tx.q('INSERT OR IGNORE INTO bucket_stats (bucket, objects, bytes) VALUES (?, 0, 0)').run(c.bucket);
      return;
    case 'bucket.deleted':
      tx.q('DELETE FROM bucket_stats WHERE bucket = ?').run(c.bucket);
      return;
    case 'object.written':
      bump(tx, c.bucket, c.replaced ? 0 : 1, c.size - (c.replaced?.size ?? 0));
      return;
    case 'object.removed':
      if (!c.uncounted) bump(tx, c.bucket, -1, -c.size);
      return;
    case 'tables.replaced':
      if (!c.tables.includes('objects') && !c.tables.includes('buckets')) return;
      tx.exec('DELETE FROM bucket_stats');
      tx.exec(`INSERT INTO bucket_stats (bucket, objects, bytes)
               SELECT b.name, COUNT(o.key), COALESCE(SUM(o.size), 0) FROM buckets b LEFT JOIN objects o ON o.bucket = b.name GROUP BY b.name`);
      return;
    default:
  }
};

function bump(tx: Sql, bucket: string, objects: number, bytes: number): void {
  tx.q(`INSERT INTO bucket_stats (bucket, objects, bytes) VALUES (?, ?, ?)
        ON CONFLICT(bucket) DO UPDATE SET objects = objects + excluded.objects, bytes = bytes + excluded.bytes`).run(
    bucket,
    objects,
    bytes,
  );
}
