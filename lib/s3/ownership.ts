// What Object Ownership and the PublicAccessBlock change about ACLs.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html:
//   BucketOwnerEnforced — ACLs are disabled: the bucket owner owns every object and has full
//     control; ACLs grant nothing; a request that sets an ACL other than
//     bucket-owner-full-control (or one that gives only the bucket owner full control) fails
//     with AccessControlListNotSupported. Reading ACLs still works.
//   BucketOwnerPreferred — an object written with the bucket-owner-full-control canned ACL
//     is owned by the bucket owner; otherwise as ObjectWriter.
//   ObjectWriter — the writer owns the object (the behaviour of every bucket here before
//     this setting existed).
// New buckets default to ObjectWriter, not AWS's 2023 default BucketOwnerEnforced: this
// server's users rely on public-read and grant-based access through ACLs (the ACL suite
// in test/acl/ is built on it).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html:
//   BlockPublicAcls — a request that sets a public ACL (AllUsers or AuthenticatedUsers) fails
//     with AccessDenied; IgnorePublicAcls — public grants are ignored when checking access;
//   BlockPublicPolicy / RestrictPublicBuckets concern bucket policies, which this server
//     does not have: they are stored and returned, and change nothing.
import { S3Error } from './errors.ts';
import { ALL_USERS, AUTHENTICATED_USERS, aclFromHeaders, cannedAcl, type Owner } from './acl.ts';
import type { Acl, BucketRow } from '../metadata/types.ts';

export function bucketOwnerOf(b: BucketRow): Owner {
  return { id: b.ownerId, display_name: b.ownerDisplay };
}

const isPublicGrant = (g: Acl['grants'][number]) =>
  g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS);

/** The ACL access checks use: none but the bucket owner's with ACLs disabled, minus public grants when ignored. */
export function effectiveAcl(b: BucketRow, acl: Acl): Acl {
  if (b.ownership === 'BucketOwnerEnforced') return cannedAcl('private', bucketOwnerOf(b));
  if (b.publicAccessBlock?.ignorePublicAcls)
    return { owner: acl.owner, grants: acl.grants.filter((g) => !isPublicGrant(g)) };
  return acl;
}

/** Whether an ACL only gives the bucket owner full control (all ACLs-disabled buckets accept). */
function ownerOnly(acl: Acl, bucketOwnerId: string): boolean {
  return acl.grants.every(
    (g) => g.permission === 'FULL_CONTROL' && g.grantee.type === 'CanonicalUser' && g.grantee.id === bucketOwnerId,
  );
}

/** Refuses an ACL the bucket's settings do not allow to be set. */
export function checkAclWrite(b: BucketRow, acl: Acl, cannedName: string | undefined): void {
  if (
    b.ownership === 'BucketOwnerEnforced' &&
    cannedName !== 'bucket-owner-full-control' &&
    !ownerOnly(acl, b.ownerId)
  ) {
    throw new S3Error('AccessControlListNotSupported');
  }
  if (b.publicAccessBlock?.blockPublicAcls && acl.grants.some(isPublicGrant)) throw new S3Error('AccessDenied');
}

/**
 * Owner and ACL of an object a writer creates (PutObject, CopyObject, CreateMultipartUpload,
 * PostObject), from its ACL headers and the bucket's ownership setting.
 */
export function newObjectAcl(
  b: BucketRow,
  writer: Owner,
  header: (n: string) => string | undefined,
): { owner: Owner; acl: Acl } {
  const bucketOwner = bucketOwnerOf(b);
  const explicit = aclFromHeaders(header, writer, bucketOwner);
  const canned = header('x-amz-acl');
  if (explicit) checkAclWrite(b, explicit, canned);
  const byBucketOwner =
    b.ownership === 'BucketOwnerEnforced' ||
    (b.ownership === 'BucketOwnerPreferred' && canned === 'bucket-owner-full-control');
  if (byBucketOwner) return { owner: bucketOwner, acl: cannedAcl('private', bucketOwner) };
  return { owner: writer, acl: explicit ?? cannedAcl('private', writer) };
}
