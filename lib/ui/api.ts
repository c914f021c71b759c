// The console's small JSON API under /ui/api/. Everything a user does to buckets and objects
// goes through the ordinary S3 paths instead (see lib/ui/console.ts); this API only does what
// S3 has no request for: logging in and out, presigning with the session key's secret, bucket
// totals, and the admin pages (keys, status) for the owner of the config's key.
import { statfs } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { Logger } from '../ops/log.ts';
import type { RecoveryReport } from '../recovery.ts';
import type { Principal } from '../auth/types.ts';
import { consoleMayList } from '../s3/policy-access.ts';
import { ownerIdFor } from '../auth/owner.ts';
import { MAX_EXPIRES_SECONDS } from '../auth/sigv4/presigned.ts';
import { createKey, CredentialError, deleteKey, listKeys, rotateKey } from '../metadata/credentials.ts';
import { version } from '../version.ts';
import { presignGet } from './presign.ts';
import { SessionStore } from './sessions.ts';

export const COOKIE = 'bleepstore_session';
export const CSRF_HEADER = 'x-bleepstore-csrf';
const MAX_BODY = 16 * 1024;

export interface ApiServices {
  config: Config;
  metadata: MetadataStore;
  log: Logger;
  recovery: RecoveryReport;
  startedAt: number;
}

class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const buf = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...HEADERS, ...extra, 'Content-Length': String(buf.length) });
  res.end(buf);
}

export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(first(req.headers['content-type']) ?? ''))
    throw new ApiError(415, 'Send a JSON body (Content-Type: application/json).');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new ApiError(413, 'The request body is too large.');
    chunks.push(c);
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'The request body is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ApiError(400, 'The request body must be a JSON object.');
  return v as Record<string, unknown>;
}

function str(body: Record<string, unknown>, name: string, max = 1024): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '' || v.length > max)
    throw new ApiError(400, `"${name}" must be a non-empty string.`);
  return v;
}

/** A cookie Path the page asked for: the base path the console is served under (behind a proxy). */
function cookiePath(v: unknown): string {
  return typeof v === 'string' && /^\/([A-Za-z0-9._~-]+\/)*$/.test(v) && v.length <= 200 ? v : '/';
}

export function createApi(svc: ApiServices) {
  const { config, metadata } = svc;
  const lookup = (id: string) => {
    const c = metadata.getCredential(id);
    return c?.active ? c : undefined;
  };
  const sessions = new SessionStore(lookup);
  const adminOwner = config.auth.owner_id || ownerIdFor(config.auth.access_key);
  const isAdmin = (p: Principal): boolean => p.ownerId === adminOwner;
  const whoami = (p: Principal) => ({
    accessKeyId: p.accessKeyId,
    displayName: p.displayName,
    ownerId: p.ownerId,
    admin: isAdmin(p),
  });

  /** The principal of a live session whose CSRF header matches; what S3 requests from the page act as. */
  function principal(cookieHeader: string | undefined, csrf: string | undefined): Principal | null {
    if (csrf === undefined) return null;
    const s = sessions.get(cookieValue(cookieHeader, COOKIE), csrf);
    return s?.csrfOk ? s.principal : null;
  }

  function requireSession(req: IncomingMessage): Principal {
    const p = principal(first(req.headers.cookie), first(req.headers[CSRF_HEADER]));
    if (!p) throw new ApiError(401, 'Log in first.');
    return p;
  }

  function requireAdmin(req: IncomingMessage): Principal {
    const p = requireSession(req);
    if (!isAdmin(p))
      throw new ApiError(
        403,
        "Only the owner of the server's configured key may manage keys and see the server status.",
      );
    return p;
  }

  async function status() {
    let disk: { freeBytes: number; totalBytes: number } | null = null;
    try {
      const s = await statfs(config.data_dir);
      disk = { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch {
      /* a memory store may have no data directory */
    }
    const paths: Record<string, string> = { data: config.data_dir, metadata: config.metadata.sqlite.path };
    if (config.storage.backend === 'local') paths.objects = config.storage.local.root_dir;
    return {
      version,
      node: process.version,
      durability: config.durability,
      storage: config.storage.backend,
      region: config.server.region,
      paths,
      uptimeSeconds: Math.round((Date.now() - svc.startedAt) / 1000),
      disk,
      recovery: svc.recovery,
      totals: metadata.stats(),
      sessions: sessions.size,
      metrics: config.observability.metrics,
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    const post = method === 'POST';
    // Browsers say where a request comes from; anything but the console's own origin is refused
    // (https://www.w3.org/TR/fetch-metadata/). SameSite=Strict already keeps the cookie away.
    const site = first(req.headers['sec-fetch-site']);
    if (site !== undefined && site !== 'same-origin') throw new ApiError(403, 'Cross-site requests are refused.');
    const want = (m: string) => {
      if (method !== m) throw new ApiError(405, `Use ${m} for ${path}.`);
    };
    switch (path) {
      case '/ui/api/login': {
        want('POST');
        const body = await readJson(req);
        const s = sessions.login(str(body, 'accessKeyId', 128), str(body, 'secretKey', 1024));
        if (!s) {
          svc.log.warn('console login refused', { access_key: String(body.accessKeyId).slice(0, 128) });
          throw new ApiError(401, 'The access key or secret is wrong.');
        }
        const secure = 'encrypted' in req.socket || /^https:/i.test(first(req.headers.origin) ?? '');
        const cookie = `${COOKIE}=${s.id}; Path=${cookiePath(body.path)}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
        svc.log.info('console login', { access_key: s.principal.accessKeyId });
        return sendJson(res, 200, { user: whoami(s.principal), csrf: s.csrf }, { 'Set-Cookie': cookie });
      }
      case '/ui/api/session': {
        want('GET');
        // 200 either way: the page asks this on every load, and a 401 would be logged as an error.
        const s = sessions.get(cookieValue(first(req.headers.cookie), COOKIE));
        return sendJson(res, 200, s ? { user: whoami(s.principal), csrf: s.csrf } : { user: null, csrf: null });
      }
      case '/ui/api/logout': {
        want('POST');
        requireSession(req);
        sessions.logout(cookieValue(first(req.headers.cookie), COOKIE));
        const body = await readJson(req).catch(() => ({}) as Record<string, unknown>);
        return sendJson(
          res,
          200,
          {},
          { 'Set-Cookie': `${COOKIE}=; Path=${cookiePath(body.path)}; HttpOnly; SameSite=Strict; Max-Age=0` },
        );
      }
      case '/ui/api/presign': {
        want('POST');
        const p = requireSession(req);
        const body = await readJson(req);
        const expires = body.expiresSeconds;
        if (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_SECONDS) {
          throw new ApiError(400, `"expiresSeconds" must be a whole number from 1 to ${MAX_EXPIRES_SECONDS} (7 days).`);
        }
        const cred = lookup(p.accessKeyId);
        if (!cred) throw new ApiError(401, 'Log in first.');
        const key = str(body, 'key', 1024);
        const host = first(req.headers.host);
        if (!host) throw new ApiError(400, 'The request has no Host header.');
        const url = presignGet({
          accessKeyId: cred.accessKeyId,
          secretKey: cred.secretKey,
          region: config.server.region,
          host,
          bucket: str(body, 'bucket', 63),
          key,
          expiresSeconds: expires,
          ...(body.download === true ? { attachmentName: key.slice(key.lastIndexOf('/') + 1) || 'download' } : {}),
        });
        return sendJson(res, 200, { ...url, expiresAt: new Date(Date.now() + expires * 1000).toISOString() });
      }
      case '/ui/api/bucket-stats': {
        want('GET');
        const p = requireSession(req);
        const name = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('bucket') ?? '';
        const b = metadata.getBucket(name);
        if (!b) throw new ApiError(404, `No bucket "${name}".`);
        // The same rule as ListObjects: the totals are what a listing shows.
        if (!consoleMayList(b, p, req)) throw new ApiError(403, 'Access denied.');
        return sendJson(res, 200, { owner: b.ownerDisplay, ownerId: b.ownerId, ...metadata.bucketStat(name) });
      }
      case '/ui/api/admin/status':
        want('GET');
        requireAdmin(req);
        return sendJson(res, 200, await status());
      case '/ui/api/admin/keys': {
        requireAdmin(req);
        if (!post) {
          want('GET');
          return sendJson(res, 200, { keys: listKeys(metadata), configKey: config.auth.access_key });
        }
        const body = await readJson(req);
        const row = await (typeof body.ownerOf === 'string'
          ? createKey(metadata, { ownerOf: body.ownerOf })
          : createKey(metadata, { displayName: str(body, 'displayName', 200) }));
        svc.log.info('console created an access key', { access_key: row.accessKeyId });
        return sendJson(res, 200, row);
      }
      case '/ui/api/admin/keys/rotate': {
        want('POST');
        requireAdmin(req);
        const row = await rotateKey(metadata, str(await readJson(req), 'accessKeyId', 128));
        svc.log.info('console rotated an access key', { access_key: row.accessKeyId });
        return sendJson(res, 200, row);
      }
      case '/ui/api/admin/keys/delete': {
        want('POST');
        requireAdmin(req);
        const id = str(await readJson(req), 'accessKeyId', 128);
        if (id === config.auth.access_key)
          throw new ApiError(
            400,
            "The key in the server's config cannot be deleted: the server restores it from the config at every start.",
          );
        const info = await deleteKey(metadata, id);
        svc.log.info('console deleted an access key', { access_key: id });
        return sendJson(res, 200, info);
      }
    }
    throw new ApiError(404, `No console API at ${path}.`);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      await route(req, res, path);
    } catch (err) {
      if (err instanceof ApiError) return sendJson(res, err.status, { error: err.message });
      if (err instanceof CredentialError) return sendJson(res, 400, { error: err.message });
      throw err;
    }
  }

  return { serve, principal };
}
