// Metadata import (specs/metadata-serialization.md). Two passes over the file: the first
// validates every record and changes nothing; the second applies them all in one
// transaction, so a bad file (or a failure half-way) leaves the database as it was.
//
// merge: INSERT OR IGNORE, existing rows win. replace: the tables the file carries are
// emptied first (parts → uploads → objects → buckets; credentials only when the file has
// real secrets, so a redacted export cannot lock everyone out). Records whose bucket or
// upload is nowhere are skipped with a warning; so are credentials with redacted secrets.
// Files of removed rows are queued in gc_files and removed when the server next starts.
//
// Like export, it needs a MetadataStore of its own: the transaction spans the async reads.
import { existsSync } from 'node:fs';
import type { MetadataStore } from './sqlite.ts';
import { JsonFormatError, readSections } from './json-sections.ts';
import { columnsOf, privateAcl, REDACTED, recordToRow, RecordError, TABLES, type Column, type TableName } from './export-format.ts';
import { LocalStorage } from '../storage/local.ts';

export { JsonFormatError } from './json-sections.ts';

/** A problem with the file as a whole (JsonFormatError names a line instead). */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

export type ImportMode = 'merge' | 'replace';

export interface ImportOptions {
  mode: ImportMode;
  /** Sections to import (default: all in the file); others are checked for syntax only. */
  tables?: readonly TableName[];
  /** The objects directory; when given, records whose file is missing there are counted. */
  objectsDir?: string;
  /** Called every 1000 records of each pass. */
  onProgress?: (pass: 'check' | 'apply', records: number) => void;
}

export interface ImportReport {
  imported: Partial<Record<TableName, number>>;
  /** Records left out: already present (merge), no parent, or a redacted secret. */
  skipped: Partial<Record<TableName, number>>;
  warnings: string[];
  /** Object and part records whose file is not in `objectsDir`. */
  missingFiles: number;
}

type Row = Record<string, unknown>;
type Chunks = () => AsyncIterable<string | Buffer>;

const MAX_WARNINGS = 20;
const REPLACE_NEEDS: Partial<Record<TableName, TableName[]>> = {
  buckets: ['objects', 'multipart_uploads'],
  multipart_uploads: ['multipart_parts'],
};

interface Plan {
  present: Set<TableName>;
  bucketOwners: Map<string, { id: string; display_name: string }>;
  uploads: Set<string>;
  redacted: boolean;
  envelope: boolean;
}

function isTable(s: string): s is TableName {
  return (TABLES as readonly string[]).includes(s);
}

/** Pass 1: every record valid, every section known, envelope version 1. */
async function check(open: Chunks, columns: Record<TableName, Column[]>, opts: ImportOptions): Promise<Plan> {
  const plan: Plan = { present: new Set(), bucketOwners: new Map(), uploads: new Set(), redacted: false, envelope: false };
  const wanted = (t: TableName): boolean => !opts.tables || opts.tables.includes(t);
  let n = 0;
  await readSections(open(), {
    begin(section, line, isArray) {
      if (section === 'bleepstore_export') {
        if (isArray) throw new JsonFormatError(line, '"bleepstore_export" must be an object');
        return;
      }
      if (!isTable(section)) throw new JsonFormatError(line, `unknown section ${JSON.stringify(section)}; expected bleepstore_export or ${TABLES.join(', ')}`);
      if (!isArray) throw new JsonFormatError(line, `section "${section}" must be an array`);
      if (wanted(section)) plan.present.add(section);
    },
    value(_section, value, line) {
      const env = value as Record<string, unknown> | null;
      if (typeof env !== 'object' || env === null || env.version !== 1) {
        throw new JsonFormatError(line, '"bleepstore_export" must be an object with "version": 1 (this file is from an unknown format version)');
      }
      plan.envelope = true;
    },
    item(section, value, line) {
      const table = section as TableName;
      let row: Row;
      try {
        row = recordToRow(table, value, columns[table]).row;
      } catch (err) {
        if (err instanceof RecordError) throw new JsonFormatError(line, err.message);
        throw err;
      }
      if (!wanted(table)) return;
      if (table === 'buckets') plan.bucketOwners.set(row.name as string, { id: row.owner_id as string, display_name: row.owner_display as string });
      if (table === 'multipart_uploads') plan.uploads.add(row.upload_id as string);
      if (table === 'credentials' && row.secret_key === REDACTED) plan.redacted = true;
      if (++n % 1000 === 0) opts.onProgress?.('check', n);
    },
  });
  if (!plan.envelope) throw new ImportError('the file has no "bleepstore_export" envelope; is it a BleepStore metadata export?');
  if (opts.mode === 'replace') {
    for (const t of plan.present) {
      const missing = (REPLACE_NEEDS[t] ?? []).filter((d) => !plan.present.has(d));
      if (missing.length) throw new ImportError(`--replace would empty ${missing.join(' and ')} along with ${t}, but the file has no ${missing.join(' or ')} section`);
    }
  }
  return plan;
}

/** Empties the tables the file replaces, queueing their files for removal. */
function clear(store: MetadataStore, plan: Plan, warn: (m: string) => void): void {
  const now = new Date().toISOString();
  const db = store.db;
  const has = (t: TableName): boolean => plan.present.has(t);
  if (has('multipart_uploads') || has('multipart_parts')) {
    db.prepare('INSERT OR IGNORE INTO gc_files (file_id, queued_at) SELECT file_id, ? FROM multipart_parts').run(now);
    db.exec('DELETE FROM multipart_parts');
  }
  if (has('multipart_uploads')) db.exec('DELETE FROM multipart_uploads');
  if (has('objects')) {
    db.prepare("INSERT OR IGNORE INTO gc_files (file_id, queued_at) SELECT file_id, ? FROM objects WHERE file_id != ''").run(now);
    db.exec('DELETE FROM objects');
  }
  if (has('buckets')) db.exec('DELETE FROM buckets');
  if (has('credentials')) {
    if (plan.redacted) warn('credentials: the file has redacted secrets, so existing keys were kept and only keys with real secrets were added');
    else db.exec('DELETE FROM credentials');
  }
}

export async function importMetadata(store: MetadataStore, open: Chunks, opts: ImportOptions): Promise<ImportReport> {
  const db = store.db;
  const columns = Object.fromEntries(TABLES.map((t) => [t, columnsOf(db, t)])) as Record<TableName, Column[]>;
  const plan = await check(open, columns, opts);

  const report: ImportReport = { imported: {}, skipped: {}, warnings: [], missingFiles: 0 };
  let warned = 0;
  const warn = (m: string): void => {
    if (warned++ < MAX_WARNINGS) report.warnings.push(m);
    else if (warned === MAX_WARNINGS + 1) report.warnings.push('(further warnings left out)');
  };
  const bump = (where: Partial<Record<TableName, number>>, t: TableName): void => {
    where[t] = (where[t] ?? 0) + 1;
  };
  const verb = opts.mode === 'merge' ? 'INSERT OR IGNORE' : 'INSERT';
  const statements = new Map<string, ReturnType<typeof db.prepare>>();
  const insert = (table: TableName, row: Row): boolean => {
    const cols = Object.keys(row);
    const sql = `${verb} INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    let stmt = statements.get(sql);
    if (!stmt) statements.set(sql, (stmt = db.prepare(sql)));
    return stmt.run(...(Object.values(row) as Array<string | number | null>)).changes > 0;
  };
  const dbBucket = db.prepare('SELECT owner_id, owner_display FROM buckets WHERE name = ?');
  const dbUpload = db.prepare('SELECT 1 FROM multipart_uploads WHERE upload_id = ?');
  const bucketOwner = (name: string): { id: string; display_name: string } | undefined => {
    const r = dbBucket.get(name) as Row | undefined;
    return plan.bucketOwners.get(name) ?? (r ? { id: r.owner_id as string, display_name: r.owner_display as string } : undefined);
  };
  const files = opts.objectsDir ? new LocalStorage(opts.objectsDir) : undefined;

  let n = 0;
  db.exec('BEGIN IMMEDIATE');
  try {
    // Sections may come in any order (parts sort before uploads): check references at commit.
    db.exec('PRAGMA defer_foreign_keys = ON');
    if (opts.mode === 'replace') clear(store, plan, warn);
    await readSections(open(), {
      begin() {},
      value() {},
      item(section, value, line) {
        const table = section as TableName;
        if (!plan.present.has(table)) return;
        const { row, aclNeedsBucketOwner } = recordToRow(table, value, columns[table]);
        const parentBucket = 'bucket' in row ? bucketOwner(row.bucket as string) : undefined;
        if ('bucket' in row && !parentBucket) {
          warn(`line ${line}: skipped: ${table} record for bucket "${row.bucket as string}", which neither the file nor the store has`);
          return bump(report.skipped, table);
        }
        if (table === 'multipart_parts' && !plan.uploads.has(row.upload_id as string) && !dbUpload.get(row.upload_id as string)) {
          warn(`line ${line}: skipped: part of upload "${row.upload_id as string}", which neither the file nor the store has`);
          return bump(report.skipped, table);
        }
        if (table === 'credentials' && row.secret_key === REDACTED) return bump(report.skipped, table);
        if (aclNeedsBucketOwner) row.acl = JSON.stringify(privateAcl(parentBucket!));
        if (files && typeof row.file_id === 'string' && row.file_id !== '' && !existsSync(files.pathOf(row.file_id))) report.missingFiles++;
        let added: boolean;
        try {
          added = insert(table, row);
        } catch (err) {
          throw new JsonFormatError(line, `cannot import this ${table} record: ${(err as Error).message}`);
        }
        bump(added ? report.imported : report.skipped, table);
        if (++n % 1000 === 0) opts.onProgress?.('apply', n);
      },
    });
    try {
      db.exec('COMMIT');
    } catch (err) {
      throw new ImportError(`the records do not fit together: ${(err as Error).message}`);
    }
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  } finally {
    store.invalidate();
  }
  if (report.skipped.credentials && plan.redacted) {
    report.warnings.push(`credentials: ${report.skipped.credentials} skipped (secrets redacted or key already present); export with --include-credentials to move keys`);
  }
  return report;
}

