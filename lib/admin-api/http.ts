// What every admin API route shares (../shared/specs/admin-api.openapi.yaml): bearer-token
// auth, JSON bodies, and errors as {error, message} with the spec's machine-readable codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';

export type Json = Record<string, unknown>;

/** An answer other than 2xx: status, the spec's error code, one sentence. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const notFound = (message = 'The requested resource does not exist.'): ApiError =>
  new ApiError(404, 'not_found', message);
export const badRequest = (message: string): ApiError => new ApiError(400, 'bad_request', message);

export function sendJson(res: ServerResponse, status: number, body?: Json): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    })
    .end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  sendJson(res, err.status, { error: err.code, message: err.message });
}

/** `Authorization: Bearer <token>` (RFC 6750 §2.1), compared in constant time. */
export function tokenOk(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m || !token) return false;
  // Hash both sides so the compare is constant-time whatever the lengths.
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

const MAX_BODY = 64 * 1024;

/** The request body as a JSON object; an empty body is `{}` where `optional`. */
export async function readJson(req: IncomingMessage, optional = false): Promise<Json> {
  let n = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw badRequest('The request body is larger than 64 KiB.');
    chunks.push(c as Buffer);
  }
  if (optional && n === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  } catch {
    // fall through
  }
  throw badRequest('The request body must be a JSON object.');
}
