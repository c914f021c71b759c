// Put/Get/DeleteBucketCors, the preflight OPTIONS request, and the CORS headers on actual
// requests (errors included, so a browser script can read S3 error documents).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
import type { ServerResponse } from 'node:http';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import { noSuchBucket, type Grants } from './access.ts';
import { readRequestBody } from './body.ts';
import { sendDocument, sendEmpty } from './respond.ts';
import { CORS_VARY, corsFromXml, corsHeaders, corsToXml, matchCors } from './cors-rules.ts';
import type { BucketRow } from '../metadata/types.ts';

export async function putBucketCors(ctx: Ctx, e: B): Promise<void> {
  const rules = corsFromXml(await readRequestBody(ctx, 64 * 1024));
  if (!(await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'cors', value: rules })))
    throw noSuchBucket(e.bucket);
  sendEmpty(ctx.res, 200);
}

export function getBucketCors(ctx: Ctx, e: B, { bucket: b }: Grants['bucket']): void {
  if (!b.cors) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: e.bucket });
  sendDocument(ctx.res, 'CORSConfiguration', corsToXml(b.cors));
}

export async function deleteBucketCors(ctx: Ctx, e: B): Promise<void> {
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'cors', value: null });
  ctx.res.writeHead(204);
  ctx.res.end();
}

const NOT_ALLOWED =
  'This CORS request is not allowed. This is usually because the evalution of Origin, request method / ' +
  "Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/** OPTIONS on a bucket or object: answered from the bucket's rules, never authenticated. */
export function preflight(ctx: Ctx, _e: B, { bucket: b }: Grants['bucket']): void {
  const origin = ctx.header('origin');
  if (origin === undefined) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  const method = ctx.header('access-control-request-method');
  if (method === undefined) throw new S3Error('BadRequest', 'Invalid Access-Control-Request-Method: null');
  if (!b.cors)
    throw new S3Error('CORSResponse', 'CORS is not enabled for this bucket.', {
      Method: method,
      ResourceType: 'BUCKET',
    });
  const requested = (ctx.header('access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const req = { origin, method, headers: requested };
  const rule = matchCors(b.cors, req);
  if (!rule) throw new S3Error('CORSResponse', NOT_ALLOWED, { Method: method, ResourceType: 'OBJECT' });
  sendEmpty(ctx.res, 200, { ...corsHeaders(rule, req, true), Vary: CORS_VARY });
}

/**
 * Before an actual request is handled: when it carries Origin and its bucket has CORS
 * rules, the headers of the first matching rule are set on the response (they then go out
 * with whatever the handler or the error path writes).
 */
export function applyCors(
  res: ServerResponse,
  bucket: BucketRow | undefined,
  origin: string | undefined,
  method: string,
): void {
  if (origin === undefined || !bucket?.cors) return;
  res.setHeader('Vary', CORS_VARY);
  const req = { origin, method, headers: [] };
  const rule = matchCors(bucket.cors, req);
  if (!rule) return;
  for (const [k, v] of Object.entries(corsHeaders(rule, req, false))) res.setHeader(k, v);
}
