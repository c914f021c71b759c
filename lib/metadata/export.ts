// Metadata export (specs/metadata-serialization.md): one consistent snapshot, written record
// by record, so memory stays flat however large the store is. The text is exactly what
// JSON.stringify(sorted document, null, 2) would give.
//
// Give it a MetadataStore of its own (as the CLI does): it holds a read transaction open
// across writes to `out`, which a connection shared with a running server cannot do.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { sqlOf, type MetadataStore } from './sqlite.ts';
import { ORDER, rowToRecord, sortKeys, TABLES, type TableName } from './export-format.ts';
import { version } from '../version.ts';

export interface ExportOptions {
  /** Tables to include (default: all); the others are left out of the document entirely. */
  tables?: readonly TableName[];
  /** Real secret keys instead of "REDACTED". */
  includeCredentials?: boolean;
  now?: Date;
  /** Called every 1000 records with the running total. */
  onProgress?: (records: number) => void;
}

export type ExportCounts = Partial<Record<TableName, number>>;

const FLUSH_AT = 64 * 1024;

export async function exportMetadata(
  store: MetadataStore,
  out: Writable,
  opts: ExportOptions = {},
): Promise<ExportCounts> {
  const tables = TABLES.filter((t) => !opts.tables || opts.tables.includes(t));
  let buf = '';
  const write = async (s: string): Promise<void> => {
    buf += s;
    if (buf.length < FLUSH_AT) return;
    const chunk = buf;
    buf = '';
    if (!out.write(chunk)) await once(out, 'drain');
  };
  const envelope = {
    version: 1,
    exported_at: (opts.now ?? new Date()).toISOString(),
    schema_version: 1,
    source: `typescript/${version}`,
  };
  const counts: ExportCounts = {};
  let total = 0;

  const db = sqlOf(store).db;
  db.exec('BEGIN');
  try {
    // Top-level members in sorted order, like every record's fields.
    const members: Array<'bleepstore_export' | TableName> = ['bleepstore_export', ...tables];
    members.sort();
    await write('{\n');
    for (const [i, member] of members.entries()) {
      const comma = i < members.length - 1 ? ',' : '';
      if (member === 'bleepstore_export') {
        await write(`  "bleepstore_export": ${indent(JSON.stringify(sortKeys(envelope), null, 2))}${comma}\n`);
        continue;
      }
      let n = 0;
      for (const row of db.prepare(`SELECT * FROM ${member} ORDER BY ${ORDER[member]}`).iterate()) {
        const rec = rowToRecord(member, row as Record<string, unknown>, opts.includeCredentials === true);
        await write(
          `${n === 0 ? `  ${JSON.stringify(member)}: [\n` : ',\n'}    ${indent(JSON.stringify(sortKeys(rec), null, 2), 2)}`,
        );
        n++;
        if (++total % 1000 === 0) opts.onProgress?.(total);
      }
      await write(n === 0 ? `  ${JSON.stringify(member)}: []${comma}\n` : `\n  ]${comma}\n`);
      counts[member] = n;
    }
    await write('}\n');
  } finally {
    db.exec('COMMIT');
  }
  if (buf && !out.write(buf)) await once(out, 'drain');
  opts.onProgress?.(total);
  return counts;
}

/** Re-indents a JSON.stringify(…, null, 2) block nested `levels` deep. */
function indent(json: string, levels = 1): string {
  return json.replaceAll('\n', '\n' + '  '.repeat(levels));
}
