// Operator endpoints (specs/observability-and-openapi.md): /health, /healthz, /readyz,
// /metrics, /openapi.json and /docs. lib/server.ts asks here first for unsigned GET/HEAD
// requests only; a signed request for the same path is an S3 request (GET /metrics signed is
// ListObjects of bucket "metrics"). Each endpoint that is switched off in `observability` is
// not answered here, so the request goes on to S3 routing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Config } from '../config.ts';
import { version } from '../version.ts';
import type { Logger } from './log.ts';
import type { ClusterHealth, ClusterMetricsSnapshot } from '../s3/context.ts';
import { createHealthChecks, type HealthReport, type HealthTargets } from './health.ts';
import type { MetadataReads } from '../metadata/reads.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { queueHealth } from '../events/health.ts';
import type { TargetStatus } from '../events/dispatcher.ts';
import { buildOpenApi } from './openapi.ts';
import { createDocs } from './docs.ts';
import { createRequestObserver, type RequestRecord } from './observe.ts';

/** The ops endpoints as lib/server.ts sees them. */
export interface OpsHandler {
  /** The route label (e.g. '/health', '/docs') if this path is an enabled ops endpoint, else false. */
  route(path: string): string | false;
  /** Answers a request for a path `route` accepted. */
  serve(req: IncomingMessage, res: ServerResponse, route: string): Promise<void>;
}

export interface Ops {
  handler: OpsHandler;
  /** Called once per request when its response closes: the log line and metrics. */
  finished: (r: RequestRecord) => void;
  metrics: Metrics | undefined;
  /** The readiness checks behind /readyz (shared: concurrent callers share one probe). */
  health: () => Promise<HealthReport>;
}

export interface OpsServices extends HealthTargets {
  config: Pick<Config, 'observability' | 'server' | 'durability' | 'metadata' | 'storage'>;
  metadata: HealthTargets['metadata'] & Pick<MetadataReads, 'stats' | 'inlineBytesRead'>;
  log: Logger;
  cluster?: (() => ClusterHealth) | undefined;
  clusterMetrics?: (() => ClusterMetricsSnapshot) | undefined;
  /** Event delivery, when targets are configured: /metrics and /health report it. */
  events?: { dispatcher: { status(): TargetStatus[] } } | undefined;
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer = '',
): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'Content-Length': String(buf.length) });
  res.end(req.method === 'HEAD' ? undefined : buf);
}

function pathOf(url = '/'): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

const JSON_TYPE = { 'Content-Type': 'application/json' };
const NO_STORE = { 'Cache-Control': 'no-store' };

/** The directories whose volumes' free space /metrics reports. */
function freeSpaceVolumes(c: OpsServices['config']): Array<{ volume: string; path: string }> {
  const out: Array<{ volume: string; path: string }> = [];
  if (c.metadata.sqlite.path !== ':memory:')
    out.push({ volume: 'metadata', path: path.dirname(path.resolve(c.metadata.sqlite.path)) });
  if (c.storage.backend === 'local') out.push({ volume: 'objects', path: path.resolve(c.storage.local.root_dir) });
  return out;
}

export function createOps(svc: OpsServices): Ops {
  const o = svc.config.observability;
  const metrics = o.metrics
    ? createMetrics(svc.metadata, {
        version,
        durability: svc.config.durability,
        freeSpace: freeSpaceVolumes(svc.config),
        queue: svc.events && (() => svc.events!.dispatcher.status()),
        cluster: svc.clusterMetrics,
      })
    : undefined;
  const health = createHealthChecks(svc);
  const docs = o.docs && o.openapi ? createDocs() : undefined;
  let openapi: string | undefined;

  const route = (p: string): string | false => {
    switch (p) {
      case '/health':
        return p; // always answered (spec, "Toggleability")
      case '/healthz':
      case '/readyz':
        return o.health_check && p;
      case '/metrics':
        return o.metrics && p;
      case '/openapi.json':
        return o.openapi && p;
    }
    return docs?.isDocsPath(p) ? '/docs' : false;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, r: string): Promise<void> => {
    try {
      switch (r) {
        case '/health': {
          // version and durability let a benchmark or an operator say what they measured.
          const cluster = svc.cluster?.();
          const about = { version, durability: svc.config.durability, ...(cluster ? { cluster } : {}) };
          if (!o.health_check)
            return send(req, res, 200, { ...JSON_TYPE, ...NO_STORE }, JSON.stringify({ status: 'ok', ...about }));
          const h = await health();
          const queue = svc.events && queueHealth(svc.events.dispatcher.status());
          const good = h.ok && !h.lowDisk && (!queue || queue.connected);
          return send(
            req,
            res,
            h.ok && (cluster?.ready ?? true) ? 200 : 503,
            { ...JSON_TYPE, ...NO_STORE },
            JSON.stringify({
              status: good && (cluster?.ready ?? true) ? 'ok' : 'degraded',
              ...about,
              checks: h.checks,
              ...(queue && { queue }),
            }),
          );
        }
        case '/healthz':
          return send(req, res, 200, NO_STORE);
        case '/readyz':
          // A cluster node without a leader, or before its replica has a key, cannot serve.
          return send(req, res, (await health()).ok && (svc.cluster?.().ready ?? true) ? 200 : 503, NO_STORE);
        case '/metrics':
          return send(req, res, 200, { 'Content-Type': metrics!.contentType, ...NO_STORE }, await metrics!.render());
        case '/openapi.json':
          openapi ??= JSON.stringify(buildOpenApi(svc.config));
          return send(req, res, 200, { ...JSON_TYPE, 'Cache-Control': 'no-cache' }, openapi);
        case '/docs': {
          const d = await docs!.serve(pathOf(req.url), req.headers['accept-encoding']);
          return send(req, res, d.status, d.headers, d.body);
        }
      }
    } catch (err) {
      svc.log.error('ops endpoint failed', { path: r, error: err });
      if (!res.headersSent) send(req, res, 500, { 'Content-Type': 'text/plain; charset=utf-8' }, 'Internal error\n');
      else res.destroy();
    }
  };

  return { handler: { route, serve }, finished: createRequestObserver(svc.log, metrics), metrics, health };
}
