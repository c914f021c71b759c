// Operator endpoints answered for unsigned GET/HEAD requests: /healthz, /readyz, /health.
// (Metrics, OpenAPI and /docs arrive with issue #4.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { access, constants } from 'node:fs/promises';
import type { Services } from '../s3/context.ts';

export function createOpsHandler(svc: Services) {
  const { config } = svc;
  const checks = async (): Promise<Record<string, 'ok' | 'error'>> => {
    let metadata: 'ok' | 'error' = 'ok';
    let storage: 'ok' | 'error' = 'ok';
    try {
      svc.metadata.db.prepare('SELECT 1').get();
    } catch {
      metadata = 'error';
    }
    try {
      await access(svc.storage.tmpDir, constants.W_OK);
    } catch {
      storage = 'error';
    }
    return { metadata, storage };
  };
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (!config.observability.health_check) return false;
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Length': '0' }).end();
      return true;
    }
    if (path === '/readyz') {
      const c = await checks();
      const ok = Object.values(c).every((v) => v === 'ok');
      res.writeHead(ok ? 200 : 503, { 'Content-Length': '0' }).end();
      return true;
    }
    if (path === '/health') {
      const c = await checks();
      const ok = Object.values(c).every((v) => v === 'ok');
      const body = JSON.stringify({ status: ok ? 'ok' : 'error', checks: c });
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }).end(req.method === 'HEAD' ? undefined : body);
      return true;
    }
    return false;
  };
}
