// The appliers of bulk changes: an import's clearing and records, and a store reset (see
// lib/metadata/import.ts). Part of apply(); kept apart because they touch every table.
import type { Row, Sql } from './connection.ts';
import type { CommandOf, ImportOutcome, Results } from './commands.ts';
import { columnsOf, privateAcl, recordToRow, REDACTED, type TableName } from './export-format.ts';
import { queueGc, refuseIfAnyLocked, type Emit } from './apply-versions.ts';

type Bulk = 'import.clear' | 'store.reset' | 'import.records';

export const IMPORT_APPLIERS: { [T in Bulk]: (tx: Sql, cmd: CommandOf<T>, emit: Emit) => Results[T] } = {
  /** Empties the tables an import replaces, queueing their files for removal. */
  'import.clear'(tx, c, emit) {
    const has = (t: TableName): boolean => c.tables.includes(t);
    const warnings: string[] = [];
    if (has('multipart_uploads') || has('multipart_parts')) {
      tx.q('INSERT OR IGNORE INTO gc_files (file_id, queued_at) SELECT file_id, ? FROM multipart_parts').run(c.at);
      tx.exec('DELETE FROM multipart_parts');
    }
    if (has('multipart_uploads')) tx.exec('DELETE FROM multipart_uploads');
    // Replacing objects replaces their older versions too (an export without an
    // object_versions section, from before it had one, restores current versions only).
    if (has('objects') || has('object_versions')) {
      refuseIfAnyLocked(tx, c.at);
      tx.q(
        "INSERT OR IGNORE INTO gc_files (file_id, queued_at) SELECT file_id, ? FROM object_versions WHERE file_id != ''",
      ).run(c.at);
      tx.exec('DELETE FROM object_versions');
    }
    if (has('objects')) {
      tx.q(
        "INSERT OR IGNORE INTO gc_files (file_id, queued_at) SELECT file_id, ? FROM objects WHERE file_id != ''",
      ).run(c.at);
      tx.exec('DELETE FROM objects');
    }
    if (has('bucket_notifications')) tx.exec('DELETE FROM bucket_notifications');
    if (has('buckets')) tx.exec('DELETE FROM buckets');
    if (has('credentials')) {
      if (c.redacted)
        warnings.push(
          'credentials: the file has redacted secrets, so existing keys were kept and only keys with real secrets were added',
        );
      else tx.exec('DELETE FROM credentials');
    }
    emit({ type: 'tables.replaced', tables: c.tables });
    return { imported: {}, skipped: {}, warnings };
  },
  /** Every bucket, object and upload goes; their files are queued and returned for removal. */
  'store.reset'(tx, c, emit) {
    refuseIfAnyLocked(tx, c.at);
    const files = (
      tx
        .q(
          "SELECT file_id FROM objects WHERE file_id != '' UNION SELECT file_id FROM object_versions WHERE file_id != '' UNION SELECT file_id FROM multipart_parts ORDER BY file_id",
        )
        .all() as Row[]
    ).map((r) => r.file_id as string);
    for (const id of files) queueGc(tx, id, c.at);
    tx.exec(
      'DELETE FROM multipart_parts; DELETE FROM multipart_uploads; DELETE FROM object_versions; DELETE FROM objects; DELETE FROM completed_uploads; DELETE FROM buckets;',
    );
    emit({ type: 'tables.replaced', tables: ['multipart_parts', 'multipart_uploads', 'objects', 'buckets'] });
    return files;
  },
  /** Inserts checked records; those whose bucket or upload is nowhere are skipped with a warning. */
  'import.records'(tx, c, emit) {
    // Sections may come in any order (parts before uploads): references are checked at commit.
    tx.exec('PRAGMA defer_foreign_keys = ON');
    const out: ImportOutcome = { imported: {}, skipped: {}, warnings: [] };
    const bump = (where: Partial<Record<TableName, number>>, t: TableName): void => {
      where[t] = (where[t] ?? 0) + 1;
    };
    const verb = c.mode === 'merge' ? 'INSERT OR IGNORE' : 'INSERT';
    const columns = new Map<TableName, ReturnType<typeof columnsOf>>();
    const bucketOwner = (name: string): { id: string; display_name: string } | undefined => {
      if (c.fileBuckets[name]) return c.fileBuckets[name];
      const r = tx.q('SELECT owner_id, owner_display FROM buckets WHERE name = ?').get(name) as Row | undefined;
      return r ? { id: r.owner_id as string, display_name: r.owner_display as string } : undefined;
    };
    for (const { table, line, record } of c.records) {
      if (!columns.has(table)) columns.set(table, columnsOf(tx.db, table));
      const { row, aclNeedsBucketOwner } = recordToRow(table, record, columns.get(table)!);
      const parentBucket = 'bucket' in row ? bucketOwner(row.bucket as string) : undefined;
      if ('bucket' in row && !parentBucket) {
        out.warnings.push(
          `line ${line}: skipped: ${table} record for bucket "${row.bucket as string}", which neither the file nor the store has`,
        );
        bump(out.skipped, table);
        continue;
      }
      if (
        table === 'multipart_parts' &&
        !c.fileUploads.includes(row.upload_id as string) &&
        !tx.q('SELECT 1 FROM multipart_uploads WHERE upload_id = ?').get(row.upload_id as string)
      ) {
        out.warnings.push(
          `line ${line}: skipped: part of upload "${row.upload_id as string}", which neither the file nor the store has`,
        );
        bump(out.skipped, table);
        continue;
      }
      if (table === 'credentials' && row.secret_key === REDACTED) {
        bump(out.skipped, table);
        continue;
      }
      if (aclNeedsBucketOwner) row.acl = JSON.stringify(privateAcl(parentBucket!));
      const cols = Object.keys(row);
      let added: boolean;
      try {
        added =
          tx
            .q(
              `${verb} INTO ${table} (${cols.map((k) => `"${k}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
            )
            .run(...(Object.values(row) as Array<string | number | null>)).changes > 0;
      } catch (err) {
        throw new ImportRecordError(line, `cannot import this ${table} record: ${(err as Error).message}`);
      }
      bump(added ? out.imported : out.skipped, table);
      if (!added) continue;
      if (table === 'buckets') emit({ type: 'bucket.created', bucket: row.name as string });
      if (table === 'objects')
        emit({
          type: 'object.written',
          bucket: row.bucket as string,
          key: row.key as string,
          size: row.size as number,
          etag: row.etag as string,
          replaced: null,
        });
      if (table === 'credentials') emit({ type: 'credential.changed', accessKeyId: row.access_key_id as string });
      if (table === 'bucket_notifications') emit({ type: 'bucket.config', bucket: row.bucket as string });
    }
    return out;
  },
};

/** An import record the database refused (a constraint); names the record's line. */
export class ImportRecordError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}
