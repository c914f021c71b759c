// Loading a bucket or object and checking the caller may act on it, in one place.
import { requireAcl } from '../auth/authorize.ts';
import type { Principal } from '../auth/types.ts';
import type { BucketRow, Permission } from '../metadata/types.ts';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { Owner } from './acl.ts';

export function ownerOf(p: Principal): Owner {
  return { id: p.ownerId, display_name: p.displayName };
}

export function noSuchBucket(name: string): S3Error {
  return new S3Error('NoSuchBucket', undefined, { BucketName: name });
}

/**
 * The bucket row, or NoSuchBucket; then AccessDenied unless the ACL grants `perm`.
 * 'exists' is for object operations, which the object's own ACL governs.
 */
export function loadBucket(ctx: Ctx, name: string, perm: Permission | 'owner' | 'exists'): BucketRow {
  const bucket = ctx.svc.metadata.getBucket(name);
  if (!bucket) throw noSuchBucket(name);
  if (perm === 'exists') return bucket;
  if (perm === 'owner') {
    if (!ctx.principal || ctx.principal.ownerId !== bucket.ownerId) throw new S3Error('AccessDenied');
  } else {
    requireAcl(bucket.acl, ctx.principal, perm);
  }
  return bucket;
}
