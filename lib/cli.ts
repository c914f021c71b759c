// Command line: `bleepstore [serve] [--config FILE] [--host H] [--port N] [--data-dir D]
// [--log-level L] [--log-format F] [--durability M] [--shutdown-grace S]`. The process itself (exit, signals)
// belongs to bin/bleepstore, which passes them in.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type ConfigInput } from './config.ts';
import { createBleepStore } from './index.ts';
import { dataPaths } from './data-paths.ts';
import { flagProblem, startupProblem } from './startup-errors.ts';
import { bannerText, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY } from './banner.ts';
import { version } from './version.ts';
import type { ProcessHooks } from './process-hooks.ts';

export type { ProcessHooks } from './process-hooks.ts';

const USAGE = `Usage: bleepstore [serve] [options]
       bleepstore bucket --help | status --help | backup --help | restore --help
       bleepstore keys --help | meta --help | bench --help | cluster --help

Options:
  --config FILE       YAML config file (see bleepstore.example.yaml); also BLEEPSTORE_CONFIG
  --host HOST         address to listen on (default 127.0.0.1)
  --port N            port to listen on (default 9010; 0 picks a free port)
  --data-dir DIR      where metadata.db and objects/ live (default ./data); every
                      path derives from it unless the config file sets one
  --access-key ID     the bootstrap access key (default bleepstore); also
                      BLEEPSTORE_ACCESS_KEY or BLEEPSTORE_ACCESS_KEY_FILE
  --secret-key KEY    its secret (default bleepstore-secret); prefer
                      BLEEPSTORE_SECRET_KEY_FILE, since flags show in "ps"
  --log-level LEVEL   debug | info | warn | error | silent
  --log-format FMT    json | text
  --durability MODE   full | normal | off (SQLite synchronous; default full)
  --workers N         threads serving S3 requests on the port (default 1; writes still
                      commit through the one writer: docs/many-cores.md)
  --shutdown-grace S  on SIGTERM/SIGINT, seconds requests in flight get to finish (default 20)
  --version           print the version
  --help              print this help

Precedence: defaults < config file < BLEEPSTORE_* environment < flags.`;

const OPTIONS = {
  config: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  'access-key': { type: 'string' },
  'secret-key': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  durability: { type: 'string' },
  workers: { type: 'string' },
  'shutdown-grace': { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function flagsToConfig(v: Record<string, string | boolean | undefined>): ConfigInput {
  const out: Record<string, Record<string, unknown> | unknown> = {};
  const server: Record<string, unknown> = {};
  const logging: Record<string, unknown> = {};
  if (v.host !== undefined) server.host = v.host;
  if (v.port !== undefined) server.port = v.port;
  if (v.workers !== undefined) server.workers = v.workers;
  if (v['log-level'] !== undefined) logging.level = v['log-level'];
  if (v['log-format'] !== undefined) logging.format = v['log-format'];
  const auth: Record<string, unknown> = {};
  if (v['access-key'] !== undefined) auth.access_key = v['access-key'];
  if (v['secret-key'] !== undefined) auth.secret_key = v['secret-key'];
  if (Object.keys(auth).length) out.auth = auth;
  if (Object.keys(server).length) out.server = server;
  if (Object.keys(logging).length) out.logging = logging;
  if (v['data-dir'] !== undefined) out.data_dir = v['data-dir'];
  if (v.durability !== undefined) out.durability = v.durability;
  return out as ConfigInput;
}

/** Config keys the flags set, so a bad value is reported as the flag the operator typed. */
const FLAG_NAMES: Record<string, string> = {
  'server.host': '--host',
  'server.port': '--port',
  'server.workers': '--workers',
  data_dir: '--data-dir',
  'logging.level': '--log-level',
  'logging.format': '--log-format',
  durability: '--durability',
  'auth.access_key': '--access-key',
  'auth.secret_key': '--secret-key',
};

/** Subcommands other than `serve`, each in its own module, loaded only when used. */
const SUBCOMMANDS: Record<string, () => Promise<{ run(argv: string[], hooks: ProcessHooks): Promise<void> }>> = {
  bench: () => import('./bench/cli.ts'),
  keys: () => import('./admin/keys-cli.ts'),
  bucket: () => import('./admin/bucket-cli.ts'),
  status: () => import('./admin/status-cli.ts'),
  backup: () => import('./admin/backup-cli.ts'),
  restore: () => import('./admin/restore-cli.ts'),
  meta: () => import('./admin/meta-cli.ts'),
  cluster: () => import('./admin/cluster-cli.ts'),
};

export async function runCli(argv: string[], hooks: ProcessHooks): Promise<void> {
  const sub = argv[0] !== undefined ? SUBCOMMANDS[argv[0]] : undefined;
  if (sub) return (await sub()).run(argv.slice(1), hooks);
  if (argv[0] === 'serve') argv = argv.slice(1);
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (err) {
    console.error(
      `bleepstore: ${flagProblem(err as NodeJS.ErrnoException, Object.keys(OPTIONS))}. Run "bleepstore --help" for the options.`,
    );
    return hooks.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return hooks.exit(0);
  }
  if (values.version) {
    console.log(version);
    return hooks.exit(0);
  }
  if (positionals.length) {
    console.error(`bleepstore: unknown command "${positionals.join(' ')}". Run "bleepstore --help" for the commands.`);
    return hooks.exit(2);
  }

  let config;
  try {
    config = loadConfig({
      file: (values.config as string | undefined) ?? process.env.BLEEPSTORE_CONFIG,
      env: process.env,
      overrides: flagsToConfig(values),
      overridesLabel: 'the command-line flags',
      flagNames: FLAG_NAMES,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`bleepstore: ${err.message}`);
      return hooks.exit(2);
    }
    throw err;
  }

  const graceRaw = (values['shutdown-grace'] as string | undefined) ?? '20';
  const graceMs = /^\d+(\.\d+)?$/.test(graceRaw) ? Math.round(Number(graceRaw) * 1000) : NaN;
  if (!(graceMs <= 3_600_000)) {
    console.error(
      `bleepstore: --shutdown-grace must be a number of seconds from 0 to 3600 (got ${JSON.stringify(graceRaw)}).`,
    );
    return hooks.exit(2);
  }

  // A failed fsync is fatal: exit at once and let the next start recover (crash-only).
  let store;
  let addr;
  try {
    store = await createBleepStore({ config, onFatal: () => hooks.exit(70) });
    addr = await store.listen();
  } catch (err) {
    // Start-up problems an operator can fix (a storage backend that cannot be reached, a
    // missing optional SDK, an address, a port, a data directory) get one sentence.
    const problem = err instanceof ConfigError ? err.message : startupProblem(err, config);
    if (problem === undefined) throw err;
    console.error(`bleepstore: ${problem}`);
    return hooks.exit(2);
  }
  // Machine-readable line for scripts and tests that start the server on port 0.
  store.log.info('ready', {
    url: addr.url,
    version,
    node: process.version,
    pid: process.pid,
    ...dataPaths(config),
    durability: config.durability,
  });
  const defaultKey = config.auth.access_key === DEFAULT_ACCESS_KEY && config.auth.secret_key === DEFAULT_SECRET_KEY;
  hooks.banner?.(
    bannerText(addr.url, config, { defaultKey, docs: config.observability.docs && config.observability.openapi }),
  );

  // SIGTERM/SIGINT: stop accepting, give requests in flight a bounded time, exit. Nothing is
  // cleaned up here that start-up does not also do (crash-only). A second signal exits at
  // once, with the conventional 128 + signal number.
  let stopping = false;
  const stop = (signal: 'SIGTERM' | 'SIGINT'): void => {
    if (stopping) {
      store.log.warn('second signal: exiting now', { signal });
      return hooks.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    store.log.info('stopping: no new connections, waiting for requests in flight', { signal, grace_ms: graceMs });
    store.close(graceMs).then(
      () => {
        store.log.info('stopped');
        hooks.exit(0);
      },
      (err: unknown) => {
        store.log.error('stopping failed', { error: err });
        hooks.exit(1);
      },
    );
  };
  hooks.onSignal('SIGTERM', () => stop('SIGTERM'));
  hooks.onSignal('SIGINT', () => stop('SIGINT'));
}
