// A serving thread (started by serve-threads.ts): accepts connections on the S3 port beside the
// main thread (SO_REUSEPORT: the kernel spreads them), authenticates and serves signed S3
// requests with its own read connection to the metadata database, stages object bytes itself,
// and submits every metadata change as a command value to the main thread, the one writer,
// whose group commit answers it once durable. Unsigned requests go to the main thread whole.
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetadataStore } from '../metadata/sqlite.ts';
import { uploadReads } from '../metadata/uploads.ts';
import { createStorage } from '../storage/create.ts';
import { batchedLines, createLogger } from '../ops/log.ts';
import { createRequestHandler, isSignedRequest } from '../server.ts';
import { createDiskGuard } from '../storage/disk-guard.ts';
import { createRequestObserver } from '../ops/observe.ts';
import { createDrain } from '../ops/drain.ts';
import { http } from '../node-http.ts';
import type { Services } from '../s3/context.ts';
import type { RequestRecord } from '../ops/request-record.ts';
import { createS3HttpServer, runTracked, s3Domains } from '../s3-http-server.ts';
import { passToMain } from './pass-to-main.ts';
import { fromWire, reviveBuffers, toWire } from './wire-errors.ts';
import type { FromServer, ServeInit, ToServer } from './messages.ts';

const init = workerData as ServeInit;
const { config } = init;
const port = parentPort!;
const post = (m: FromServer): void => port.postMessage(m);

// Log lines: written to stdout by this thread, batched as the main thread's (lib/ops/log.ts).
// Each write ends on a line boundary and stays within PIPE_BUF (4 KiB) when its lines allow,
// so lines of several threads never interleave on a pipe (POSIX: such writes are atomic) nor
// on a file (one shared offset). An embedder's logWrite lives in the main thread: the lines go
// there.
const PIPE_BUF = 4096;
const writeWholeLines = (text: string): void => {
  if (init.logToMain) return post({ t: 'log', text });
  for (let start = 0; start < text.length; ) {
    let end = text.length;
    if (end - start > PIPE_BUF) {
      const cut = text.lastIndexOf('\n', start + PIPE_BUF - 1);
      end = cut >= start ? cut + 1 : text.indexOf('\n', start + PIPE_BUF) + 1 || text.length;
    }
    writeAll(Buffer.from(text.slice(start, end)));
    start = end;
  }
};
const writeAll = (buf: Buffer): void => {
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return; // stdout gone: as the main thread's logger
    }
  }
};
const logLines = batchedLines(writeWholeLines);
const log = createLogger({ level: config.logging.level, format: config.logging.format, write: logLines });

// Request records feed the main thread's one metrics registry, a batch per turn.
let records: RequestRecord[] = [];
const flushRecords = (): void => {
  if (records.length) post({ t: 'records', records });
  records = [];
};
const logRequest = createRequestObserver(log, undefined);

const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let lastCall = 0;
const metadata = new MetadataStore({ path: config.metadata.sqlite.path, durability: config.durability });
metadata.readAcrossThreads();
const submitToMain = (cmd: Parameters<MetadataStore['submit']>[0]): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const id = ++lastCall;
    calls.set(id, { resolve, reject });
    post({ t: 'submit', id, cmd });
  });
metadata.setReplicator((cmd) => submitToMain(cmd));

const storage = await createStorage(config, metadata);
await storage.init();
const disk = createDiskGuard(config, log);
await disk.start();
const fatal = (err: Error): void => post({ t: 'fatal', error: toWire(err) });
const svc: Services = {
  config,
  metadata,
  uploads: uploadReads(metadata),
  storage,
  log,
  disk,
  collect: (fileIds) => {
    if (fileIds.length) post({ t: 'collect', fileIds: [...fileIds] });
  },
  fatal,
};
const handle = createRequestHandler(svc, {
  domains: s3Domains(config),
  finished: (r) => {
    logRequest(r);
    if (records.push(r) === 1) setImmediate(flushRecords);
  },
});
const toMain = passToMain(new http.Agent({ keepAlive: true, maxSockets: 64 }), init.mainSocket, init.handoverSecret);

const server = createS3HttpServer(
  config,
  (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (!isSignedRequest(req.headers.authorization, q < 0 ? '' : url.slice(q + 1))) return toMain(req, res);
    runTracked({ server, drain, log }, req, res, () => handle(req, res));
  },
  init.connectionShare,
);
const drain = createDrain(server);

port.on('message', (m: ToServer) => {
  if (m.t === 'result') {
    const c = calls.get(m.id);
    if (!c) return;
    calls.delete(m.id);
    if (m.ok) c.resolve(reviveBuffers(m.value));
    else c.reject(fromWire(m.error));
  } else if (m.t === 'stop') {
    void drain.stop(m.graceMs).then(() => {
      disk.stop();
      flushRecords();
      logLines.flush();
      metadata.close();
      post({ t: 'stopped' });
      port.close();
    });
  }
});

server.listen({ port: init.port, host: init.host, reusePort: true }, () => post({ t: 'ready' }));
