// A follower takes any S3 request: reads it answers from its own replica, requests that
// change something it proxies, body streamed, to the leader's S3 port, so the client never
// sees a redirect (the spec's "Leader Redirect", option A). The SigV4 signature still holds:
// method, path, query and every header, Host included, reach the leader unchanged.
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';

export const LEADER_HEADER = 'x-bleepstore-leader';
/** Set on a forwarded request: the leader never forwards it again (no loops). */
export const FORWARDED_HEADER = 'x-bleepstore-forwarded-by';
/** The leader's applied index when it answered a forwarded request: the follower answers
 *  only once it has applied that far, so a client reads its own writes on the node it used. */
export const APPLIED_HEADER = 'x-bleepstore-applied';

// RFC 9110 §7.6.1: hop-by-hop fields are not forwarded.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'transfer-encoding']);

export function changesState(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

export function unavailableResponse(res: ServerResponse, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>${message}</Message></Error>`;
  res.writeHead(503, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
    'Retry-After': '1',
    Server: 'BleepStore',
  });
  res.end(body);
}

/** On the leader: stamps a forwarded request's answer with the applied index at that time.
 *  An answer whose head goes out before its change commits (CompleteMultipartUpload's early
 *  200 with keep-alive whitespace) is chunked; its trailer (RFC 9110 §6.5) carries the
 *  applied index at the end, which the follower waits for before it ends its own answer. */
export function stampApplied(res: ServerResponse, applied: () => number): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!this.headersSent) this.setHeader(APPLIED_HEADER, String(applied()));
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  const end = res.end;
  res.end = function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
    // Node sends trailers only on a chunked answer and drops them otherwise. No `Trailer`
    // declaration: Node refuses one on an answer with a length, and its parser reads
    // trailers without it.
    if (!this.writableEnded) this.addTrailers({ [APPLIED_HEADER]: String(applied()) });
    return end.apply(this, args);
  } as ServerResponse['end'];
}

/** The highest applied index the leader named, in the head or in the trailer. */
function appliedOf(fields: NodeJS.Dict<string | string[]>): number {
  const n = Number(fields[APPLIED_HEADER]);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

export class Forwarder {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly self: string;

  constructor(selfName: string) {
    this.self = selfName;
  }

  /** Proxies `req` to the S3 server at host:port and streams its answer back. */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    host: string,
    port: number,
    timeoutMs: number,
    caughtUp: (index: number) => Promise<void>,
  ): Promise<void> {
    return new Promise((resolve) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && v !== undefined) headers[k] = v;
      headers[FORWARDED_HEADER] = this.self;
      // Without a length the body is chunked on the way to the leader, as it came.
      if (headers['content-length'] === undefined && req.headers['transfer-encoding'])
        headers['transfer-encoding'] = 'chunked';
      const up = http.request({ host, port, method: req.method, path: req.url, headers, agent: this.agent });
      up.setTimeout(timeoutMs, () => up.destroy(new Error('the leader did not answer in time')));
      up.on('continue', () => res.writeContinue());
      up.on('response', async (ur) => {
        const applied = appliedOf(ur.headers);
        if (applied) await caughtUp(applied);
        const out: OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(ur.headers)) if (!HOP.has(k) && v !== undefined) out[k] = v;
        res.writeHead(ur.statusCode ?? 502, out);
        ur.pipe(res, { end: false });
        ur.on('error', () => res.destroy());
        ur.on('end', async () => {
          const last = appliedOf(ur.trailers);
          if (last > applied) await caughtUp(last);
          res.end();
          resolve();
        });
        res.on('close', () => {
          if (!ur.complete) ur.destroy();
          resolve();
        });
      });
      up.on('error', (err) => {
        // Whether the leader applied the change is unknown: 503 tells the client to retry.
        unavailableResponse(res, `The request could not reach the cluster leader (${err.message}); retry.`);
        req.resume();
        resolve();
      });
      req.on('aborted', () => up.destroy());
      req.pipe(up);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
