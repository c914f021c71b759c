// GET /admin/config: the running configuration with every secret replaced by "**REDACTED**"
// (the spec's ServerConfig fields first, then every setting under `settings`).
import path from 'node:path';
import type { Config } from '../config.ts';
import { MAX_PUT_SIZE } from '../s3/body.ts';

export const REDACTED = '**REDACTED**';

// Key names that hold a secret anywhere in the config (auth, admin, cluster, cloud backends,
// event targets). A new secret key must match one of these.
const SECRET_KEY = /secret|token|password|passphrase|account_key|connection_string|sasl|credentials_file/i;

/** A URL keeps its host but loses its password (redis://user:pass@host). */
function redactUrl(v: string): string {
  try {
    const u = new URL(v);
    if (!u.password) return v;
    u.password = REDACTED;
    return u.toString();
  } catch {
    return v;
  }
}

export function redact(v: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key) && v !== '' && v !== undefined && v !== null && typeof v !== 'boolean')
    return typeof v === 'object' ? redactObject(v) : REDACTED;
  if (Array.isArray(v)) return v.map((x) => redact(x));
  if (v && typeof v === 'object') return redactObject(v);
  return typeof v === 'string' && v.includes('://') ? redactUrl(v) : v;
}

function redactObject(v: object): unknown {
  if (Array.isArray(v)) return v.map(() => REDACTED);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]));
}

const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

export function configView(config: Config, listening: { s3Port: number; adminPort: number }): Record<string, unknown> {
  const c = config.cluster;
  const backend = config.storage.backend;
  return {
    listen_addr: hostPort(config.server.host, listening.s3Port),
    admin_listen_addr: hostPort(config.server.host, listening.adminPort),
    data_directory: path.resolve(config.data_dir),
    mode: c.enabled ? 'cluster' : 'embedded',
    admin_token: REDACTED,
    ...(c.enabled
      ? {
          cluster: {
            node_id: c.node_id,
            bind_addr: c.bind_addr,
            peers: c.peers.filter((p) => p.id !== c.node_id).map((p) => p.addr),
          },
        }
      : {}),
    storage: {
      // The spec names the local backend "filesystem"; the cloud backends keep their names.
      backend: backend === 'local' ? 'filesystem' : backend,
      max_object_size_bytes: MAX_PUT_SIZE,
    },
    settings: redact(config),
  };
}
