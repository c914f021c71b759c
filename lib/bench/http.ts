// The benchmark's HTTP client: node:http with one keep-alive Agent per endpoint sized to the
// concurrency, SigV4 headers from the bench signer, bodies written from a Payload with
// backpressure, and response bodies counted (kept only when asked or on errors).
import http from 'node:http';
import https from 'node:https';
import type { Payload } from './payload.ts';
import { EMPTY_SHA256, type Signer, uriEncode } from './sigv4.ts';

export interface S3Request {
  method: string;
  bucket?: string;
  key?: string;
  /** Canonical query string (see canonicalQuery), without "?". */
  query?: string;
  payload?: Payload;
  /** UNSIGNED-PAYLOAD or the hex SHA-256 of the payload; the empty-body hash by default. */
  payloadHash?: string;
  headers?: Record<string, string>;
  /** Keep the response body (listings, uploads ids); error bodies are always kept. */
  collect?: boolean;
}

export interface S3Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Response body bytes received. */
  bytes: number;
  body: Buffer | undefined;
}

export interface ClientOptions {
  endpoint: URL;
  pathStyle: boolean;
  signer: Signer;
  maxSockets: number;
  timeoutMs?: number;
}

/** The Host header and canonical path of a bucket/key request, path-style or virtual-hosted. */
export function targetOf(
  endpointHost: string,
  pathStyle: boolean,
  bucket: string | undefined,
  key: string | undefined,
): { host: string; path: string } {
  if (bucket === undefined) return { host: endpointHost, path: '/' };
  const k = key !== undefined ? uriEncode(key, true) : '';
  if (pathStyle) return { host: endpointHost, path: `/${uriEncode(bucket)}${k ? '/' + k : ''}` };
  return { host: `${bucket}.${endpointHost}`, path: '/' + k };
}

const ERROR_BODY_LIMIT = 64 * 1024;
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE']);

export class BenchClient {
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #hostname: string;
  readonly #port: number;
  readonly #host: string;
  readonly #pathStyle: boolean;
  readonly #signer: Signer;
  readonly #timeoutMs: number;

  constructor(o: ClientOptions) {
    const tls = o.endpoint.protocol === 'https:';
    const agentOpts = { keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets };
    this.#agent = tls ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
    this.#request = tls ? https.request : http.request;
    this.#hostname = o.endpoint.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(o.endpoint.port) || (tls ? 443 : 80);
    this.#host = o.endpoint.host;
    this.#pathStyle = o.pathStyle;
    this.#signer = o.signer;
    this.#timeoutMs = o.timeoutMs ?? 300_000;
  }

  async send(r: S3Request): Promise<S3Response> {
    try {
      return await this.#once(r);
    } catch (err) {
      // A keep-alive socket the server closed while idle: retry once on a fresh one.
      if ((err as { reused?: boolean }).reused && RETRYABLE.has((err as NodeJS.ErrnoException).code ?? ''))
        return this.#once(r);
      throw err;
    }
  }

  /** Unsigned GET of an operator path such as /health. */
  getPlain(path: string): Promise<S3Response> {
    return this.#dispatch('GET', path, { host: this.#host }, undefined, true);
  }

  close(): void {
    this.#agent.destroy();
  }

  #once(r: S3Request): Promise<S3Response> {
    const { host, path } = targetOf(this.#host, this.#pathStyle, r.bucket, r.key);
    const query = r.query ?? '';
    const payloadHash = r.payloadHash ?? EMPTY_SHA256;
    const headers: Record<string, string> = {
      ...r.headers,
      host,
      ...this.#signer.sign(r.method, path, query, host, payloadHash),
    };
    if (r.payload) headers['content-length'] = String(r.payload.size);
    else if (r.method === 'PUT' || r.method === 'POST') headers['content-length'] = '0';
    return this.#dispatch(r.method, query ? `${path}?${query}` : path, headers, r.payload, r.collect === true);
  }

  #dispatch(
    method: string,
    path: string,
    headers: Record<string, string>,
    payload: Payload | undefined,
    collect: boolean,
  ): Promise<S3Response> {
    return new Promise((resolve, reject) => {
      const req = this.#request({
        agent: this.#agent,
        hostname: this.#hostname,
        port: this.#port,
        method,
        path,
        headers,
      });
      req.setTimeout(this.#timeoutMs, () => req.destroy(new Error(`no answer within ${this.#timeoutMs / 1000} s`)));
      req.on('error', (err) => {
        (err as { reused?: boolean }).reused = req.reusedSocket;
        reject(err);
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const keep = collect || status >= 300;
        const chunks: Buffer[] = [];
        let bytes = 0;
        let kept = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (keep && (collect || kept < ERROR_BODY_LIMIT)) {
            chunks.push(c);
            kept += c.length;
          }
        });
        res.on('end', () =>
          resolve({ status, headers: res.headers, bytes, body: keep ? Buffer.concat(chunks) : undefined }),
        );
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error(`response cut short after ${bytes} bytes`));
        });
      });
      if (!payload || payload.buf) {
        req.end(payload?.buf);
        return;
      }
      const it = payload.chunks()[Symbol.iterator]();
      const pump = (): void => {
        for (;;) {
          const next = it.next();
          if (next.done) {
            req.end();
            return;
          }
          if (!req.write(next.value)) {
            req.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  }
}
