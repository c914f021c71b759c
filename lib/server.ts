// The request lifecycle: ids and common headers, routing, authentication, dispatch, and
// turning any failure into an S3 error document. Handlers never see a raw exception path.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from './auth/sigv4/index.ts';
import { S3Error } from './s3/errors.ts';
import { parseEndpoint, splitUrl, type Endpoint } from './s3/router.ts';
import { headerGetter, type Ctx, type Services } from './s3/context.ts';
import { sendError } from './s3/respond.ts';
import { dispatch } from './s3/dispatch.ts';
import { applyCors } from './s3/cors.ts';
import { declarationOf } from './s3/operations.ts';
import { FileMissingError, FsyncError } from './storage/backend.ts';
import { isDiskFull, lowOnSpace } from './storage/disk-guard.ts';
import type { OpsHandler } from './ops/endpoints.ts';
import type { ConsoleHandler } from './ui/console.ts';
import { countBodyBytes, type RequestRecord } from './ops/observe.ts';
import { redactUrl } from './ops/log.ts';
import { lingerWhenClosed } from './ops/lingering-close.ts';
import { serveTaskStatus, TASKS_PATH } from './events/task-status.ts';
import { explainSignatureMismatch } from './auth/sigv4/explain.ts';
import { clientAddress } from './client-address.ts';

export interface HandlerOptions {
  /** Serves /health, /metrics, ... ; returns false when the path is not an ops path. */
  ops?: OpsHandler;
  /** The web console (/ui): its pages and API, and the session principal of requests from the page. */
  ui?: ConsoleHandler;
  /** Called once per request when the response closes (request log line, metrics). */
  finished?: (r: RequestRecord) => void;
  domains: readonly string[];
}

// Request ids: a random per-process prefix and a counter, unique without asking the CSPRNG
// for bytes on every request (that alone was ~4% of a small GET's CPU).
const ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
const HOST_ID_PREFIX = randomBytes(12).toString('base64');
let requestCounter = 0;
const ANONYMOUS = { principal: null, payload: { kind: 'unsigned' } } as const;

function newRequestId(): string {
  requestCounter = (requestCounter + 1) >>> 0;
  return ID_PREFIX + requestCounter.toString(16).toUpperCase().padStart(8, '0');
}

/** A request that claims a signature (header, or presigned query); anything else is anonymous,
 *  an ops or console request, or a browser POST form. */
export function isSignedRequest(authorization: string | undefined, rawQuery: string): boolean {
  return authorization !== undefined || rawQuery.includes('X-Amz-Algorithm=') || rawQuery.includes('Signature=');
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function createRequestHandler(svc: Services, opts: HandlerOptions) {
  const { log, config, metadata } = svc;
  const lookup = (accessKeyId: string) => {
    const c = metadata.getCredential(accessKeyId);
    return c?.active ? c : undefined;
  };

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = newRequestId();
    const hostId = HOST_ID_PREFIX + Buffer.from(requestId, 'hex').toString('base64');
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', hostId);
    res.setHeader('Server', 'BleepStore');

    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const header = headerGetter(req);
    let endpoint: Endpoint | undefined;
    let ctx: Ctx | undefined;
    let opsRoute: string | false = false;
    /** Who signed (or claimed to sign) the request, for the request log; never the secret. */
    let accessKeyId: string | undefined;

    const bytesOut = countBodyBytes(res);
    res.once('close', () => {
      const e = endpoint as (Endpoint & { bucket?: string; key?: string }) | undefined;
      opts.finished?.({
        requestId,
        method,
        route: e?.op ?? (opsRoute || 'Unknown'),
        ops: opsRoute !== false,
        bucket: e?.bucket,
        key: e?.key,
        status: res.headersSent ? res.statusCode : 0, // 0: the connection closed before any response
        bytesIn: ctx?.bytesIn ?? 0,
        bytesOut: method === 'HEAD' ? 0 : bytesOut(),
        durationMs: performance.now() - started,
        aborted: !res.writableFinished,
        clientAddress: clientAddress(req),
        userAgent: req.headers['user-agent'],
        accessKeyId,
      });
    });

    try {
      const { rawPath, rawQuery } = splitUrl(url);
      const signed = isSignedRequest(header('authorization'), rawQuery);
      if (!signed && opts.ui && (opsRoute = opts.ui.route(method, rawPath, header)))
        return await opts.ui.serve(req, res);
      if (!signed && svc.tasks && (method === 'GET' || method === 'HEAD') && rawPath.startsWith(TASKS_PATH)) {
        opsRoute = TASKS_PATH;
        return serveTaskStatus(req, res, svc.tasks, rawPath);
      }
      const fromConsole = !signed && opts.ui !== undefined && opts.ui.fromPage(header);
      if (
        !signed &&
        !fromConsole &&
        opts.ops &&
        (method === 'GET' || method === 'HEAD') &&
        (opsRoute = opts.ops.route(rawPath))
      ) {
        return await opts.ops.serve(req, res, opsRoute);
      }

      endpoint = parseEndpoint({ method, url, host: header('host'), header }, { domains: opts.domains });
      // Before authentication, so a browser may read the error document of a refused request.
      const origin = header('origin');
      if (origin !== undefined && endpoint.op !== 'PreflightCors' && 'bucket' in endpoint)
        applyCors(res, metadata.getBucket(endpoint.bucket), origin, method);
      // A preflight is never signed, even when its URL is a presigned one (made for the actual method).
      const auth =
        endpoint.op === 'PreflightCors'
          ? ANONYMOUS
          : authenticate(
              {
                method,
                rawPath,
                rawQuery,
                headers: req.headers,
                rawHeaders: req.rawHeaders,
                virtualBucket: endpoint.style === 'virtual' && 'bucket' in endpoint ? endpoint.bucket : undefined,
              },
              lookup,
              {
                region: config.server.region,
                now: Date.now(),
                sigv2: config.auth.sigv2,
                deferBodySignature: declarationOf(endpoint.op).bodyFirst === true,
              },
            );
      const principal = auth.principal
        ? {
            accessKeyId: auth.principal.accessKeyId,
            ownerId: auth.principal.ownerId,
            displayName: auth.principal.displayName,
          }
        : fromConsole
          ? opts.ui!.principal(header)
          : null;
      accessKeyId = principal?.accessKeyId;
      ctx = { req, res, requestId, endpoint, principal, payload: auth.payload, svc, header, bytesIn: 0 };
      await dispatch(ctx);
    } catch (err) {
      let s3err: S3Error;
      if (err instanceof S3Error) {
        s3err = err;
        accessKeyId ??= err.extra.AWSAccessKeyId;
        if (err.code === 'SignatureDoesNotMatch' && log.enabled('debug'))
          log.debug('signature does not match', { request_id: requestId, ...explainSignatureMismatch(err) });
        if (s3err.status >= 500)
          log.warn('request failed', {
            request_id: requestId,
            code: s3err.code,
            message: s3err.message,
            cause: (err as Error).cause,
          });
      } else if (err instanceof FsyncError) {
        log.error('fsync failed: data may be lost; refusing further requests', { request_id: requestId, error: err });
        svc.fatal(err);
        s3err = new S3Error('InternalError');
      } else if (isDiskFull(err)) {
        log.warn('disk full', { request_id: requestId, error: err });
        void svc.disk.release();
        s3err = lowOnSpace();
      } else if (err instanceof FileMissingError) {
        log.error('object file missing for a metadata row', { request_id: requestId, file_id: err.fileId });
        s3err = new S3Error('InternalError');
      } else {
        log.error('request failed', { request_id: requestId, method, url: redactUrl(url), error: err });
        s3err = new S3Error('InternalError');
      }
      const { rawPath } = splitUrl(url);
      let resource = rawPath;
      try {
        resource = decodeURIComponent(rawPath);
      } catch {
        /* keep the raw form */
      }
      const close = hasBody(req) && !req.readableEnded;
      if (close) lingerWhenClosed(req.socket);
      sendError(res, s3err, { method, resource, requestId, hostId, close });
    }
  };
}
