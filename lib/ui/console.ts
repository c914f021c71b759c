// The web console at /ui (issue #19): static pages from lib/ui/static, the JSON API of
// lib/ui/api.ts, and the principal of a console session for S3 requests from the page.
//
// Security model. The page logs in with an access key and secret; the server checks them and
// answers with an HttpOnly, SameSite=Strict session cookie and a CSRF token the page keeps in
// memory. The page then calls the ordinary S3 paths with the cookie and the token in the
// x-bleepstore-csrf header; lib/server.ts authenticates such an unsigned request as the
// session's key and hands it to the same handlers and the same checks (lib/auth/authorize.ts)
// as a SigV4 request. A cookie without the matching header (or a forged or expired cookie)
// authenticates nobody: the request is anonymous and gets what anonymous S3 gets.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Principal } from '../auth/types.ts';
import { createApi, CSRF_HEADER, type ApiServices } from './api.ts';

export { CSRF_HEADER } from './api.ts';

type Header = (name: string) => string | undefined;

/** The console as lib/server.ts sees it. */
export interface ConsoleHandler {
  /** '/ui' when an unsigned request is for the console itself (page, assets, API, the `/` redirect). */
  route(method: string, rawPath: string, header: Header): string | false;
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** True when an unsigned request comes from the console page (carries the CSRF header). */
  fromPage(header: Header): boolean;
  /** The session principal such a request acts as, or null (anonymous). */
  principal(header: Header): Principal | null;
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** lib/ui/static next to this file; from a build in dist/ui, the package's lib/ui/static. */
function staticDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'static');
  return existsSync(beside) ? beside : path.join(here, '..', '..', 'lib', 'ui', 'static');
}

/** Every file under the static directory, read once: only these paths are ever served. */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const dir = staticDir();
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const type = TYPES[path.extname(rel)];
    if (type) assets.set('/ui/' + rel.split(path.sep).join('/'), { type, body: readFileSync(path.join(dir, rel)) });
  }
  const index = assets.get('/ui/index.html');
  if (index) assets.set('/ui/', index);
  return assets;
}

export function createConsole(svc: ApiServices): ConsoleHandler {
  const api = createApi(svc);
  const assets = loadAssets();

  const route = (method: string, rawPath: string, header: Header): string | false => {
    if (rawPath.startsWith('/ui/api/')) return '/ui';
    if (header(CSRF_HEADER) !== undefined || (method !== 'GET' && method !== 'HEAD')) return false;
    if (rawPath === '/ui' || rawPath.startsWith('/ui/')) return '/ui';
    // A browser opening the server's root is sent to the console (S3 clients never ask for HTML).
    if (rawPath === '/' && /\btext\/html\b/.test(header('accept') ?? '')) return '/ui';
    return false;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawPath = (req.url ?? '/').split('?')[0]!;
    if (rawPath.startsWith('/ui/api/')) return api.serve(req, res, rawPath);
    if (rawPath === '/' || rawPath === '/ui') {
      // Relative, so it also works under a reverse proxy's base path.
      res.writeHead(302, { Location: 'ui/', 'Content-Length': '0', 'Cache-Control': 'no-store' });
      return void res.end();
    }
    const asset = assets.get(rawPath);
    if (!asset) {
      const body = 'Not found\n';
      res.writeHead(404, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': String(body.length),
      });
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': asset.type,
      'Content-Length': String(asset.body.length),
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };

  return {
    route,
    serve,
    fromPage: (header) => header(CSRF_HEADER) !== undefined,
    principal: (header) => api.principal(header('cookie'), header(CSRF_HEADER)),
  };
}
