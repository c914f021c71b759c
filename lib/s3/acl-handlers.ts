// Get/PutBucketAcl and Get/PutObjectAcl. A PUT takes exactly one of: a canned x-amz-acl,
// x-amz-grant-* headers, or an AccessControlPolicy body.
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B, ObjectEndpoint as O } from './endpoint.ts';
import type { Grants } from './access.ts';
import { aclFromHeaders, aclFromXml, aclToXml, type Owner } from './acl.ts';
import { readRequestBody } from './body.ts';
import { sendDocument, sendEmpty } from './respond.ts';
import type { Acl } from '../metadata/types.ts';

async function aclFromRequest(ctx: Ctx, owner: Owner, bucketOwner: Owner): Promise<Acl> {
  const fromHeaders = aclFromHeaders(ctx.header, owner, bucketOwner);
  const body = await readRequestBody(ctx, 64 * 1024);
  if (fromHeaders && body.length) {
    throw new S3Error('UnexpectedContent', 'This request does not support content when an ACL is given in headers.');
  }
  if (fromHeaders) return fromHeaders;
  if (!body.length) throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header: x-amz-acl', { MissingHeaderName: 'x-amz-acl' });
  return aclFromXml(body, owner);
}

export function getBucketAcl(ctx: Ctx, _e: B, { bucket: b }: Grants['bucket']): void {
  sendDocument(ctx.res, 'AccessControlPolicy', aclToXml(b.acl));
}

export async function putBucketAcl(ctx: Ctx, e: B, { bucket: b }: Grants['bucket']): Promise<void> {
  const owner = { id: b.ownerId, display_name: b.ownerDisplay };
  const acl = await aclFromRequest(ctx, owner, owner);
  ctx.svc.metadata.setBucketAcl(e.bucket, acl);
  sendEmpty(ctx.res, 200);
}

export function getObjectAcl(ctx: Ctx, _e: O, { object: o }: Grants['object']): void {
  sendDocument(ctx.res, 'AccessControlPolicy', aclToXml(o.acl));
}

export async function putObjectAcl(ctx: Ctx, e: O, { bucket: b, object: o }: Grants['object']): Promise<void> {
  const acl = await aclFromRequest(ctx, o.acl.owner, { id: b.ownerId, display_name: b.ownerDisplay });
  if (!ctx.svc.metadata.setObjectAcl(e.bucket, e.key, acl)) throw new S3Error('NoSuchKey', undefined, { Key: e.key });
  sendEmpty(ctx.res, 200);
}
