// The admin commands' client of a running server's admin API (server.admin_port, bearer
// server.admin_token): where it is, whether it answers, and one JSON request to it.
import type { Config } from '../config.ts';
import { AdminError } from './open-store.ts';

export const ADMIN_OPTIONS = {
  'admin-url': { type: 'string' },
  token: { type: 'string' },
} as const;

export const ADMIN_USAGE = `  --admin-url URL     the server's admin API (default http://<server.host>:<server.admin_port>)
  --token TOKEN       the admin bearer token (default server.admin_token, BLEEPSTORE_ADMIN_TOKEN)`;

export interface AdminFlags {
  'admin-url'?: string | undefined;
  token?: string | undefined;
}

export interface AdminApi {
  base: string;
  /** One request; a non-2xx answer becomes an AdminError with the API's message. */
  call(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** The admin API's base URL from the flags or the config, or undefined when neither names one. */
export function adminBase(config: Config, flags: AdminFlags): string | undefined {
  if (flags['admin-url']) return flags['admin-url'].replace(/\/$/, '');
  if (!config.server.admin_port) return undefined;
  const h = config.server.host;
  const host = h === '0.0.0.0' || h === '::' || h === '' ? '127.0.0.1' : h;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.admin_port}`;
}

export function adminApi(base: string, token: string): AdminApi {
  return {
    base,
    async call(method, path, body, timeoutMs = 30_000) {
      let r: Response;
      try {
        r = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new AdminError(`no admin API answers at ${base} (${(err as Error).message}); is the server running?`);
      }
      const text = await r.text();
      let json: Record<string, unknown> = {};
      try {
        if (text) json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = { message: text.slice(0, 200) };
      }
      if (!r.ok) {
        const leader = r.headers.get('x-bleepstore-leader');
        throw new AdminError(
          `the admin API answered ${r.status}: ${String(json.message ?? json.error ?? '')}` +
            (r.status === 503 && leader ? ` (ask the leader, ${leader})` : ''),
        );
      }
      return json;
    },
  };
}

/** The token from the flags or the config, or an AdminError saying how to give one. */
export function adminToken(config: Config, flags: AdminFlags): string {
  const token = flags.token ?? config.server.admin_token;
  if (!token)
    throw new AdminError('no admin token: set server.admin_token (or BLEEPSTORE_ADMIN_TOKEN) or pass --token', 2);
  return token;
}

/**
 * The running server's admin API, if one answers: a server owns its database, so changes go
 * through it (in cluster mode they become Raft entries every node applies). Undefined when
 * nothing listens there; a server that refuses the token is an error, not "not running".
 */
export async function runningServer(config: Config, flags: AdminFlags): Promise<AdminApi | undefined> {
  const base = adminBase(config, flags);
  if (!base) return undefined;
  const token = flags.token ?? config.server.admin_token;
  let r: Response;
  try {
    r = await fetch(`${base}/admin/status`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(3000),
    });
    await r.arrayBuffer();
  } catch {
    if (flags['admin-url']) throw new AdminError(`no admin API answers at ${base}; is the server running?`);
    return undefined;
  }
  if (r.status === 401)
    throw new AdminError(
      `a server is running (its admin API at ${base} answers) but refuses the admin token; pass --token or set server.admin_token`,
    );
  if (!r.ok) throw new AdminError(`the admin API at ${base} answered ${r.status} to /admin/status`);
  return adminApi(base, token);
}
