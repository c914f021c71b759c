// Embedding API: `const store = await createBleepStore({...}); await store.listen();`.
// Creating a store runs the whole start-up recovery before it can serve anything.
// Library code never exits the process and installs no signal handlers; bin/ does that.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError, configWarnings, loadConfig, type Config, type ConfigInput, type StorageKind } from './config.ts';
import { MetadataStore, type Change } from './metadata/sqlite.ts';
import { uploadReads } from './metadata/uploads.ts';
import { createStorage } from './storage/create.ts';
import { watchNewBlobIds } from './storage/backend.ts';
import { recover, startReaper, startScrub, type RecoveryReport } from './recovery.ts';
import { createLogger, type Logger } from './ops/log.ts';
import { createRequestHandler } from './server.ts';
import { createOps } from './ops/endpoints.ts';
import { createConsole } from './ui/console.ts';
import { createDrain } from './ops/drain.ts';
import { ownerIdFor } from './auth/owner.ts';
import { credentialsOf, type Credentials } from './metadata/credentials.ts';
import { commandRecorder, type CommandRecorder } from './metadata/recording.ts';
import type { Services } from './s3/context.ts';
import { version } from './version.ts';
import { createDiskGuard, retryMetadataWhenFull } from './storage/disk-guard.ts';
import { maxConnections } from './ops/connections.ts';
import { holdContinue } from './s3/body.ts';

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
}

export interface CreateOptions {
  /** Pre-built config (e.g. from the CLI); otherwise `overrides` on top of the defaults. */
  config?: Config;
  overrides?: ConfigInput;
  /** Custom log sink, e.g. for tests. */
  logWrite?: (line: string) => void;
  /**
   * Called once when storage fails in a way that may lose data (a failed fsync). The store
   * has already stopped accepting requests; bin/ exits the process here, and recovery on
   * the next start takes it from there.
   */
  onFatal?: (err: Error) => void;
  /** Records every metadata command (also BLEEPSTORE_RECORD_COMMANDS=dir; see lib/metadata/recording.ts). */
  recordCommands?: CommandRecorder;
}

/** Config overrides, where `storage` may also be just a backend name: `{ storage: 'memory' }`. */
export type EmbedOptions = Omit<ConfigInput, 'storage'> & { storage?: ConfigInput['storage'] | StorageKind };

/**
 * `createBleepStore({ config | overrides, logWrite, onFatal })`, or config keys at the top
 * level beside `logWrite` / `onFatal`: `createBleepStore({ data_dir: './d', onFatal })`.
 */
export async function createBleepStore(opts: CreateOptions | (EmbedOptions & Pick<CreateOptions, 'logWrite' | 'onFatal'>) = {}): Promise<BleepStore> {
  const { config: built, overrides, logWrite, onFatal, ...rest } = opts as CreateOptions & EmbedOptions;
  const topLevel: ConfigInput = typeof rest.storage === 'string' ? { ...rest, storage: { backend: rest.storage } } : (rest as ConfigInput);
  const given = [built && 'config', overrides && 'overrides', Object.keys(topLevel).length > 0 && 'top-level config keys'].filter(Boolean);
  if (given.length > 1) throw new ConfigError(`createBleepStore takes one of config, overrides or top-level config keys, not ${given.join(' and ')}.`);
  const config = built ?? loadConfig({ overrides: overrides ?? topLevel });
  const o: CreateOptions = { ...(logWrite ? { logWrite } : {}), ...(onFatal ? { onFatal } : {}) };
  const log = createLogger({ level: config.logging.level, format: config.logging.format, ...(o.logWrite ? { write: o.logWrite } : {}) });

  for (const w of configWarnings(config)) log.warn(w);
  if (config.cluster.enabled) {
    // The cluster parts (transport, node driver) exist, but S3 metadata does not go through
    // Raft yet (issue #13): serving alone would let an operator believe writes replicate.
    throw new ConfigError('Config key "cluster.enabled" is true, but this build does not serve S3 requests in cluster mode yet (metadata replication is not wired in); set it to false.');
  }
  const recorder = o.recordCommands ?? commandRecorder(process.env.BLEEPSTORE_RECORD_COMMANDS);
  const metadata = new MetadataStore({ path: config.metadata.sqlite.path, durability: config.durability, record: recorder?.record });
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
  await metadata.submit({
    type: 'credential.seed',
    accessKeyId: config.auth.access_key,
    secretKey: config.auth.secret_key,
    ownerId: config.auth.owner_id || ownerIdFor(config.auth.access_key),
    displayName: config.auth.display_name || config.auth.access_key,
    at: new Date().toISOString(),
  });
  const disk = createDiskGuard(config, log);
  await disk.start();
  retryMetadataWhenFull(metadata, disk);
  const born = watchNewBlobIds();
  let recovery: RecoveryReport;
  try {
    recovery = await recover({ config, metadata, storage, log });
  } catch (err) {
    born.release();
    throw err;
  }
  const stopReaper = startReaper({ config, metadata, storage, log });
  const scrub = startScrub({ metadata, storage, log }, recovery, born);

  const collect = (fileIds: readonly string[]): void => {
    if (!fileIds.length) return;
    void (async () => {
      for (const id of fileIds) await storage.remove(id);
      await metadata.submit({ type: 'gc.done', fileIds: [...fileIds] });
    })().catch((err: unknown) => log.error('file removal failed; the periodic gc retries it', { error: err }));
  };

  let failed: Error | undefined;
  const fatal = (err: Error): void => {
    if (failed) return;
    failed = err;
    log.error('storage failure: refusing all requests from now on', { error: err });
    server.close();
    o.onFatal?.(err);
  };
  const svc: Services = { config, metadata, uploads, storage, log, disk, collect, fatal };
  const domains = ['localhost', ...(config.server.domain ? config.server.domain.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean) : [])];
  const ops = createOps(svc);
  const ui = config.observability.ui ? createConsole({ config, metadata, log, recovery, startedAt: Date.now() }) : undefined;
  const handle = createRequestHandler(svc, { domains, ops: ops.handler, ui, finished: ops.finished });
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (failed) {
      res.writeHead(503, { 'Content-Type': 'application/xml', Connection: 'close', Server: 'BleepStore' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>The server stopped after a storage failure.</Message></Error>');
      return;
    }
    drain.track(res);
    req.socket.setTimeout(server.timeout); // the request came: the idle limit, not the silent-connect one
    handle(req, res).catch((err: unknown) => {
      log.error('unhandled request failure', { error: err });
      if (!res.headersSent) res.writeHead(500);
      res.destroy();
    });
  };

  const server = http.createServer({
    maxHeaderSize: config.server.max_header_bytes,
    requestTimeout: 0, // large uploads may take long; idle sockets are cut by `timeout` below
    // Slow or silent header senders are cut soon, checked every second (Node's default is 30 s).
    headersTimeout: config.server.headers_timeout_seconds * 1000,
    connectionsCheckingInterval: 1000,
    keepAliveTimeout: 5_000,
  }, handler);
  server.timeout = config.server.request_timeout_seconds * 1000;
  server.maxConnections = maxConnections(config.server.max_connections);
  // Node's headersTimeout counts only from a request's first byte; a connection that sends
  // nothing at all gets the same limit here (the handler restores server.timeout).
  server.on('connection', (socket: Socket) => socket.setTimeout(config.server.headers_timeout_seconds * 1000));
  // Expect: 100-continue is answered only once the handler reads the body, i.e. after
  // authentication and authorization: a refused client gets its error without sending the
  // body. https://www.rfc-editor.org/rfc/rfc9110#section-10.1.1
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    holdContinue(req, res);
    handler(req, res);
  });
  const drain = createDrain(server);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const code = tooLarge ? 'RequestHeaderSectionTooLarge' : 'BadRequest';
    const message = tooLarge ? 'Your request header section exceeds the maximum allowed size.' : 'The request could not be parsed.';
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nServer: BleepStore\r\n\r\n${body}`);
  });

  let closed = false;
  return {
    config,
    log,
    handler,
    recovery,
    scrubbed: scrub.done,
    credentials: credentialsOf(metadata),
    subscribe: (listener) => metadata.subscribe(listener),
    listen(port = config.server.port, host = config.server.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          log.info('listening', { version, address: addr.address, port: addr.port, data_dir: config.data_dir, durability: config.durability, max_connections: server.maxConnections });
          resolve({ host: addr.address, port: addr.port, url: `http://${shownHost}:${addr.port}` });
        });
      });
    },
    async close(graceMs = 0) {
      if (closed) return;
      closed = true;
      await drain.stop(graceMs);
      stopReaper();
      disk.stop();
      scrub.stop();
      if (recorder) await recorder.finish(metadata);
      metadata.close();
    },
  };
}
