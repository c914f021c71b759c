// The admin API (../shared/specs/admin-api.openapi.yaml) on server.admin_port, in single-node
// ("embedded") and cluster mode alike: status, metrics, storage, credentials, config, and,
// on a cluster node, the cluster routes (lib/cluster/admin-api.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import { ConfigError } from '../config-error.ts';
import type { MetadataReads } from '../metadata/reads.ts';
import type { Submitter } from '../metadata/credentials.ts';
import type { HealthReport } from '../ops/health.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Logger } from '../ops/log.ts';
import { version } from '../version.ts';
import { handleClusterAdmin, clusterApiError, type ViaLeader } from '../cluster/admin-api.ts';
import type { ClusterNode } from '../cluster/node.ts';
import { handleCredentials } from './credentials.ts';
import { configView } from './config-view.ts';
import { notFound, sendJson } from './http.ts';
import { startAdminServer, type AdminServer } from './server.ts';

export interface AdminApiParts {
  config: Config;
  metadata: Pick<MetadataReads, 'listKeys' | 'stats' | 'totalUploadCount'>;
  /** Where credential changes go: the store, or in cluster mode the leader. */
  submitter: Submitter;
  health(): Promise<HealthReport>;
  metrics: Metrics | undefined;
  log: Logger;
  startedAt: Date;
  /** The S3 port once listening (for /admin/config). */
  s3Port(): number;
  cluster?: { node: ClusterNode; ready(): boolean; viaLeader?: ViaLeader } | undefined;
}

/** At least this long: the token guards credentials and membership. */
export const MIN_TOKEN_LENGTH = 16;

export function checkAdminConfig(config: Config): void {
  if (config.server.admin_port && config.server.admin_token.length < MIN_TOKEN_LENGTH)
    throw new ConfigError(
      `Config key "server.admin_token" must be set, at least ${MIN_TOKEN_LENGTH} characters, when server.admin_port is set: it guards the admin API.`,
    );
}

export async function startAdminApi(p: AdminApiParts): Promise<AdminServer> {
  let adminPort = p.config.server.admin_port;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    if (path.startsWith('/admin/cluster/')) {
      if (!p.cluster)
        throw notFound(
          'This server runs in embedded (single-node) mode: there is no cluster (cluster.enabled is false).',
        );
      return handleClusterAdmin(p.cluster.node, req, res, p.cluster.viaLeader);
    }
    if (path.startsWith('/admin/credentials') && (await handleCredentials(p, req, res, path))) return;
    if (method === 'GET' && path === '/admin/status') {
      const h = await p.health();
      return sendJson(res, 200, {
        version,
        uptime_seconds: Math.floor((Date.now() - p.startedAt.getTime()) / 1000),
        mode: p.cluster ? 'cluster' : 'embedded',
        healthy: h.ok && (p.cluster?.ready() ?? true),
        started_at: p.startedAt.toISOString(),
      });
    }
    if (method === 'GET' && path === '/admin/metrics') {
      if (!p.metrics) throw notFound('Metrics are switched off (observability.metrics: false).');
      const text = await p.metrics.render();
      res.writeHead(200, { 'content-type': p.metrics.contentType, 'cache-control': 'no-store' }).end(text);
      return;
    }
    if (method === 'GET' && path === '/admin/storage/status') {
      const h = await p.health();
      const c = p.config.storage;
      const remote =
        c.backend === 'aws'
          ? `s3://${c.aws.bucket}/${c.aws.prefix}`
          : c.backend === 'azure'
            ? `azure://${c.azure.container}/${c.azure.prefix}`
            : c.backend === 'gcp'
              ? `gs://${c.gcp.bucket}/${c.gcp.prefix}`
              : c.backend === 'memory'
                ? 'memory'
                : c.local.root_dir;
      return sendJson(res, 200, {
        // The spec names the local backend "filesystem"; the others keep their config names.
        backend: c.backend === 'local' ? 'filesystem' : c.backend,
        state: !h.ok ? 'unavailable' : h.lowDisk ? 'degraded' : 'healthy',
        data_directory: remote,
        // New object data is refused while the disk is low (storage.min_free_bytes).
        read_only: h.lowDisk,
        checks: h.checks,
      });
    }
    if (method === 'GET' && path === '/admin/storage/stats') {
      const s = p.metadata.stats();
      return sendJson(res, 200, {
        total_objects: s.objects,
        total_size_bytes: s.bytes,
        total_buckets: s.buckets,
        total_multipart_uploads: p.metadata.totalUploadCount(),
      });
    }
    if (method === 'GET' && path === '/admin/config')
      return sendJson(res, 200, configView(p.config, { s3Port: p.s3Port(), adminPort }));
    throw notFound();
  };
  const server = await startAdminServer({
    host: p.config.server.host,
    port: p.config.server.admin_port,
    token: p.config.server.admin_token,
    handle,
    translate: (err) => (p.cluster ? clusterApiError(p.cluster.node, err) : undefined),
    onUnexpected: (err) => p.log.error('admin API request failed', { error: err }),
  });
  adminPort = Number(new URL(server.url).port);
  return server;
}
