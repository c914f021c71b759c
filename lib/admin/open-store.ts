// What the admin commands share: finding the data directory exactly as the server does
// (--config / BLEEPSTORE_CONFIG, BLEEPSTORE_* environment, --data-dir) and opening its
// metadata database next to a running server (WAL, busy_timeout).
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { flagProblem } from '../startup-errors.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { MetadataStore } from '../metadata/sqlite.ts';

export const STORE_OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const STORE_USAGE = `  --config FILE       YAML config file, as for the server; also BLEEPSTORE_CONFIG
  --data-dir DIR      the server's data directory (default ./data)`;

/** A message for the operator; the command exits with `code` after printing it. */
export class AdminError extends Error {
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.name = 'AdminError';
    this.code = code;
  }
}

export function adminConfig(values: { config?: string | undefined; 'data-dir'?: string | undefined }): Config {
  return loadConfig({
    file: values.config ?? process.env.BLEEPSTORE_CONFIG,
    env: process.env,
    overrides: values['data-dir'] !== undefined ? { data_dir: values['data-dir'] } : undefined,
    overridesLabel: 'the command-line flags',
  });
}

/** Opens the metadata database; `mustExist` refuses to create one where none is. */
export function openStore(config: Config, mustExist: boolean): MetadataStore {
  const file = config.metadata.sqlite.path;
  if (mustExist && !existsSync(file)) {
    throw new AdminError(`No metadata database at ${file}; check --data-dir or --config.`);
  }
  return new MetadataStore({ path: file, durability: config.durability });
}

type ErrorClass = new (...args: never[]) => Error;

/**
 * Runs a command body: exit 0 when it returns; a known failure (`known`, AdminError,
 * ConfigError, a bad flag) becomes one line on stderr and a non-zero exit.
 */
export async function runAdmin(
  name: string,
  hooks: { exit(code: number): void },
  known: readonly ErrorClass[],
  body: () => Promise<void> | void,
): Promise<void> {
  try {
    await body();
  } catch (err) {
    const badFlag = String((err as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (!(err instanceof AdminError || err instanceof ConfigError || badFlag || known.some((k) => err instanceof k)))
      throw err;
    console.error(`bleepstore ${name}: ${(err as Error).message}`);
    if (badFlag) console.error(`Run "bleepstore ${name} --help" for the options.`);
    return hooks.exit(err instanceof AdminError ? err.code : err instanceof ConfigError || badFlag ? 2 : 1);
  }
  hooks.exit(0);
}

/** Prints rows as aligned columns; the first row is the header. */
export function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

/** parseArgs, but an unknown flag is one sentence naming it and the nearest known flag. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw err;
    throw new AdminError(`${flagProblem(e, Object.keys(config.options ?? {}))} (see --help)`, 2);
  }
}
