// Loading a bucket or object and checking the caller may act on it, in one place. The rules
// themselves, operation by operation, are in lib/auth/authorize.ts.
import { aclAllows, requireAcl, requireBucketOwner } from '../auth/authorize.ts';
import type { Principal } from '../auth/types.ts';
import type { BucketRow, ObjectRow, Permission } from '../metadata/types.ts';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { Owner } from './acl.ts';
import { effectiveAcl } from './ownership.ts';

export function ownerOf(p: Principal): Owner {
  return { id: p.ownerId, display_name: p.displayName };
}

export function noSuchBucket(name: string): S3Error {
  return new S3Error('NoSuchBucket', undefined, { BucketName: name });
}

/**
 * The bucket row, or NoSuchBucket; then AccessDenied unless the bucket ACL grants `perm`
 * ('owner': only the bucket owner). 'exists' is for object operations, which the object's
 * own ACL governs.
 */
export function loadBucket(ctx: Ctx, name: string, perm: Permission | 'owner' | 'exists'): BucketRow {
  const bucket = ctx.svc.metadata.getBucket(name);
  if (!bucket) throw noSuchBucket(name);
  if (perm === 'owner') requireBucketOwner(bucket, ctx.principal);
  else if (perm !== 'exists') requireAcl(effectiveAcl(bucket, bucket.acl), ctx.principal, perm);
  return bucket;
}

/**
 * The object row if its ACL grants `perm`. A missing key is NoSuchKey only for callers who
 * may list the bucket; anyone else gets AccessDenied, so keys cannot be probed
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions").
 */
export function loadObjectFor(ctx: Ctx, bucket: BucketRow, key: string, perm: Permission, withData = true): ObjectRow {
  const o = ctx.svc.metadata.getObject(bucket.name, key, withData);
  if (!o) {
    if (!aclAllows(effectiveAcl(bucket, bucket.acl), ctx.principal, 'READ')) throw new S3Error('AccessDenied');
    throw new S3Error('NoSuchKey', undefined, { Key: key });
  }
  requireAcl(effectiveAcl(bucket, o.acl), ctx.principal, perm);
  return o;
}
