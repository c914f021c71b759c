// /docs: Swagger UI from the swagger-ui-dist package, served from this host only. The page
// loads nothing from elsewhere: the validator badge is off (validatorUrl: null), and a
// Content-Security-Policy of 'self' makes the browser refuse any other origin.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

interface Asset {
  type: string;
  body: Buffer;
  gzip?: Buffer;
  cache: string;
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI's React components set style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BleepStore S3 API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// A separate file rather than an inline script, so the CSP needs no 'unsafe-inline' for scripts.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  displayOperationId: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
`;

/** Files of swagger-ui-dist that the page uses; nothing else in the package is served. */
const DIST_FILES: Record<string, string> = {
  '/docs/swagger-ui.css': 'text/css; charset=utf-8',
  '/docs/swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  '/docs/favicon-32x32.png': 'image/png',
  '/docs/favicon-16x16.png': 'image/png',
};

function distDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export interface DocsResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function createDocs(): {
  isDocsPath(p: string): boolean;
  serve(p: string, acceptEncoding: string | undefined): Promise<DocsResponse>;
} {
  const cache = new Map<string, Promise<Asset>>();
  const load = (p: string): Promise<Asset> => {
    let a = cache.get(p);
    if (!a) {
      a = (async (): Promise<Asset> => {
        // The page is useless without the assets: check for the package before serving it.
        if (p === '/docs' || p === '/docs/') {
          distDir();
          return { type: 'text/html; charset=utf-8', body: Buffer.from(PAGE), cache: 'no-cache' };
        }
        if (p === '/docs/init.js')
          return { type: 'text/javascript; charset=utf-8', body: Buffer.from(INIT), cache: 'no-cache' };
        const body = await readFile(path.join(distDir(), path.basename(p)));
        return { type: DIST_FILES[p]!, body, cache: 'public, max-age=86400' };
      })().then((asset) => (asset.type.startsWith('image/') ? asset : { ...asset, gzip: gzipSync(asset.body) }));
      a.catch(() => cache.delete(p));
      cache.set(p, a);
    }
    return a;
  };
  return {
    isDocsPath: (p) => p === '/docs' || p === '/docs/' || p === '/docs/init.js' || p in DIST_FILES,
    async serve(p, acceptEncoding) {
      let asset: Asset;
      try {
        asset = await load(p);
      } catch (err) {
        // swagger-ui-dist is an optional peer dependency: without it, /docs says what to install.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw err;
        const body = Buffer.from(
          'The /docs page needs the optional package swagger-ui-dist: npm install swagger-ui-dist\n',
        );
        return {
          status: 501,
          headers: {
            'Content-Type': 'text/plain; charset=utf-8',
            'Content-Length': String(body.length),
            'Cache-Control': 'no-store',
          },
          body,
        };
      }
      const gzip = asset.gzip && /\bgzip\b/.test(acceptEncoding ?? '');
      const body = gzip ? asset.gzip! : asset.body;
      const headers: Record<string, string> = {
        'Content-Type': asset.type,
        'Content-Length': String(body.length),
        'Cache-Control': asset.cache,
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        Vary: 'Accept-Encoding',
      };
      if (gzip) headers['Content-Encoding'] = 'gzip';
      return { status: 200, headers, body };
    },
  };
}
