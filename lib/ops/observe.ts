// What the server knows about a request once its response is closed, and the one place that
// turns it into the `request completed` log line and the per-request metrics.
import type { ServerResponse } from 'node:http';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { RequestRecord } from './request-record.ts';

export type { RequestRecord } from './request-record.ts';

/** Probes that orchestrators send every few seconds: logged at debug, so they do not drown the log. */
const PROBES = new Set(['/health', '/healthz', '/readyz']);

/**
 * Counts the body bytes written through `res` (write and end), so a streamed GET reports what
 * it actually sent rather than what Content-Length promised.
 */
export function countBodyBytes(res: ServerResponse): () => number {
  let n = 0;
  const size = (chunk: unknown, enc: unknown): number => {
    if (typeof chunk === 'string')
      return Buffer.byteLength(chunk, typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8');
    if (chunk instanceof Uint8Array) return chunk.byteLength;
    return 0;
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    n += size(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') n += size(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  return () => n;
}

export function createRequestObserver(log: Logger, metrics: Metrics | undefined): (r: RequestRecord) => void {
  return (r) => {
    const level = r.ops && PROBES.has(r.route) ? 'debug' : 'info';
    if (log.enabled(level) && !log.rendered(level, 'request completed', accessLogMembers(r)))
      log[level]('request completed', accessLogFields(r));
    // Metrics are best-effort: a failure to count never fails a request
    // (specs/observability-and-openapi.md, "Best-Effort Metrics").
    try {
      metrics?.observe(r);
    } catch (err) {
      log.warn('recording request metrics failed', { error: err });
    }
  };
}

/** The access log line's fields (the text format's, and what accessLogMembers renders). */
export function accessLogFields(r: RequestRecord): Record<string, unknown> {
  return {
    request_id: r.requestId,
    method: r.method,
    op: r.route,
    bucket: r.bucket,
    key: r.key,
    status: r.status,
    bytes_in: r.bytesIn,
    bytes_out: r.bytesOut,
    duration_ms: Math.round(r.durationMs * 1000) / 1000,
    aborted: r.aborted || undefined,
    client_address: r.clientAddress,
    user_agent: r.userAgent,
    access_key_id: r.accessKeyId,
  };
}

// Printable ASCII but `"` and `\`: JSON.stringify would write it unchanged between quotes.
const AS_IS = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const str = (v: string): string => (AS_IS.test(v) ? `"${v}"` : JSON.stringify(v));

/**
 * The access log line's fields as JSON members: the same members, order and omissions as
 * JSON.stringify of the text format's fields object (undefined fields left out), built as one
 * string (an object, a spread and JSON.stringify per request were ~6 µs of a small GET).
 */
export function accessLogMembers(r: RequestRecord): string {
  let s = `"request_id":${str(r.requestId)},"method":${str(r.method)},"op":${str(r.route)}`;
  if (r.bucket !== undefined) s += `,"bucket":${str(r.bucket)}`;
  if (r.key !== undefined) s += `,"key":${str(r.key)}`;
  s += `,"status":${r.status},"bytes_in":${r.bytesIn},"bytes_out":${r.bytesOut},"duration_ms":${JSON.stringify(Math.round(r.durationMs * 1000) / 1000)}`;
  if (r.aborted) s += ',"aborted":true';
  if (r.clientAddress !== undefined) s += `,"client_address":${str(r.clientAddress)}`;
  if (r.userAgent !== undefined) s += `,"user_agent":${str(r.userAgent)}`;
  if (r.accessKeyId !== undefined) s += `,"access_key_id":${str(r.accessKeyId)}`;
  return s;
}
