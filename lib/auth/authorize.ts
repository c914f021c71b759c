// Who may do what. Every S3 operation passes its checks from the table below before it reads
// a body or changes anything; a "no" is always 403 AccessDenied. Each operation declares its
// check in lib/s3/operations.ts (`access`, `perm`), and dispatch runs it once
// (lib/s3/access.ts `grantFor`), as Garage does with its `authorization_type`.
//
// Callers. A signed request acts as the owner its access key belongs to. An unsigned request
// is anonymous: it gets exactly what ACLs grant the AllUsers group, nothing else.
//
// ACLs (https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html, "Permissions
// you can grant" and "Mapping of ACL permissions and access policy permissions"). A grant
// names a canonical user id, AllUsers (everyone, anonymous included) or AuthenticatedUsers
// (any signed caller); FULL_CONTROL implies the other four. Bucket and object ACLs are
// independent: an object never inherits its bucket's ACL.
//
// Owners. The owner of a bucket or object may always do everything the table gives for that
// resource, whatever its ACL says: ACLs only add grantees, so an owner cannot lock itself out
// (on AWS the owning account is allowed by its own identity; the ACL never denies —
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html).
// Owning a bucket gives no rights on objects someone else wrote into it, except deleting them
// (bucket WRITE); the object's owner decides its ACL (bucket-owner-read and
// bucket-owner-full-control exist for that).
//
// The table (operation → check):
//   ListBuckets, CreateBucket ......................... any signed caller
//   DeleteBucket, GetBucketLocation, GetBucketVersioning  bucket owner only
//   HeadBucket, ListObjects(V2), ListObjectVersions,
//     ListMultipartUploads ............................ bucket READ
//   PutObject, CopyObject (destination), DeleteObject,
//     DeleteObjects ................................... bucket WRITE (overwrites too)
//   GetBucketAcl / PutBucketAcl ....................... bucket READ_ACP / WRITE_ACP
//   GetObject, HeadObject, CopyObject (source) ......... object READ
//   GetObjectAcl / PutObjectAcl ....................... object READ_ACP / WRITE_ACP
//   CreateMultipartUpload ............................. bucket WRITE
//   UploadPart, UploadPartCopy, CompleteMultipartUpload  bucket WRITE, then requireUploadAccess
//                                                       (before any body is read);
//                                                       UploadPartCopy also object READ on its
//                                                       source (loadObjectFor)
//   AbortMultipartUpload, ListParts ................... requireUploadAccess: the upload's
//                                                       initiator or the bucket owner
// An object that does not exist answers NoSuchKey only to callers who may list the bucket,
// AccessDenied to everyone else (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
// "Permissions"); lib/s3/access.ts `loadObjectFor` does that.
import { S3Error } from '../s3/errors.ts';
import type { Principal } from './types.ts';
import type { Acl, BucketRow, Permission } from '../metadata/types.ts';

/** The canonical id AWS gives anonymous writers (the same as ANONYMOUS_OWNER in lib/s3/put.ts). */
export const ANONYMOUS_ID = '65a011a29cdf8ec533ec3d1ccaae921c';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

/** True when the caller owns the resource, or the ACL grants it `perm` (or FULL_CONTROL). */
export function aclAllows(acl: Acl, principal: Principal | null, perm: Permission): boolean {
  if (principal && acl.owner.id === principal.ownerId) return true;
  return acl.grants.some((g) => {
    if (g.permission !== perm && g.permission !== 'FULL_CONTROL') return false;
    const who = g.grantee;
    if (who.type === 'Group') return who.uri === ALL_USERS || (principal !== null && who.uri === AUTHENTICATED_USERS);
    return principal !== null && who.id === principal.ownerId;
  });
}

export function requireAcl(acl: Acl, principal: Principal | null, perm: Permission): void {
  if (!aclAllows(acl, principal, perm)) throw new S3Error('AccessDenied');
}

/** Any signed caller; anonymous requests are refused. */
export function requirePrincipal(principal: Principal | null): Principal {
  if (!principal) throw new S3Error('AccessDenied');
  return principal;
}

export function isBucketOwner(bucket: BucketRow, principal: Principal | null): boolean {
  return principal !== null && principal.ownerId === bucket.ownerId;
}

export function requireBucketOwner(bucket: BucketRow, principal: Principal | null): void {
  if (!isBucketOwner(bucket, principal)) throw new S3Error('AccessDenied');
}

/**
 * For operations on an existing multipart upload: the caller started the upload or owns the
 * bucket; ACLs grant nothing here (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html,
 * "Multipart upload API and permissions"). Anonymous callers count as ANONYMOUS_ID, the
 * initiator recorded for uploads they start in a public-read-write bucket.
 */
export function requireUploadAccess(bucket: BucketRow, initiatorOwnerId: string, principal: Principal | null): void {
  const caller = principal ? principal.ownerId : ANONYMOUS_ID;
  if (!isBucketOwner(bucket, principal) && caller !== initiatorOwnerId) throw new S3Error('AccessDenied');
}
