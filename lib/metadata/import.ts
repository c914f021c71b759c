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
import { sqlOf, type MetadataStore } from './sqlite.ts';
import { ImportRecordError } from './apply-import.ts';
import type { ImportedRecord, ImportMode, ImportOutcome } from './commands.ts';
import { JsonFormatError, readSections } from './json-sections.ts';
import {
  columnsOf,
  EXTENSION,
  REDACTED,
  recordToRow,
  RecordError,
  TABLES,
  type Column,
  type TableName,
} from './export-format.ts';
import { LocalStorage } from '../storage/local.ts';

export { JsonFormatError } from './json-sections.ts';

/** A problem with the file as a whole (JsonFormatError names a line instead). */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

export type { ImportMode } from './commands.ts';

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
  const plan: Plan = {
    present: new Set(),
    bucketOwners: new Map(),
    uploads: new Set(),
    redacted: false,
    envelope: false,
  };
  const wanted = (t: TableName): boolean => !opts.tables || opts.tables.includes(t);
  let n = 0;
  await readSections(open(), {
    begin(section, line, isArray) {
      if (section === 'bleepstore_export') {
        if (isArray) throw new JsonFormatError(line, '"bleepstore_export" must be an object');
        return;
      }
      if (!isTable(section))
        throw new JsonFormatError(
          line,
          `unknown section ${JSON.stringify(section)}; expected bleepstore_export or ${TABLES.join(', ')}`,
        );
      if (!isArray) throw new JsonFormatError(line, `section "${section}" must be an array`);
      if (wanted(section)) plan.present.add(section);
    },
    value(_section, value, line) {
      const env = value as Record<string, unknown> | null;
      if (typeof env !== 'object' || env === null || env.version !== 1) {
        throw new JsonFormatError(
          line,
          '"bleepstore_export" must be an object with "version": 1 (this file is from an unknown format version)',
        );
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
      if (table === 'buckets')
        plan.bucketOwners.set(row.name as string, {
          id: row.owner_id as string,
          display_name: row.owner_display as string,
        });
      if (table === 'multipart_uploads') plan.uploads.add(row.upload_id as string);
      if (table === 'credentials' && row.secret_key === REDACTED) plan.redacted = true;
      if (++n % 1000 === 0) opts.onProgress?.('check', n);
    },
  });
  if (!plan.envelope)
    throw new ImportError('the file has no "bleepstore_export" envelope; is it a BleepStore metadata export?');
  if (opts.mode === 'replace') {
    for (const t of plan.present) {
      const missing = (REPLACE_NEEDS[t] ?? []).filter((d) => !plan.present.has(d));
      if (missing.length)
        throw new ImportError(
          `--replace would empty ${missing.join(' and ')} along with ${t}, but the file has no ${missing.join(' or ')} section`,
        );
    }
  }
  return plan;
}

const CHUNK = 1000;

export async function importMetadata(store: MetadataStore, open: Chunks, opts: ImportOptions): Promise<ImportReport> {
  const sql = sqlOf(store);
  const columns = Object.fromEntries(TABLES.map((t) => [t, columnsOf(sql.db, t)])) as Record<TableName, Column[]>;
  const plan = await check(open, columns, opts);

  const report: ImportReport = { imported: {}, skipped: {}, warnings: [], missingFiles: 0 };
  let warned = 0;
  const add = (o: ImportOutcome): void => {
    for (const [t, n] of Object.entries(o.imported))
      report.imported[t as TableName] = (report.imported[t as TableName] ?? 0) + n;
    for (const [t, n] of Object.entries(o.skipped))
      report.skipped[t as TableName] = (report.skipped[t as TableName] ?? 0) + n;
    for (const m of o.warnings) {
      if (warned++ < MAX_WARNINGS) report.warnings.push(m);
      else if (warned === MAX_WARNINGS + 1) report.warnings.push('(further warnings left out)');
    }
  };
  const files = opts.objectsDir ? new LocalStorage(opts.objectsDir) : undefined;
  const fileBuckets = Object.fromEntries(plan.bucketOwners);
  const fileUploads = [...plan.uploads];

  let n = 0;
  try {
    await store.atomically(async (session) => {
      if (opts.mode === 'replace')
        add(
          session.apply({
            type: 'import.clear',
            tables: [...plan.present],
            redacted: plan.redacted,
            at: new Date().toISOString(),
          }),
        );
      let chunk: ImportedRecord[] = [];
      const flush = (): void => {
        if (!chunk.length) return;
        // Each command carries only the file's buckets and uploads its own records name.
        const names = new Set(
          chunk.map((r) => (r.record as Row).bucket).filter((b): b is string => typeof b === 'string'),
        );
        const uploads = new Set(chunk.map((r) => (r.record as Row).upload_id));
        add(
          session.apply({
            type: 'import.records',
            mode: opts.mode,
            records: chunk,
            fileBuckets: Object.fromEntries(Object.entries(fileBuckets).filter(([b]) => names.has(b))),
            fileUploads: fileUploads.filter((u) => uploads.has(u)),
          }),
        );
        chunk = [];
      };
      await readSections(open(), {
        begin() {},
        value() {},
        item(section, value, line) {
          const table = section as TableName;
          if (!plan.present.has(table)) return;
          const ext = (value as Row)[EXTENSION] as Row | undefined;
          const fileId = ext?.file_id;
          if (files && typeof fileId === 'string' && fileId !== '' && !existsSync(files.pathOf(fileId)))
            report.missingFiles++;
          chunk.push({ table, line, record: value });
          if (chunk.length >= CHUNK) flush();
          if (++n % 1000 === 0) opts.onProgress?.('apply', n);
        },
      });
      flush();
    });
  } catch (err) {
    if (err instanceof ImportRecordError) throw new JsonFormatError(err.line, err.message);
    if (err instanceof Error && /FOREIGN KEY/i.test(err.message))
      throw new ImportError(`the records do not fit together: ${err.message}`);
    throw err;
  }
  if (report.skipped.credentials && plan.redacted) {
    report.warnings.push(
      `credentials: ${report.skipped.credentials} skipped (secrets redacted or key already present); export with --include-credentials to move keys`,
    );
  }
  return report;
}
