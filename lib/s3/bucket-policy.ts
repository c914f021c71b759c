// Get/Put/DeleteBucketPolicy and GetBucketPolicyStatus: the stored policy document. How it
// takes part in every permission check is in lib/s3/policy-access.ts.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import type { Grants } from './access.ts';
import { readRequestBody } from './body.ts';
import { sendDocument } from './respond.ts';
import { isPublicPolicy, parseBucketPolicy, POLICY_MAX_BYTES, PolicyError } from '../auth/bucket-policy.ts';
import { parsedPolicy } from './policy-access.ts';

export async function putBucketPolicy(ctx: Ctx, e: B, { bucket: b }: Grants['bucket']): Promise<void> {
  const body = await readRequestBody(ctx, 2 * POLICY_MAX_BYTES);
  if (!body.length) throw new S3Error('MissingRequestBodyError');
  const text = body.toString('utf8');
  let policy: ReturnType<typeof parseBucketPolicy>;
  try {
    policy = parseBucketPolicy(text, e.bucket);
  } catch (err) {
    if (err instanceof PolicyError) throw new S3Error('MalformedPolicy', (err as Error).message);
    throw err;
  }
  // BlockPublicPolicy refuses a public policy (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
  if (b.publicAccessBlock?.blockPublicPolicy && isPublicPolicy(policy)) throw new S3Error('AccessDenied');
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'policy', value: text });
  ctx.res.writeHead(204);
  ctx.res.end();
}

export function getBucketPolicy(ctx: Ctx, e: B, { bucket: b }: Grants['bucket']): void {
  if (!b.policy) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: e.bucket });
  const body = Buffer.from(b.policy, 'utf8');
  ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

export async function deleteBucketPolicy(ctx: Ctx, e: B): Promise<void> {
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'policy', value: null });
  ctx.res.writeHead(204);
  ctx.res.end();
}

export function getBucketPolicyStatus(ctx: Ctx, e: B, { bucket: b }: Grants['bucket']): void {
  const policy = parsedPolicy(b);
  if (!policy) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: e.bucket });
  sendDocument(ctx.res, 'PolicyStatus', { IsPublic: isPublicPolicy(policy) ? 'true' : 'false' });
}
