// Loading a bucket, object or upload and checking the caller may act on it, in one place.
// Each operation declares what it needs (lib/s3/operations.ts, `AccessDecl`); dispatch calls
// `grantFor` once, before the handler reads a body or changes anything, and hands the handler
// the rows it was granted. The rules themselves are in lib/auth/authorize.ts.
import {
  isBucketOwner,
  requireAcl,
  requireBucketOwner,
  requirePrincipal,
  requireUploadAccess,
} from '../auth/authorize.ts';
import type { Principal } from '../auth/types.ts';
import type { BucketRow, ObjectRow, Permission } from '../metadata/types.ts';
import type { UploadRow } from '../metadata/uploads.ts';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { Owner } from './acl.ts';
import { effectiveAcl } from './ownership.ts';
import type { Endpoint, ObjectEndpoint, UploadEndpoint } from './endpoint.ts';
import { actionsOf, listAllowed, POLICY_MANAGEMENT, policyVerdict, type Verdict } from './policy-access.ts';

/**
 * What an operation needs before its handler runs:
 * - signed: any signed caller (ListBuckets, CreateBucket);
 * - bucket: the bucket ACL grants `perm`, 'owner' for the bucket owner alone, or 'exists' for
 *   an operation whose caller is authorised by what it sends, not by who signed it (a CORS
 *   preflight by the bucket's CORS rules, POST Object by its signed policy);
 * - object: the bucket exists and the object's own ACL grants `perm` (`inline`: load an
 *   inline object's bytes too; only GetObject needs them);
 * - upload: the bucket grants `perm` ('exists': no bucket permission) and the caller started
 *   the upload or owns the bucket;
 * - completion: as upload with bucket WRITE, but a retried Complete of an upload that already
 *   completed is granted too (it answers as the first did).
 * `versionId`: the operation takes ?versionId (on a bucket never versioned anything but "null"
 * is NoSuchVersion), checked after the bucket and before the object.
 */
export type AccessDecl = (
  | { access: 'signed' }
  | { access: 'bucket'; perm: Permission | 'owner' | 'exists' }
  | { access: 'object'; perm: Permission; inline: boolean }
  | { access: 'upload'; perm: 'WRITE' | 'exists' }
  | { access: 'completion'; perm: 'WRITE' }
) & { versionId?: true };

export interface CompletedUpload {
  bucket: string;
  key: string;
  etag: string;
}

/** What each kind of access hands the handler. */
export interface Grants {
  signed: { principal: Principal };
  bucket: { bucket: BucketRow };
  object: { bucket: BucketRow; object: ObjectRow };
  upload: { bucket: BucketRow; upload: UploadRow };
  completion:
    | { bucket: BucketRow; upload: UploadRow; completed?: undefined }
    | { bucket: BucketRow; upload: null; completed: CompletedUpload };
}
export type GrantOf<A extends AccessDecl> = Grants[A['access']];

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
export function loadBucket(
  ctx: Ctx,
  name: string,
  perm: Permission | 'owner' | 'exists',
  actions: readonly string[] | null = null,
  key?: string,
  extra?: ReadonlyMap<string, string>,
): BucketRow {
  return checkedBucket(ctx, name, perm, actions, key, extra).bucket;
}

/** loadBucket, with what the bucket policy said of `actions` on the bucket or on `key`. A Deny
 *  refuses; an Allow stands in for the ACL check (lib/s3/policy-access.ts). */
function checkedBucket(
  ctx: Ctx,
  name: string,
  perm: Permission | 'owner' | 'exists',
  actions: readonly string[] | null,
  key?: string,
  extra?: ReadonlyMap<string, string>,
): { bucket: BucketRow; verdict: Verdict } {
  const bucket = ctx.svc.metadata.getBucket(name);
  if (!bucket) throw noSuchBucket(name);
  const verdict = policyVerdict(ctx, bucket, actions, key, extra);
  if (verdict === 'deny') throw new S3Error('AccessDenied');
  if (actions?.some((a) => POLICY_MANAGEMENT.has(a)) && !isBucketOwner(bucket, ctx.principal)) {
    // Only the owner's account manages the policy; one that allows others answers 405.
    if (verdict === 'allow')
      throw new S3Error('MethodNotAllowed', undefined, { Method: ctx.req.method ?? 'GET', ResourceType: 'BUCKET' });
    throw new S3Error('AccessDenied');
  }
  if (verdict === 'allow') return { bucket, verdict };
  if (perm === 'owner') requireBucketOwner(bucket, ctx.principal);
  else if (perm !== 'exists') requireAcl(effectiveAcl(bucket, bucket.acl), ctx.principal, perm);
  return { bucket, verdict };
}

/** May the caller learn whether a key exists: list the bucket, by its policy or its ACL. */
function mayList(ctx: Ctx, bucket: BucketRow): boolean {
  return listAllowed(policyVerdict(ctx, bucket, 's3:ListBucket'), bucket, ctx.principal);
}

/**
 * The object row (the current version, or `versionId`) if its ACL grants `perm`. A missing key
 * is NoSuchKey only for callers who may list the bucket; anyone else gets AccessDenied, so
 * keys cannot be probed (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
 * "Permissions"). A key whose latest version is a delete marker answers 404 with
 * x-amz-delete-marker; a delete marker asked for by id answers 405 MethodNotAllowed
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html).
 * Handlers use it for a second object (a copy source); their own object comes from dispatch.
 */
export function loadObjectFor(
  ctx: Ctx,
  bucket: BucketRow,
  key: string,
  perm: Permission,
  withData = true,
  versionId: string | null = null,
  verdict: Verdict = policyVerdict(ctx, bucket, versionId === null ? 's3:GetObject' : 's3:GetObjectVersion', key),
): ObjectRow {
  const { metadata } = ctx.svc;
  if (verdict === 'deny') throw new S3Error('AccessDenied');
  if (versionId === '') throw invalidVersionId(key, versionId);
  const o =
    versionId === null
      ? metadata.getObject(bucket.name, key, withData)
      : metadata.getVersion(bucket.name, key, versionId, withData);
  if (!o) {
    if (!mayList(ctx, bucket)) throw new S3Error('AccessDenied');
    if (versionId !== null)
      throw new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
    const marker = bucket.versioning ? metadata.newestNoncurrent(bucket.name, key) : undefined;
    throw new S3Error(
      'NoSuchKey',
      undefined,
      { Key: key },
      marker?.deleteMarker ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId } : {},
    );
  }
  if (o.deleteMarker) {
    if (!mayList(ctx, bucket)) throw new S3Error('AccessDenied');
    throw new S3Error(
      'MethodNotAllowed',
      undefined,
      { Method: ctx.req.method ?? 'GET', ResourceType: 'DeleteMarker' },
      {
        'x-amz-delete-marker': 'true',
        'x-amz-version-id': o.versionId ?? 'null',
        'Last-Modified': new Date(o.lastModified).toUTCString(),
        Allow: 'DELETE',
      },
    );
  }
  // A bucket policy grants nothing on an object another owner wrote and owns
  // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html).
  const acl = effectiveAcl(bucket, o.acl);
  if (verdict !== 'allow' || acl.owner.id !== bucket.ownerId) requireAcl(acl, ctx.principal, perm);
  return o;
}

function invalidVersionId(key: string, versionId: string): S3Error {
  return new S3Error(
    'InvalidArgument',
    versionId === '' ? 'Version id cannot be the empty string' : 'Invalid version id specified',
    {
      ArgumentName: 'versionId',
      ArgumentValue: versionId,
      Key: key,
    },
  );
}

/**
 * An upload of this bucket and key (or NoSuchUpload) that the caller may act on: its
 * initiator or the bucket owner (see lib/auth/authorize.ts).
 */
function loadUploadFor(ctx: Ctx, e: UploadEndpoint, bucket: BucketRow, verdict: Verdict): UploadRow {
  const u = ctx.svc.uploads.get(e.uploadId);
  if (!u || u.bucket !== e.bucket || u.key !== e.key)
    throw new S3Error('NoSuchUpload', undefined, { UploadId: e.uploadId });
  if (verdict !== 'allow') requireUploadAccess(bucket, u.ownerId, ctx.principal);
  return u;
}

/** On a bucket never versioned, a version id is only meaningful as "null". */
export function checkVersionId(bucket: BucketRow, versionId: string | null, key: string): void {
  if (versionId === '') throw invalidVersionId(key, versionId);
  if (versionId !== null && versionId !== 'null' && !bucket.versioning) {
    throw new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
  }
}

/** The one permission check of a request: what `decl` needs, loaded and checked, or the S3 error. */
export function grantFor(ctx: Ctx, decl: AccessDecl, e: Endpoint): Grants[AccessDecl['access']] {
  if (decl.access === 'signed') return { principal: requirePrincipal(ctx.principal) };
  const { bucket: name, key } = e as Endpoint & { bucket: string; key?: string };
  const bucketPerm = decl.access === 'object' ? 'exists' : decl.perm;
  const { bucket, verdict } = checkedBucket(ctx, name, bucketPerm, actionsOf(ctx, e), key);
  if (decl.versionId) checkVersionId(bucket, (e as ObjectEndpoint).versionId, (e as ObjectEndpoint).key);
  switch (decl.access) {
    case 'bucket':
      return { bucket };
    case 'object': {
      const o = e as ObjectEndpoint;
      return { bucket, object: loadObjectFor(ctx, bucket, o.key, decl.perm, decl.inline, o.versionId, verdict) };
    }
    case 'upload':
      return { bucket, upload: loadUploadFor(ctx, e as UploadEndpoint, bucket, verdict) };
    case 'completion': {
      const u = e as UploadEndpoint;
      const upload = ctx.svc.uploads.get(u.uploadId);
      if (!upload || upload.bucket !== u.bucket || upload.key !== u.key) {
        const done = ctx.svc.uploads.completed(u.uploadId);
        if (done && done.bucket === u.bucket && done.key === u.key) return { bucket, upload: null, completed: done };
      }
      return { bucket, upload: loadUploadFor(ctx, u, bucket, verdict) };
    }
  }
}
