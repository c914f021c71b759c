// Object bytes on several nodes (issue #13, local backend): the node that took a PUT pushes
// the committed blob to its peers, each of which stages it, fsyncs it and publishes it under
// the same id before answering; the PUT is acknowledged only once a majority of `replicas`
// nodes hold it. A node asked for a blob it lacks fetches it from a peer and keeps it.
// Bodies stream; the HMAC (peer-auth.ts) of a streamed body travels in an HTTP trailer
// (RFC 9110 §6.5), checked before the blob is published, for requests and responses alike.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Writable, type Readable } from 'node:stream';
import type { LocalStorage } from '../storage/local.ts';
import { BLOB_ID_RE, FileMissingError } from '../storage/backend.ts';
import { checkRequestLine, macStart, MAC_HEADER, peerHeaders, signHeaders, TIME_HEADER } from './peer-auth.ts';
import { timingSafeEqual } from 'node:crypto';
import { parseHostPort } from './config.ts';

export const BLOB_PATH = '/cluster/blob/';

export interface BlobReplicationOptions {
  storage: LocalStorage;
  secret: string;
  timeoutMs?: number;
}

function macOk(expected: Buffer, given: unknown): boolean {
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

/** Streams `body` into a staged blob with id `fileId`, verifying the trailer MAC first. */
async function receiveInto(
  storage: LocalStorage,
  fileId: string,
  body: IncomingMessage,
  mac: ReturnType<typeof macStart>,
): Promise<boolean> {
  const staged = await storage.stageAs(fileId);
  try {
    await pipeline(
      body,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          mac.update(chunk);
          staged.push(chunk);
          const bp = staged.backpressure();
          if (bp) bp.then(() => cb(), cb);
          else cb();
        },
      }),
    );
    if (!macOk(mac.digest(), body.trailers[MAC_HEADER])) {
      await staged.discard();
      return false;
    }
    await staged.finish(); // fsync (an fsync error propagates: fatal for the caller)
    await staged.commit(); // rename + fsync dir
    return true;
  } catch (err) {
    await staged.discard();
    throw err;
  }
}

export class BlobReplication {
  private readonly o: Required<BlobReplicationOptions>;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(o: BlobReplicationOptions) {
    this.o = { timeoutMs: 30_000, ...o };
  }

  /** Serves PUT and GET /cluster/blob/<id> on the cluster port (a streaming route). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '';
    const fileId = url.slice(BLOB_PATH.length);
    if (!BLOB_ID_RE.test(fileId)) {
      res.writeHead(400).end();
      return;
    }
    // The body's MAC of a PUT arrives as a trailer: the request line's is checked up front, so
    // nothing is staged for a sender without the secret.
    if (checkRequestLine(this.o.secret, req.method ?? '', url, req.headers)) {
      res.writeHead(401, { connection: 'close' }).end();
      return;
    }
    const time = req.headers[TIME_HEADER] as string;
    if (req.method === 'PUT') {
      if (await this.o.storage.exists(fileId)) {
        req.resume();
        res.writeHead(204).end(); // blobs are immutable: the copy we have is the same bytes
        return;
      }
      const ok = await receiveInto(this.o.storage, fileId, req, macStart(this.o.secret, 'PUT', url, time));
      res.writeHead(ok ? 204 : 401).end();
      return;
    }
    if (req.method === 'GET') {
      const body = Buffer.alloc(0);
      if (!macOk(macStart(this.o.secret, 'GET', url, time).update(body).digest(), req.headers[MAC_HEADER])) {
        res.writeHead(401, { connection: 'close' }).end();
        return;
      }
      let stream: Readable;
      try {
        stream = await this.o.storage.openRead(fileId);
      } catch (err) {
        if (err instanceof FileMissingError) {
          res.writeHead(404).end();
          return;
        }
        throw err;
      }
      // The response is authenticated too: MAC over the request time and the bytes sent.
      const mac = macStart(this.o.secret, 'GET-RESPONSE', url, time);
      res.writeHead(200, { 'content-type': 'application/octet-stream', trailer: MAC_HEADER });
      stream.on('data', (c: Buffer) => mac.update(c));
      await pipeline(
        stream,
        new Writable({ write: (c, _e, cb) => (res.write(c) ? cb() : res.once('drain', () => cb())) }),
      );
      res.addTrailers({ [MAC_HEADER]: mac.digest('hex') });
      res.end();
      return;
    }
    res.writeHead(405).end();
  }

  /** Streams local blob `fileId` to the peer at `addr`; resolves once it is durable there. */
  async push(addr: string, fileId: string): Promise<void> {
    const hp = parseHostPort(addr);
    if (!hp) throw new Error(`bad peer address "${addr}"`);
    const url = `${BLOB_PATH}${fileId}`;
    const time = String(Date.now());
    const mac = macStart(this.o.secret, 'PUT', url, time);
    const src = await this.o.storage.openRead(fileId);
    let sent = false;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: hp.host,
          port: hp.port,
          method: 'PUT',
          path: url,
          agent: this.agent,
          headers: {
            ...peerHeaders(this.o.secret, 'PUT', url, time),
            trailer: MAC_HEADER,
            'content-type': 'application/octet-stream',
          },
        },
        (res) => {
          if (!sent && res.statusCode === 204) {
            // The peer already holds the blob (it answers before reading the body): the rest
            // of the bytes need not cross. The half-sent request cannot be reused: drop it.
            resolve();
            src.destroy();
            req.destroy();
            return;
          }
          res.resume();
          res.on('end', () =>
            res.statusCode === 204
              ? resolve()
              : reject(new Error(`peer ${addr} answered ${res.statusCode} to the blob push`)),
          );
        },
      );
      req.setTimeout(this.o.timeoutMs, () =>
        req.destroy(new Error(`peer ${addr} did not take the blob within ${this.o.timeoutMs} ms`)),
      );
      req.on('error', reject);
      src.on('data', (c: Buffer) => mac.update(c));
      pipeline(src, new Writable({ write: (c, _e, cb) => (req.write(c) ? cb() : req.once('drain', () => cb())) })).then(
        () => {
          sent = true;
          req.addTrailers({ [MAC_HEADER]: mac.digest('hex') });
          req.end();
        },
        (err: Error) => req.destroy(err),
      );
    });
  }

  /** Pushes to every peer at once; resolves with the addresses that hold it once `needed` of
   *  them confirmed (the others finish in the background), rejects when too many failed. */
  replicate(fileId: string, peers: string[], needed: number): Promise<string[]> {
    if (needed <= 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const ok: string[] = [];
      let failed = 0;
      const errors: string[] = [];
      for (const addr of peers) {
        this.push(addr, fileId).then(
          () => {
            ok.push(addr);
            if (ok.length === needed) resolve([...ok]);
          },
          (err: Error) => {
            failed++;
            errors.push(err.message);
            if (peers.length - failed < needed)
              reject(
                new Error(`blob ${fileId} reached ${ok.length} of the ${needed} peers it needs: ${errors.join('; ')}`),
              );
          },
        );
      }
      if (peers.length < needed)
        reject(new Error(`blob ${fileId} needs ${needed} peers but only ${peers.length} are known`));
    });
  }

  /** Fetches a blob this node lacks from the first peer that has it and keeps it. */
  async fetch(fileId: string, peers: string[]): Promise<boolean> {
    for (const addr of peers) {
      const hp = parseHostPort(addr);
      if (!hp) continue;
      const url = `${BLOB_PATH}${fileId}`;
      const headers = signHeaders(this.o.secret, 'GET', url, new Uint8Array());
      try {
        const got = await new Promise<boolean>((resolve, reject) => {
          const req = http.get({ host: hp.host, port: hp.port, path: url, agent: this.agent, headers }, (res) => {
            if (res.statusCode !== 200) {
              res.resume();
              res.on('end', () => resolve(false));
              return;
            }
            receiveInto(
              this.o.storage,
              fileId,
              res,
              macStart(this.o.secret, 'GET-RESPONSE', url, headers[TIME_HEADER]!),
            ).then(resolve, reject);
          });
          req.setTimeout(this.o.timeoutMs, () => req.destroy(new Error('timeout')));
          req.on('error', reject);
        });
        if (got) return true;
      } catch {
        // try the next peer
      }
    }
    return false;
  }

  close(): void {
    this.agent.destroy();
  }
}
