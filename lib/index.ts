// Embedding API: `const store = await createBleepStore({...}); await store.listen();`.
// Creating a store runs the whole start-up recovery before it can serve anything.
// Library code never exits the process and installs no signal handlers; bin/ does that.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, configWarnings, loadConfig, type Config, type ConfigInput, type StorageKind } from './config.ts';
import { MetadataStore, type Change } from './metadata/sqlite.ts';
import { uploadReads } from './metadata/uploads.ts';
import { createStorage } from './storage/create.ts';
import { watchNewBlobIds } from './storage/backend.ts';
import { createWriteTasks } from './events/write-tasks.ts';
import { recover, startReaper, startScrub, type RecoveryReport } from './recovery.ts';
import { createLogger, type Logger } from './ops/log.ts';
import { startServingThreads, type ServingThreads } from './workers/serve-threads.ts';
import { createRequestHandler } from './server.ts';
import { createOps } from './ops/endpoints.ts';
import { createConsole } from './ui/console.ts';
import { createDrain } from './ops/drain.ts';
import { ownerIdFor } from './auth/owner.ts';
import { credentialsOf, listKeys, type Credentials } from './metadata/credentials.ts';
import { commandRecorder, type CommandRecorder } from './metadata/recording.ts';
import { createOwnedBucket } from './admin/bucket-ops.ts';
import type { Services } from './s3/context.ts';
import { version } from './version.ts';
import { createDiskGuard, retryMetadataWhenFull } from './storage/disk-guard.ts';
import { createS3HttpServer, runTracked, s3Domains } from './s3-http-server.ts';
import { defaultKeyLive, isLoopback } from './banner.ts';
import { acquireDataLock, type DataLock } from './data-lock.ts';
import { dataPaths } from './data-paths.ts';
export { dataPaths } from './data-paths.ts';

export { loadConfig, ConfigError, defaultConfig, type Config, type ConfigInput } from './config.ts';
export { version } from './version.ts';
export type { Change } from './metadata/changes.ts';

export interface BleepStore {
  readonly config: Config;
  readonly log: Logger;
  /** The node:http request listener, usable with any http.Server. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** What the start-up recovery found and cleaned. */
  readonly recovery: RecoveryReport;
  /** Settles when the background check that every referenced blob exists has finished (missing count). */
  readonly scrubbed: Promise<number>;
  /** Access keys in this store's database: create, list, delete, rotate (see `bleepstore keys`). */
  readonly credentials: Credentials;
  /**
   * The committed metadata changes, one call per transaction, after COMMIT (what later event
   * notifications and replication attach to). Returns an unsubscribe function.
   */
  subscribe(listener: (changes: readonly Change[]) => void): () => void;
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port?: number, host?: string): Promise<{ host: string; port: number; url: string }>;
  /** Stops accepting connections; in-flight requests get `graceMs` to finish, then are cut. */
  close(graceMs?: number): Promise<void>;
  /** What an S3 client needs to talk to this store (after `listen()`); fits `new S3Client(...)`. */
  clientConfig(): ClientConfig;
  /** Removes every bucket, object and upload (keys stay), then creates `buckets` again. */
  reset(): Promise<void>;
  /** `await using store = await createBleepStore(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

export interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: true;
}

/** Config keys, where `storage` may also be just a backend name: `{ storage: 'memory' }`. */
export type EmbedOptions = Omit<ConfigInput, 'storage'> & { storage?: ConfigInput['storage'] | StorageKind };

/**
 * Everything `createBleepStore` takes, in one object: config keys (as in the YAML file) next
 * to the embedding options below. Embedded, the defaults suit a test double: port 0, logs at
 * `warn`, and, when neither `storage` nor `data_dir` is given, the memory backend with its
 * metadata in memory too, so nothing is written to disk.
 */
export interface BleepStoreOptions extends EmbedOptions {
  /** A complete, already validated config (the CLI passes one); config keys beside it are refused. */
  config?: Config;
  /** Config keys as one object instead of at the top level (kept for older callers; not both). */
  overrides?: ConfigInput;
  /** Where log lines go (each ends in a newline); default stdout. */
  logWrite?: (line: string) => void;
  /**
   * Called once when storage fails in a way that may lose data (a failed fsync). The store
   * has already stopped accepting requests; bin/ exits the process here, and recovery on
   * the next start takes it from there.
   */
  onFatal?: (err: Error) => void;
  /** Buckets to create (owned by the configured key) at start and again after `reset()`. */
  buckets?: readonly string[];
  /** Records every metadata command (also BLEEPSTORE_RECORD_COMMANDS=dir; see lib/metadata/recording.ts). */
  recordCommands?: CommandRecorder;
}
/** @deprecated The same as BleepStoreOptions. */
export type CreateOptions = BleepStoreOptions;

const OPTION_KEYS = ['config', 'overrides', 'logWrite', 'onFatal', 'buckets', 'recordCommands'] as const;

/** The config an embedder gets: their keys over the embedding defaults (see BleepStoreOptions). */
export function embeddedConfig(opts: BleepStoreOptions = {}): Config {
  const keys: Record<string, unknown> = { ...opts };
  for (const k of OPTION_KEYS) delete keys[k];
  if (typeof keys.storage === 'string') keys.storage = { backend: keys.storage };
  const given = [
    opts.config && 'config',
    opts.overrides && 'overrides',
    Object.keys(keys).length > 0 && 'top-level config keys',
  ].filter(Boolean);
  if (given.length > 1)
    throw new ConfigError(
      `createBleepStore takes one of config, overrides or top-level config keys, not ${given.join(' and ')}.`,
    );
  if (opts.config) return opts.config;
  const input = (opts.overrides ?? keys) as ConfigInput & Record<string, unknown>;
  const defaults: ConfigInput = { server: { port: 0 }, logging: { level: 'warn' } };
  if (input.storage?.backend === undefined && input.data_dir === undefined) defaults.storage = { backend: 'memory' };
  return loadConfig({
    overrides: mergeInput(defaults, input) as ConfigInput,
    overridesLabel: 'the options given to createBleepStore',
  });
}

/** Deep merge of two plain option objects; `b` wins. */
function mergeInput(a: object, b: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    const plain = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = plain(prev) && plain(v) ? mergeInput(prev as object, v as object) : v;
  }
  return out;
}

export async function createBleepStore(opts: BleepStoreOptions = {}): Promise<BleepStore> {
  const config = embeddedConfig(opts);
  // Before anything reads or cleans the data directory (lib/data-lock.ts).
  const lock = acquireDataLock(
    config.metadata.sqlite.path,
    'stop that server first, or give this one its own data directory (--data-dir).',
  );
  try {
    return await startBleepStore(opts, config, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startBleepStore(o: BleepStoreOptions, config: Config, lock: DataLock): Promise<BleepStore> {
  const log = createLogger({
    level: config.logging.level,
    format: config.logging.format,
    ...(o.logWrite ? { write: o.logWrite } : {}),
  });

  for (const w of configWarnings(config)) log.warn(w);
  // Loaded only with an admin port: an embedder without one pays nothing for it.
  const adminModule = config.server.admin_port ? await import('./admin-api/start.ts') : undefined;
  adminModule?.checkAdminConfig(config);
  const startedAt = new Date();
  if (config.cluster.enabled && config.events.consistency === 'async')
    throw new ConfigError(
      'Config key "events.consistency" is "async", which cluster mode does not support yet (its write tasks are not replicated); use write-through or sync.',
    );
  if (config.cluster.enabled && config.storage.backend === 'memory') {
    throw new ConfigError(
      'Config key "storage.backend" is "memory", which cluster mode cannot use (a restarted node would have lost every object); use local or a cloud backend.',
    );
  }
  if (config.server.workers > 1) checkServingThreads(config);
  const recorder = o.recordCommands ?? commandRecorder(process.env.BLEEPSTORE_RECORD_COMMANDS);
  const metadata = new MetadataStore({
    path: config.metadata.sqlite.path,
    durability: config.durability,
    record: recorder?.record,
    eventTargets: config.events.targets.filter((t) => t.all_buckets).map((t) => t.name),
    knownEventTargets: config.events.targets.map((t) => t.name),
  });
  if (config.server.workers > 1) metadata.readAcrossThreads();
  const uploads = uploadReads(metadata);
  const storage = await createStorage(config, metadata);
  try {
    await storage.init();
  } catch (err) {
    metadata.close();
    throw new ConfigError(`The ${config.storage.backend} storage backend is not usable: ${(err as Error).message}`);
  }

  // Start-up is recovery: seed credentials, finish recorded file removals, empty the temp
  // dir, and remove files no row references.
  let fatal: (err: Error) => void = () => {};
  const cluster = config.cluster.enabled
    ? await (await import('./cluster/start.ts')).startCluster({
        config,
        metadata,
        storage,
        log,
        fatal: (err) => fatal(err),
      })
    : undefined;
  const owner = {
    id: config.auth.owner_id || ownerIdFor(config.auth.access_key),
    display_name: config.auth.display_name || config.auth.access_key,
  };
  // auth.seed: false seeds the key only into a database that has none, so a bootstrap key
  // an operator deleted stays deleted across restarts.
  const seed = () =>
    metadata.submit({
      type: 'credential.seed',
      accessKeyId: config.auth.access_key,
      secretKey: config.auth.secret_key,
      ownerId: owner.id,
      displayName: owner.display_name,
      at: new Date().toISOString(),
    });
  if (cluster) cluster.seedWhenLeader(seed, config.auth.seed);
  else if (config.auth.seed || listKeys(metadata).length === 0) await seed();
  const createBuckets = async (): Promise<void> => {
    for (const name of o.buckets ?? []) await createOwnedBucket(metadata, name, owner, config.server.region);
  };
  try {
    if (!cluster) await createBuckets();
  } catch (err) {
    metadata.close();
    throw new ConfigError((err as Error).message);
  }
  const disk = createDiskGuard(config, log);
  await disk.start();
  retryMetadataWhenFull(metadata, disk);
  const born = watchNewBlobIds();
  let recovery: RecoveryReport;
  const t0 = performance.now();
  log.info('recovery started', dataPaths(config));
  try {
    // In a cluster only the leader may change metadata, and a lagging node must not take a
    // blob its log does not reference yet for an orphan: start-up only clears staging.
    recovery = cluster
      ? {
          gcFilesRemoved: 0,
          expiredUploadsFiles: 0,
          tempFilesRemoved: await storage.cleanStaging(),
          orphanFilesRemoved: 0,
          missingFiles: 0,
        }
      : await recover({ config, metadata, storage, log });
  } catch (err) {
    born.release();
    throw err;
  }
  // Orphans and missing blobs are counted by the background scrub ('scrub done').
  const { orphanFilesRemoved: _orphans, missingFiles: _missing, ...atStart } = recovery;
  log.info('recovery done', { duration_ms: Math.round(performance.now() - t0), ...snakeCase(atStart) });
  const isLeader = cluster ? () => cluster.node.status().role === 'leader' : undefined;
  const collect = (fileIds: readonly string[]): void => {
    if (!fileIds.length) return;
    void (async () => {
      for (const id of fileIds) await storage.remove(id);
      await metadata.submit({ type: 'gc.done', fileIds: [...fileIds] });
    })().catch((err: unknown) => log.error('file removal failed; the periodic gc retries it', { error: err }));
  };
  // Async consistency: writes accepted (202) before a crash are applied before serving.
  const tasks =
    config.events.consistency === 'async'
      ? createWriteTasks({ metadata, storage, log, collect, maxTasks: config.events.max_tasks })
      : undefined;
  if (tasks) {
    const left = metadata.pendingTaskCount();
    await tasks.drain();
    if (left) log.info('pending write tasks applied', { tasks: left });
  }
  const stopReaper = startReaper({ config, metadata, storage, log, ...(isLeader ? { isLeader } : {}) });
  const scrub = cluster ? cluster.startRepair(born) : startScrub({ metadata, storage, log }, recovery, born);
  // Loaded only when targets are configured: an embedder without events pays nothing for them.
  const events = config.events.targets.length
    ? (await import('./events/start.ts')).startEvents(config, metadata, log, isLeader)
    : undefined;

  let failed: Error | undefined;
  let threads: ServingThreads | undefined;
  fatal = (err: Error): void => {
    if (failed) return;
    failed = err;
    log.error('unrecoverable failure (storage, or a serving thread): refusing all requests from now on', {
      error: err,
    });
    threads?.terminate();
    server.close();
    o.onFatal?.(err);
  };
  const svc: Services = {
    config,
    metadata,
    uploads,
    storage: cluster ? cluster.storage : storage,
    log,
    disk,
    collect,
    fatal,
    events,
    tasks,
    ...(cluster ? { cluster: cluster.health, clusterMetrics: cluster.metrics } : {}),
  };
  const domains = s3Domains(config);
  const ops = createOps(svc);
  let s3Port = 0;
  const adminApi = adminModule
    ? await adminModule.startAdminApi({
        config,
        metadata,
        submitter: cluster ? cluster.submitter : metadata,
        health: ops.health,
        metrics: ops.metrics,
        log,
        startedAt,
        s3Port: () => s3Port,
        cluster: cluster && { node: cluster.node, ready: () => cluster.health().ready, viaLeader: cluster.viaLeader },
      })
    : undefined;
  const ui = config.observability.ui
    ? createConsole({ config, metadata, log, recovery, startedAt: Date.now() })
    : undefined;
  const handle = createRequestHandler(svc, { domains, ops: ops.handler, ui, finished: ops.finished });
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (failed) {
      res.writeHead(503, { 'Content-Type': 'application/xml', Connection: 'close', Server: 'BleepStore' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>The server stopped after a storage failure.</Message></Error>',
      );
      return;
    }
    runTracked({ server, drain, log }, req, res, () => {
      const intercepted = cluster ? cluster.intercept(req, res) : false;
      return intercepted === false
        ? handle(req, res)
        : intercepted.then((done) => (done ? undefined : handle(req, res)));
    });
  };

  const server = createS3HttpServer(config, handler, 1 / config.server.workers);
  const drain = createDrain(server);

  let closed = false;
  let bound: { url: string } | undefined;
  const close = async (graceMs = 0): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all([drain.stop(graceMs), threads?.stop(graceMs)]);
    await adminApi?.close();
    stopReaper();
    disk.stop();
    scrub.stop();
    await tasks?.stop();
    await events?.stop();
    await cluster?.stop();
    if (recorder) await recorder.finish(metadata);
    metadata.close();
    lock.release();
  };
  return {
    config,
    log,
    handler,
    recovery,
    scrubbed: scrub.done,
    credentials: credentialsOf(metadata),
    subscribe: (listener) => metadata.subscribe(listener),
    async listen(port = config.server.port, host = config.server.host) {
      const workers = config.server.workers;
      const at = await new Promise<{ host: string; port: number; url: string }>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, reusePort: workers > 1 }, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          bound = { url: `http://${shownHost}:${addr.port}` };
          cluster?.setS3Port(addr.port);
          s3Port = addr.port;
          log.info('listening', {
            version,
            address: addr.address,
            port: addr.port,
            ...dataPaths(config),
            durability: config.durability,
            max_connections: server.maxConnections,
            ...(adminApi ? { admin_url: adminApi.url } : {}),
          });
          if (!isLoopback(addr.address) && defaultKeyLive((id) => metadata.getCredential(id))) {
            log.warn(
              'the well-known default credentials (bleepstore / bleepstore-secret) are live on a non-loopback address: anyone who can reach it can read and write everything; set auth.access_key/auth.secret_key (--access-key, BLEEPSTORE_SECRET_KEY_FILE) or delete the key',
              { address: addr.address, port: addr.port },
            );
          }
          resolve({ host: addr.address, port: addr.port, url: bound.url });
        });
      });
      if (workers > 1 && !closed) {
        // After the start-up scrub: it spares blobs born in this thread only (watchNewBlobIds).
        await scrub.done.catch(() => 0);
        threads = await startServingThreads({
          count: workers - 1,
          config,
          host: at.host,
          port: at.port,
          metadata,
          handler,
          collect,
          fatal,
          observe: (r) => {
            try {
              ops.metrics?.observe(r);
            } catch (err) {
              log.warn('recording request metrics failed', { error: err });
            }
          },
          writeLog:
            o.logWrite &&
            ((text) => {
              for (const line of text.split(/(?<=\n)/)) if (line) o.logWrite!(line);
            }),
        });
        // close() may have come while they started: then they stop at once.
        if (closed) await threads.stop(0);
        else log.info('serving threads started', { threads: workers });
      }
      return at;
    },
    close,
    [Symbol.asyncDispose]: () => close(),
    clientConfig() {
      if (!bound) throw new Error('clientConfig() needs a listening store: call `await store.listen()` first.');
      return {
        endpoint: bound.url,
        region: config.server.region,
        credentials: { accessKeyId: config.auth.access_key, secretAccessKey: config.auth.secret_key },
        forcePathStyle: true,
      };
    },
    async reset() {
      const files = await metadata.submit({ type: 'store.reset', at: new Date().toISOString() });
      for (const id of files) await storage.remove(id);
      await metadata.submit({ type: 'gc.done', fileIds: files });
      await createBuckets();
    },
  };
}

/** Serving threads (server.workers > 1) share one data directory and one writer thread. */
function checkServingThreads(config: Config): void {
  const refuse = (key: string, value: string, why: string): never => {
    throw new ConfigError(
      `Config key "${key}" is "${value}", which server.workers > 1 does not support yet (${why}); use server.workers: 1.`,
    );
  };
  if (config.cluster.enabled) refuse('cluster.enabled', 'true', 'a cluster node serves from one thread');
  if (config.storage.backend === 'memory' || config.storage.backend === 'sqlite')
    refuse('storage.backend', config.storage.backend, "its bytes live in one thread's connection");
  if (config.metadata.sqlite.path === ':memory:')
    refuse('metadata.sqlite.path', ':memory:', 'each thread needs its own connection to one database file');
  if (config.events.consistency === 'async')
    refuse('events.consistency', 'async', 'its write tasks are applied by the main thread alone');
}

function snakeCase(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
}
