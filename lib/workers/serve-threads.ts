// The main thread's side of serving threads (server.workers > 1, docs/many-cores.md): starts
// them once the S3 port is bound, commits the commands they submit through the one writer
// (so their writes share its group commit), and takes their request records (metrics), log
// lines, file removals and fatal errors. Requests they hand over arrive on a private socket.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { RequestRecord } from '../ops/request-record.ts';
import { createS3HttpServer } from '../s3-http-server.ts';
import type { FromServer, ServeInit, ToServer } from './messages.ts';
import { fromWire, toWire } from './wire-errors.ts';
import { takeHandedOver } from './pass-to-main.ts';

// Built to dist/ the worker is a .js file next to this one.
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './serve-worker.ts' : './serve-worker.js', import.meta.url);

export interface ServingThreadOptions {
  /** Serving threads besides the main thread. */
  count: number;
  config: Config;
  host: string;
  port: number;
  metadata: MetadataStore;
  /** The main thread's own request listener, for requests a serving thread hands over. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  collect(fileIds: readonly string[]): void;
  fatal(err: Error): void;
  /** A request a serving thread answered (metrics). */
  observe(r: RequestRecord): void;
  /** Where serving threads' log lines go when not to stdout (an embedder's logWrite). */
  writeLog?: ((text: string) => void) | undefined;
}

export interface ServingThreads {
  /** Lets every thread finish its requests (at most `graceMs`), then ends them. */
  stop(graceMs: number): Promise<void>;
  /** A fatal error: ends every thread at once. */
  terminate(): void;
}

export async function startServingThreads(o: ServingThreadOptions): Promise<ServingThreads> {
  // An abstract socket (Linux): no file to leave behind, reachable from this machine only.
  const mainSocket = `\0bleepstore-${process.pid}-${randomBytes(6).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  const internal: Server = createS3HttpServer(o.config, takeHandedOver(secret, o.handler));
  await new Promise<void>((resolve, reject) => {
    internal.once('error', reject);
    internal.listen(mainSocket, () => resolve());
  });
  const init: ServeInit = {
    config: o.config,
    host: o.host,
    port: o.port,
    mainSocket,
    handoverSecret: secret,
    logToMain: o.writeLog !== undefined,
    connectionShare: 1 / (o.count + 1),
  };
  let stopping = false;
  const threads = Array.from({ length: o.count }, (_, n) => {
    const w = new Worker(WORKER, { workerData: init, name: `serve-${n + 1}` });
    const send = (m: ToServer): void => w.postMessage(m);
    let ready!: () => void;
    let failed!: (err: Error) => void;
    const started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => (stopped = resolve));
    w.on('message', (m: FromServer) => {
      switch (m.t) {
        case 'ready':
          return ready();
        case 'submit': {
          o.metadata.submit(m.cmd).then(
            (value) => {
              try {
                send({ t: 'result', id: m.id, ok: true, value });
              } catch (err) {
                send({ t: 'result', id: m.id, ok: false, error: toWire(err) });
              }
            },
            (err: unknown) => send({ t: 'result', id: m.id, ok: false, error: toWire(err) }),
          );
          return;
        }
        case 'collect':
          return o.collect(m.fileIds);
        case 'records':
          for (const r of m.records) o.observe(r);
          return;
        case 'log':
          return o.writeLog?.(m.text);
        case 'fatal':
          return o.fatal(fromWire(m.error));
        case 'stopped':
          return stopped();
      }
    });
    w.on('error', (err) => {
      failed(err);
      o.fatal(new Error(`serving thread ${n + 1} failed: ${err.message}`, { cause: err }));
    });
    w.once('exit', (code) => {
      stopped();
      failed(new Error(`serving thread ${n + 1} exited with code ${code} before it listened`));
      if (!stopping) o.fatal(new Error(`serving thread ${n + 1} exited with code ${code}`));
    });
    return { w, send, started, done };
  });
  try {
    await Promise.all(threads.map((t) => t.started));
  } catch (err) {
    stopping = true;
    for (const t of threads) void t.w.terminate();
    internal.close();
    throw err;
  }
  return {
    async stop(graceMs) {
      if (stopping) return;
      stopping = true;
      for (const t of threads) t.send({ t: 'stop', graceMs });
      const limit = setTimeout(() => {
        for (const t of threads) void t.w.terminate();
      }, graceMs + 2000);
      await Promise.all(threads.map((t) => t.done));
      clearTimeout(limit);
      await Promise.all(threads.map((t) => t.w.terminate()));
      internal.closeAllConnections();
      await new Promise<void>((resolve) => internal.close(() => resolve()));
    },
    terminate() {
      stopping = true;
      for (const t of threads) void t.w.terminate();
      internal.closeAllConnections();
      internal.close();
    },
  };
}
