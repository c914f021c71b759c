// Put/GetBucketVersioning and the version ids they bring: generated here, in the request, so
// the metadata command that carries one applies the same way on every replica.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html
import { randomBytes } from 'node:crypto';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import type { Grants } from './access.ts';
import { readRequestBody } from './body.ts';
import { sendDocument } from './respond.ts';
import { childText, parseXml } from './xml.ts';
import type { BucketRow, ObjectRow } from '../metadata/types.ts';

/**
 * A new version id: 12 bytes of the time (ms, big-endian) then random bytes, base64url, so
 * ids are opaque to clients and URL-safe (AWS's are 32 URL-safe characters too).
 */
export function newVersionId(now = Date.now()): string {
  const b = randomBytes(24);
  b.writeUIntBE(Math.floor(now / 0x10000), 0, 4);
  b.writeUInt16BE(now % 0x10000, 4);
  return b.toString('base64url');
}

/** The id a write to this bucket gives its new version: a fresh id when Enabled, else null (the null version). */
export function versionIdFor(bucket: BucketRow | undefined): string | null {
  return bucket?.versioning === 'Enabled' ? newVersionId() : null;
}

/** x-amz-version-id for a version of an object in a bucket that has ever had versioning on. */
export function versionHeader(bucket: BucketRow, o: Pick<ObjectRow, 'versionId'>): Record<string, string> {
  return bucket.versioning ? { 'x-amz-version-id': o.versionId ?? 'null' } : {};
}

export async function putBucketVersioning(ctx: Ctx, e: B, { bucket }: Grants['bucket']): Promise<void> {
  const body = await readRequestBody(ctx, 64 * 1024);
  if (!body.length) throw new S3Error('MissingRequestBodyError');
  const root = parseXml(body);
  if (root.name !== 'VersioningConfiguration') throw new S3Error('MalformedXML');
  const status = childText(root, 'Status')?.trim();
  const mfa = childText(root, 'MfaDelete')?.trim();
  if (mfa !== undefined && mfa !== 'Disabled' && mfa !== 'Enabled') throw new S3Error('MalformedXML');
  if (mfa === 'Enabled') throw new S3Error('NotImplemented', 'MFA delete is not implemented by this server.');
  if (status === undefined) {
    if (mfa !== undefined) return ok(ctx);
    throw new S3Error('MalformedXML');
  }
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html: versioning cannot
  // be suspended on a bucket with Object Lock.
  if (status === 'Suspended' && bucket.objectLock)
    throw new S3Error(
      'InvalidBucketState',
      'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
    );
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'versioning', value: status });
  ok(ctx);
}

function ok(ctx: Ctx): void {
  ctx.res.writeHead(200, { 'Content-Length': '0' });
  ctx.res.end();
}

export function getBucketVersioning(ctx: Ctx, _e: B, { bucket }: Grants['bucket']): void {
  // A bucket never versioned answers an empty configuration, as AWS does.
  sendDocument(ctx.res, 'VersioningConfiguration', bucket.versioning ? { Status: bucket.versioning } : {});
}
