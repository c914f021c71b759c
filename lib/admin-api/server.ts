// The admin port (server.admin_port): its own http.Server, every request behind the bearer
// token, every failure as the spec's {error, message}.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from '../node-http.ts';
import type { AddressInfo } from 'node:net';
import { CredentialError } from '../metadata/errors.ts';
import { S3Error } from '../s3/errors.ts';
import { ApiError, sendError, tokenOk } from './http.ts';

export interface AdminServerOptions {
  host: string;
  port: number;
  token: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Turns a failure the routes do not know into an ApiError (cluster: 503 naming the leader). */
  translate?: (err: unknown) => ApiError | undefined;
  onUnexpected?: (err: unknown) => void;
}

export interface AdminServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The errors any route may meet, as the spec's responses. */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof CredentialError)
    return err.kind === 'missing'
      ? new ApiError(404, 'not_found', err.message)
      : err.kind === 'exists'
        ? new ApiError(409, 'conflict', err.message)
        : new ApiError(400, 'bad_request', err.message);
  // Cluster mode: no leader, or the change was not committed (lib/cluster/replicated-store.ts).
  if (err instanceof S3Error && err.status === 503)
    return new ApiError(503, 'service_unavailable', err.message, { 'Retry-After': '1', ...err.headers });
  return undefined;
}

export async function startAdminServer(o: AdminServerOptions): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    if (!tokenOk(req.headers.authorization, o.token)) {
      req.resume();
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(res, new ApiError(401, 'unauthorized', 'Missing or invalid admin bearer token.'));
    }
    o.handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const known = o.translate?.(err) ?? toApiError(err);
      if (known) return sendError(res, known);
      o.onUnexpected?.(err);
      sendError(
        res,
        new ApiError(500, 'internal_error', 'An unexpected error occurred. Check server logs for details.'),
      );
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    server,
    url: `http://${host}:${a.port}`,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
