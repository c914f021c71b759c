// `bleepstore meta export|import`: the data directory's metadata as JSON
// (specs/metadata-serialization.md). Object bytes are not in the file: they live in the
// objects/ directory under names the file records (x_bleepstore.file_id), so moving a store
// is this file plus a copy of objects/.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { ProcessHooks } from '../process-hooks.ts';
import { exportMetadata, type ExportCounts } from '../metadata/export.ts';
import { importMetadata, ImportError, JsonFormatError, type ImportReport } from '../metadata/import.ts';
import { TABLES, type TableName } from '../metadata/export-format.ts';
import { AdminError, adminConfig, openStore, runAdmin, STORE_OPTIONS, STORE_USAGE, parseFlags } from './open-store.ts';
import { progressLine, type Progress } from './progress.ts';
import { acquireDataLock } from '../data-lock.ts';

const USAGE = `Usage: bleepstore meta export [--output FILE] [--tables LIST] [--include-credentials] [options]
       bleepstore meta import [--input FILE] [--merge | --replace] [--tables LIST] [options]

export writes the metadata as JSON (stdout by default); secret keys are "REDACTED" unless
--include-credentials. import reads it (stdin by default): --merge (default) keeps existing
rows and adds new ones, --replace empties the tables the file carries first. A bad file
changes nothing. Object bytes are not in the file: copy the objects/ directory alongside it,
and import before a server starts on the copied directory.

Options:
${STORE_USAGE}
  --format json       the only format
  --tables LIST       comma-separated: ${TABLES.join(',')}`;

const OPTIONS = {
  ...STORE_OPTIONS,
  output: { type: 'string', short: 'o' },
  input: { type: 'string', short: 'i' },
  format: { type: 'string' },
  tables: { type: 'string' },
  'include-credentials': { type: 'boolean' },
  merge: { type: 'boolean' },
  replace: { type: 'boolean' },
} as const;

function parseTables(list: string | undefined): TableName[] | undefined {
  if (list === undefined) return undefined;
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(TABLES as readonly string[]).includes(n));
  if (bad.length || !names.length)
    throw new AdminError(`--tables takes a comma-separated list of ${TABLES.join(', ')} (got "${list}").`, 2);
  return names as TableName[];
}

function summary(counts: Partial<Record<TableName, number>>): string {
  return (
    TABLES.filter((t) => counts[t] !== undefined)
      .map((t) => `${counts[t]} ${t}`)
      .join(', ') || 'nothing'
  );
}

async function runExport(values: Record<string, unknown>): Promise<void> {
  const tables = parseTables(values.tables as string | undefined);
  const output = (values.output as string | undefined) ?? '-';
  const store = openStore(adminConfig(values), true);
  const progress = progressLine('meta export');
  // A file appears only when complete: written beside its final name, renamed at the end.
  const partial = output === '-' ? undefined : `${output}.partial`;
  const out: Writable = partial ? createWriteStream(partial) : process.stdout;
  let counts: ExportCounts;
  // The spec's objects section has current versions only; ours, object_versions, the rest.
  const noncurrent = tables?.includes('objects') && !tables.includes('object_versions') ? store.noncurrentCount() : 0;
  if (noncurrent)
    console.error(
      `bleepstore meta: warning: ${noncurrent} noncurrent object versions and delete markers are not exported; add object_versions to --tables to keep them.`,
    );
  try {
    if (partial) {
      // A bad path fails here, before any work; later write errors surface through `finished`.
      await once(out, 'open').catch((err: Error) => {
        throw new AdminError(`cannot write ${output}: ${err.message}`);
      });
      out.on('error', () => {});
    }
    counts = await exportMetadata(store, out, {
      ...(tables ? { tables } : {}),
      includeCredentials: values['include-credentials'] === true,
      onProgress: (n) => progress.update(`${n} records written`),
    });
    if (partial) {
      out.end();
      await finished(out);
      await rename(partial, output);
    }
  } catch (err) {
    if (partial) {
      out.destroy();
      await rm(partial, { force: true });
    }
    throw err;
  } finally {
    store.close();
  }
  progress.done(`exported ${summary(counts)}${partial ? ` to ${output}` : ''}`);
}

/** The import itself, into the (locked) data directory of `config`. */
async function importInto(
  config: ReturnType<typeof adminConfig>,
  file: string,
  input: string,
  values: Record<string, unknown>,
  tables: TableName[] | undefined,
  progress: Progress,
): Promise<ImportReport> {
  const store = openStore(config, false);
  try {
    const report = await importMetadata(store, () => createReadStream(file, { encoding: 'utf8' }), {
      mode: values.replace ? 'replace' : 'merge',
      ...(tables ? { tables } : {}),
      objectsDir: config.storage.local.root_dir,
      onProgress: (pass, n) => progress.update(`${pass === 'check' ? 'checked' : 'imported'} ${n} records`),
    });
    return report;
  } catch (err) {
    if (err instanceof JsonFormatError)
      throw new AdminError(`${input === '-' ? 'stdin' : input} ${err.message}; nothing was imported.`);
    if (err instanceof ImportError) throw new AdminError(`${err.message}; nothing was imported.`);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AdminError(`cannot read ${input}: no such file.`);
    throw err;
  } finally {
    store.close();
  }
}

async function runImport(values: Record<string, unknown>): Promise<void> {
  if (values.merge && values.replace) throw new AdminError('choose one of --merge and --replace.', 2);
  const tables = parseTables(values.tables as string | undefined);
  const input = (values.input as string | undefined) ?? '-';
  const config = adminConfig(values);
  if (config.cluster.enabled)
    throw new AdminError(
      "cluster mode: an import into this node's database would reach this replica only, never the others; import into a single-node store and copy the objects into the cluster over S3 (for example with rclone sync).",
      2,
    );
  // An import is for a data directory no server runs on (its caches and scrub would not know).
  const lock = acquireDataLock(config.metadata.sqlite.path, 'stop that server before importing into its directory.');
  // Two passes read the input twice, so stdin is kept in a temporary file first.
  let spool: string | undefined;
  let report: ImportReport;
  const progress = progressLine('meta import');
  try {
    let file = input;
    if (input === '-') {
      spool = await mkdtemp(path.join(tmpdir(), 'bleepstore-import-'));
      file = path.join(spool, 'metadata.json');
      await pipeline(process.stdin, createWriteStream(file));
    }
    report = await importInto(config, file, input, values, tables, progress);
  } finally {
    lock.release();
    if (spool) await rm(spool, { recursive: true, force: true });
  }
  for (const w of report.warnings) console.error(`bleepstore meta: warning: ${w}`);
  if (report.missingFiles) {
    console.error(
      `bleepstore meta: warning: ${report.missingFiles} object or part files are not in ${config.storage.local.root_dir}; copy the source's objects directory there before the server starts.`,
    );
  }
  const skipped = Object.keys(report.skipped).length ? `; skipped ${summary(report.skipped)}` : '';
  progress.done(`imported ${summary(report.imported)}${skipped}`);
}

export async function run(argv: string[], hooks: ProcessHooks): Promise<void> {
  await runAdmin('meta', hooks, [], async () => {
    const { values, positionals } = parseFlags({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) return console.log(USAGE);
    const [command, ...rest] = positionals;
    if (command !== 'export' && command !== 'import')
      throw new AdminError(
        command === undefined
          ? 'a command is required: export or import (see --help).'
          : `unknown command "${command}"; use export or import.`,
        2,
      );
    if (rest.length) throw new AdminError(`${command} takes no arguments (got "${rest.join(' ')}").`, 2);
    if (values.format !== undefined && values.format !== 'json')
      throw new AdminError(`--format must be json (got "${values.format}").`, 2);
    const misplaced =
      command === 'export'
        ? (['input', 'merge', 'replace'] as const).filter((f) => values[f] !== undefined)
        : (['output', 'include-credentials'] as const).filter((f) => values[f] !== undefined);
    if (misplaced.length) throw new AdminError(`--${misplaced[0]} does not apply to ${command}.`, 2);
    return command === 'export' ? runExport(values) : runImport(values);
  });
}
