// Get/PutBucketAcl and Get/PutObjectAcl. A PUT takes exactly one of: a canned x-amz-acl,
// x-amz-grant-* headers, or an AccessControlPolicy body.
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B, ObjectEndpoint as O } from './endpoint.ts';
import type { Grants } from './access.ts';
import { aclFromHeaders, aclFromXml, aclToXml, type Owner } from './acl.ts';
import { readRequestBody } from './body.ts';
import { sendDocument, sendEmpty } from './respond.ts';
import type { Acl, BucketRow } from '../metadata/types.ts';
import { bucketOwnerOf, checkAclWrite, effectiveAcl } from './ownership.ts';
import { eventStamp } from './event-stamp.ts';
import { versionHeader } from './versioning.ts';

async function aclFromRequest(ctx: Ctx, bucket: BucketRow, owner: Owner): Promise<Acl> {
  const acl = await aclFromRequestBody(ctx, owner, bucketOwnerOf(bucket));
  checkAclWrite(bucket, acl, ctx.header('x-amz-acl'));
  return acl;
}

async function aclFromRequestBody(ctx: Ctx, owner: Owner, bucketOwner: Owner): Promise<Acl> {
  const fromHeaders = aclFromHeaders(ctx.header, owner, bucketOwner);
  const body = await readRequestBody(ctx, 64 * 1024);
  if (fromHeaders && body.length) {
    throw new S3Error('UnexpectedContent', 'This request does not support content when an ACL is given in headers.');
  }
  if (fromHeaders) return fromHeaders;
  if (!body.length)
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header: x-amz-acl', {
      MissingHeaderName: 'x-amz-acl',
    });
  return aclFromXml(body, owner);
}

/** What GetBucketAcl / GetObjectAcl show: with ACLs disabled, the bucket owner's full control. */
function shownAcl(b: BucketRow, acl: Acl): Acl {
  return b.ownership === 'BucketOwnerEnforced' ? effectiveAcl(b, acl) : acl;
}

export function getBucketAcl(ctx: Ctx, _e: B, { bucket: b }: Grants['bucket']): void {
  sendDocument(ctx.res, 'AccessControlPolicy', aclToXml(shownAcl(b, b.acl)));
}

export async function putBucketAcl(ctx: Ctx, e: B, { bucket: b }: Grants['bucket']): Promise<void> {
  const acl = await aclFromRequest(ctx, b, bucketOwnerOf(b));
  await ctx.svc.metadata.submit({ type: 'bucket.acl', name: e.bucket, acl, event: eventStamp(ctx) });
  sendEmpty(ctx.res, 200);
}

export function getObjectAcl(ctx: Ctx, _e: O, { bucket: b, object: o }: Grants['object']): void {
  sendDocument(ctx.res, 'AccessControlPolicy', aclToXml(shownAcl(b, o.acl)), versionHeader(b, o));
}

export async function putObjectAcl(ctx: Ctx, e: O, { bucket: b, object: o }: Grants['object']): Promise<void> {
  const acl = await aclFromRequest(ctx, b, o.acl.owner);
  // With ACLs disabled an accepted request (bucket-owner-full-control) changes nothing.
  if (
    b.ownership !== 'BucketOwnerEnforced' &&
    !(await ctx.svc.metadata.submit({
      type: 'object.acl',
      bucket: e.bucket,
      key: e.key,
      acl,
      // The version dispatch loaded (?versionId may name a noncurrent one); absent: the current.
      ...(e.versionId !== null ? { versionId: o.versionId ?? 'null' } : {}),
      event: eventStamp(ctx),
    }))
  )
    throw new S3Error('NoSuchKey', undefined, { Key: e.key });
  sendEmpty(ctx.res, 200, versionHeader(b, o));
}
