// One declaration per S3 operation: how the router picks it, what the caller must be allowed,
// the handler, and the event notification it emits. The router (lib/s3/router.ts), the
// permission check in dispatch (lib/s3/dispatch.ts), the metrics' operation list and the
// `x-s3-operations` of /openapi.json are all derived from OPERATION_TABLE. A new operation is
// one line in `OperationResources` (lib/s3/endpoint.ts) and one entry here; the compiler
// refuses a missing or incomplete entry, or a handler that expects rows its access does not load.
import type { AwsEventName } from '../events/names.ts';
import type { Ctx } from './context.ts';
import type { EndpointOf, OperationName, OperationResources } from './endpoint.ts';
import type { AccessDecl, GrantOf } from './access.ts';
import * as bucket from './bucket.ts';
import * as acl from './acl-handlers.ts';
import { putObject } from './put.ts';
import { getObject } from './get.ts';
import { deleteObject, deleteObjects } from './delete.ts';
import { copyObject } from './copy.ts';
import { listObjects } from './list.ts';
import { listObjectVersions } from './list-versions.ts';
import * as mpu from './multipart.ts';
import { completeMultipartUpload } from './multipart-complete.ts';
import * as cors from './cors.ts';
import * as versioning from './versioning.ts';
import * as tagging from './tagging.ts';
import * as lock from './object-lock.ts';
import { getObjectAttributes } from './attributes.ts';
import * as lifecycle from './lifecycle-config.ts';
import * as notification from './notification.ts';
import * as controls from './bucket-controls.ts';
import * as policy from './bucket-policy.ts';
import { postObject } from './post-object.ts';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS';

/**
 * How the router picks an operation among those with the same method and resource: a query
 * sub-resource (?acl) wins first; then, after unsupported sub-resources are refused, the most
 * specific match: ?uploadId (upload; with ?partNumber: part), a selecting header, a query value.
 * An operation with no selector is the default.
 */
export interface Route<R> {
  method: Method;
  /** service `/`, bucket `/b`, object `/b/k`; upload `/b/k?uploadId=`; part `/b/k?uploadId=&partNumber=`. */
  resource: R;
  /** A sub-resource whose presence selects the operation, e.g. 'acl'. */
  subresource?: string;
  /** Query parameters whose value selects the operation, e.g. { 'list-type': '2' }. */
  query?: Record<string, string>;
  /** A header whose presence selects the operation, with an example value for /openapi.json. */
  header?: { name: string; example: string };
  /** A bucket operation that also answers at `/b/k` (the key is then ignored), e.g. a CORS preflight. */
  objectPathsToo?: true;
}

/** The AWS event names (lib/events/names.ts): those an operation here can cause. */
export type S3EventName = AwsEventName;

type DeclWith<K extends OperationName, A extends AccessDecl> = A & {
  route: Route<OperationResources[K]>;
  /** Called after the access check passed, with the rows it loaded. */
  handler: (ctx: Ctx, e: EndpointOf<K>, grant: GrantOf<A>) => void | Promise<void>;
  /** The event a successful request emits (for DeleteObjects: one per deleted key), or null. */
  event: S3EventName | null;
  /** One line for /openapi.json. */
  summary: string;
  /**
   * The handler reads the whole request body before it changes anything, so a SigV4 request
   * without x-amz-content-sha256 may have its signature checked against the body's SHA-256
   * at the end of the body (lib/auth/sigv4/header.ts).
   */
  bodyFirst?: true;
};
/** The declaration of operation K: one member per kind of access. */
export type OperationDecl<K extends OperationName> = AccessDecl extends infer A
  ? A extends AccessDecl
    ? DeclWith<K, A>
    : never
  : never;

export const OPERATION_TABLE = {
  ListBuckets: {
    route: { method: 'GET', resource: 'service' },
    access: 'signed',
    handler: (ctx, _e, g) => bucket.listBuckets(ctx, g),
    event: null,
    summary: 'List buckets.',
  },
  CreateBucket: {
    route: { method: 'PUT', resource: 'bucket' },
    access: 'signed',
    handler: bucket.createBucket,
    event: null,
    summary: 'Create a bucket.',
    bodyFirst: true,
  },
  PutBucketAcl: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'acl' },
    access: 'bucket',
    perm: 'WRITE_ACP',
    handler: acl.putBucketAcl,
    event: null,
    summary: 'Replace the bucket ACL.',
    bodyFirst: true,
  },
  DeleteBucket: {
    route: { method: 'DELETE', resource: 'bucket' },
    access: 'bucket',
    perm: 'owner',
    handler: bucket.deleteBucket,
    event: null,
    summary: 'Delete an empty bucket.',
  },
  HeadBucket: {
    route: { method: 'HEAD', resource: 'bucket' },
    access: 'bucket',
    perm: 'READ',
    handler: bucket.headBucket,
    event: null,
    summary: 'Bucket exists.',
  },
  ListObjects: {
    route: { method: 'GET', resource: 'bucket' },
    access: 'bucket',
    perm: 'READ',
    handler: (ctx, e, g) => listObjects(ctx, e, g, 1),
    event: null,
    summary: 'List objects (version 1).',
  },
  ListObjectsV2: {
    route: { method: 'GET', resource: 'bucket', query: { 'list-type': '2' } },
    access: 'bucket',
    perm: 'READ',
    handler: (ctx, e, g) => listObjects(ctx, e, g, 2),
    event: null,
    summary: 'List objects (version 2).',
  },
  GetBucketLocation: {
    route: { method: 'GET', resource: 'bucket', subresource: 'location' },
    access: 'bucket',
    perm: 'owner',
    handler: bucket.getBucketLocation,
    event: null,
    summary: 'The bucket region.',
  },
  GetBucketAcl: {
    route: { method: 'GET', resource: 'bucket', subresource: 'acl' },
    access: 'bucket',
    perm: 'READ_ACP',
    handler: acl.getBucketAcl,
    event: null,
    summary: 'The bucket ACL.',
  },
  GetBucketVersioning: {
    route: { method: 'GET', resource: 'bucket', subresource: 'versioning' },
    access: 'bucket',
    perm: 'owner',
    handler: versioning.getBucketVersioning,
    event: null,
    summary: 'Versioning state: Enabled, Suspended, or empty when never enabled.',
  },
  PutBucketVersioning: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'versioning' },
    access: 'bucket',
    perm: 'owner',
    handler: versioning.putBucketVersioning,
    event: null,
    summary: 'Enable or suspend versioning (MFA delete: NotImplemented).',
    bodyFirst: true,
  },
  GetBucketTagging: {
    route: { method: 'GET', resource: 'bucket', subresource: 'tagging' },
    access: 'bucket',
    perm: 'owner',
    handler: tagging.getBucketTagging,
    event: null,
    summary: 'The bucket tags (NoSuchTagSet when none).',
  },
  PutBucketTagging: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'tagging' },
    access: 'bucket',
    perm: 'owner',
    handler: tagging.putBucketTagging,
    event: null,
    summary: 'Replace the bucket tags (at most 50).',
    bodyFirst: true,
  },
  DeleteBucketTagging: {
    route: { method: 'DELETE', resource: 'bucket', subresource: 'tagging' },
    access: 'bucket',
    perm: 'owner',
    handler: tagging.deleteBucketTagging,
    event: null,
    summary: 'Remove the bucket tags.',
  },
  GetObjectTagging: {
    route: { method: 'GET', resource: 'object', subresource: 'tagging' },
    access: 'object',
    perm: 'READ',
    inline: false,
    versionId: true,
    handler: tagging.getObjectTagging,
    event: null,
    summary: "A version's tags.",
  },
  PutObjectTagging: {
    route: { method: 'PUT', resource: 'object', subresource: 'tagging' },
    access: 'object',
    perm: 'WRITE_ACP',
    inline: false,
    versionId: true,
    handler: tagging.putObjectTagging,
    event: 's3:ObjectTagging:Put',
    summary: "Replace a version's tags (at most 10).",
    bodyFirst: true,
  },
  DeleteObjectTagging: {
    route: { method: 'DELETE', resource: 'object', subresource: 'tagging' },
    access: 'object',
    perm: 'WRITE_ACP',
    inline: false,
    versionId: true,
    handler: tagging.deleteObjectTagging,
    event: 's3:ObjectTagging:Delete',
    summary: "Remove a version's tags.",
  },
  GetObjectLockConfiguration: {
    route: { method: 'GET', resource: 'bucket', subresource: 'object-lock' },
    access: 'bucket',
    perm: 'owner',
    handler: lock.getObjectLockConfiguration,
    event: null,
    summary: 'The Object Lock configuration and default retention.',
  },
  PutObjectLockConfiguration: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'object-lock' },
    access: 'bucket',
    perm: 'owner',
    handler: lock.putObjectLockConfiguration,
    event: null,
    summary: 'Turn Object Lock on (versioning must be Enabled) and set the default retention.',
    bodyFirst: true,
  },
  GetObjectRetention: {
    route: { method: 'GET', resource: 'object', subresource: 'retention' },
    access: 'object',
    perm: 'READ',
    inline: false,
    versionId: true,
    handler: lock.getObjectRetention,
    event: null,
    summary: "A version's retention mode and date.",
  },
  PutObjectRetention: {
    route: { method: 'PUT', resource: 'object', subresource: 'retention' },
    access: 'object',
    perm: 'WRITE_ACP',
    inline: false,
    versionId: true,
    handler: lock.putObjectRetention,
    event: null,
    summary: "Set a version's retention (COMPLIANCE only extends; GOVERNANCE yields to the owner's bypass).",
    bodyFirst: true,
  },
  GetObjectLegalHold: {
    route: { method: 'GET', resource: 'object', subresource: 'legal-hold' },
    access: 'object',
    perm: 'READ',
    inline: false,
    versionId: true,
    handler: lock.getObjectLegalHold,
    event: null,
    summary: "A version's legal hold status.",
  },
  PutObjectLegalHold: {
    route: { method: 'PUT', resource: 'object', subresource: 'legal-hold' },
    access: 'object',
    perm: 'WRITE_ACP',
    inline: false,
    versionId: true,
    handler: lock.putObjectLegalHold,
    event: null,
    summary: "Set a version's legal hold ON or OFF.",
    bodyFirst: true,
  },
  GetBucketLifecycleConfiguration: {
    route: { method: 'GET', resource: 'bucket', subresource: 'lifecycle' },
    access: 'bucket',
    perm: 'owner',
    handler: lifecycle.getBucketLifecycleConfiguration,
    event: null,
    summary: 'The lifecycle rules (NoSuchLifecycleConfiguration when none).',
  },
  PutBucketLifecycleConfiguration: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'lifecycle' },
    access: 'bucket',
    perm: 'owner',
    handler: lifecycle.putBucketLifecycleConfiguration,
    event: null,
    summary: 'Replace the lifecycle rules: expiration, noncurrent expiration, abort incomplete uploads.',
    bodyFirst: true,
  },
  DeleteBucketLifecycle: {
    route: { method: 'DELETE', resource: 'bucket', subresource: 'lifecycle' },
    access: 'bucket',
    perm: 'owner',
    handler: lifecycle.deleteBucketLifecycle,
    event: null,
    summary: 'Remove the lifecycle rules.',
  },
  GetObjectAttributes: {
    route: { method: 'GET', resource: 'object', subresource: 'attributes' },
    access: 'object',
    perm: 'READ',
    inline: false,
    versionId: true,
    handler: getObjectAttributes,
    event: null,
    summary: 'ETag, checksum, parts, storage class and size, as x-amz-object-attributes asks.',
  },
  ListObjectVersions: {
    route: { method: 'GET', resource: 'bucket', subresource: 'versions' },
    access: 'bucket',
    perm: 'READ',
    handler: listObjectVersions,
    event: null,
    summary: 'Object versions and delete markers.',
  },
  ListMultipartUploads: {
    route: { method: 'GET', resource: 'bucket', subresource: 'uploads' },
    access: 'bucket',
    perm: 'READ',
    handler: mpu.listMultipartUploads,
    event: null,
    summary: 'Uploads in progress.',
  },
  DeleteObjects: {
    route: { method: 'POST', resource: 'bucket', subresource: 'delete' },
    access: 'bucket',
    // Bucket WRITE, or per key by the bucket policy: checked in the handler (lib/s3/delete.ts).
    perm: 'exists',
    handler: deleteObjects,
    event: 's3:ObjectRemoved:Delete',
    summary: 'Delete up to 1000 keys.',
    bodyFirst: true,
  },
  PutObject: {
    route: { method: 'PUT', resource: 'object' },
    access: 'bucket',
    perm: 'WRITE',
    handler: putObject,
    event: 's3:ObjectCreated:Put',
    summary: 'Upload an object.',
    bodyFirst: true,
  },
  CopyObject: {
    // The source's object READ is checked by the handler: it is a second resource.
    route: {
      method: 'PUT',
      resource: 'object',
      header: { name: 'x-amz-copy-source', example: '/source-bucket/source-key' },
    },
    access: 'bucket',
    perm: 'WRITE',
    handler: copyObject,
    event: 's3:ObjectCreated:Copy',
    summary: 'Copy an object server-side.',
  },
  PutObjectAcl: {
    route: { method: 'PUT', resource: 'object', subresource: 'acl' },
    access: 'object',
    perm: 'WRITE_ACP',
    inline: false,
    versionId: true,
    handler: acl.putObjectAcl,
    event: 's3:ObjectAcl:Put',
    summary: 'Replace the object ACL.',
    bodyFirst: true,
  },
  UploadPart: {
    route: { method: 'PUT', resource: 'part' },
    access: 'upload',
    perm: 'WRITE',
    handler: mpu.uploadPart,
    event: null,
    summary: 'Upload one part.',
    bodyFirst: true,
  },
  UploadPartCopy: {
    route: {
      method: 'PUT',
      resource: 'part',
      header: { name: 'x-amz-copy-source', example: '/source-bucket/source-key' },
    },
    access: 'upload',
    perm: 'WRITE',
    handler: mpu.uploadPartCopy,
    event: null,
    summary: 'Copy (a range of) an object as one part.',
  },
  GetObject: {
    route: { method: 'GET', resource: 'object' },
    access: 'object',
    perm: 'READ',
    inline: true,
    versionId: true,
    handler: (ctx, e, g) => getObject(ctx, e, g, true),
    event: null,
    summary: 'Download an object.',
  },
  GetObjectAcl: {
    route: { method: 'GET', resource: 'object', subresource: 'acl' },
    access: 'object',
    perm: 'READ_ACP',
    inline: false,
    versionId: true,
    handler: acl.getObjectAcl,
    event: null,
    summary: 'The object ACL.',
  },
  ListParts: {
    route: { method: 'GET', resource: 'upload' },
    access: 'upload',
    perm: 'exists',
    handler: mpu.listParts,
    event: null,
    summary: 'Parts uploaded so far.',
  },
  HeadObject: {
    route: { method: 'HEAD', resource: 'object' },
    access: 'object',
    perm: 'READ',
    inline: false,
    versionId: true,
    handler: (ctx, e, g) => getObject(ctx, e, g, false),
    event: null,
    summary: 'Object metadata.',
  },
  DeleteObject: {
    route: { method: 'DELETE', resource: 'object' },
    access: 'bucket',
    perm: 'WRITE',
    versionId: true,
    handler: deleteObject,
    event: 's3:ObjectRemoved:Delete',
    summary: 'Delete an object (204 even if it did not exist).',
  },
  AbortMultipartUpload: {
    route: { method: 'DELETE', resource: 'upload' },
    access: 'upload',
    perm: 'exists',
    handler: mpu.abortMultipartUpload,
    event: null,
    summary: 'Abort an upload and discard its parts.',
  },
  CreateMultipartUpload: {
    route: { method: 'POST', resource: 'object', subresource: 'uploads' },
    access: 'bucket',
    perm: 'WRITE',
    handler: mpu.createMultipartUpload,
    event: null,
    summary: 'Start an upload.',
  },
  CompleteMultipartUpload: {
    route: { method: 'POST', resource: 'upload' },
    access: 'completion',
    perm: 'WRITE',
    handler: completeMultipartUpload,
    event: 's3:ObjectCreated:CompleteMultipartUpload',
    summary: 'Assemble the listed parts into the object.',
    bodyFirst: true,
  },
  GetBucketNotificationConfiguration: {
    route: { method: 'GET', resource: 'bucket', subresource: 'notification' },
    access: 'bucket',
    perm: 'owner',
    handler: notification.getBucketNotification,
    event: null,
    summary: 'The event notification rules (an empty document when none).',
  },
  PutBucketNotificationConfiguration: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'notification' },
    access: 'bucket',
    perm: 'owner',
    handler: notification.putBucketNotification,
    event: null,
    summary: 'Replace the event notification rules; destinations name configured event targets.',
    bodyFirst: true,
  },
  GetBucketCors: {
    route: { method: 'GET', resource: 'bucket', subresource: 'cors' },
    access: 'bucket',
    perm: 'owner',
    handler: cors.getBucketCors,
    event: null,
    summary: 'The CORS rules (NoSuchCORSConfiguration when none).',
  },
  PutBucketCors: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'cors' },
    access: 'bucket',
    perm: 'owner',
    handler: cors.putBucketCors,
    event: null,
    summary: 'Replace the CORS rules (CORSConfiguration, at most 100 rules).',
    bodyFirst: true,
  },
  DeleteBucketCors: {
    route: { method: 'DELETE', resource: 'bucket', subresource: 'cors' },
    access: 'bucket',
    perm: 'owner',
    handler: cors.deleteBucketCors,
    event: null,
    summary: 'Remove the CORS rules.',
  },
  PreflightCors: {
    // Authorised by the bucket's CORS rules, never by a signature.
    route: { method: 'OPTIONS', resource: 'bucket', objectPathsToo: true },
    access: 'bucket',
    perm: 'exists',
    handler: cors.preflight,
    event: null,
    summary: 'CORS preflight, answered from the bucket CORS rules; never signed.',
  },
  GetBucketPolicy: {
    route: { method: 'GET', resource: 'bucket', subresource: 'policy' },
    access: 'bucket',
    perm: 'owner',
    handler: policy.getBucketPolicy,
    event: null,
    summary: 'The bucket policy (JSON).',
  },
  PutBucketPolicy: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'policy' },
    access: 'bucket',
    perm: 'owner',
    handler: policy.putBucketPolicy,
    event: null,
    summary: 'Set the bucket policy: Allow and Deny statements checked with the ACLs on every request.',
    bodyFirst: true,
  },
  DeleteBucketPolicy: {
    route: { method: 'DELETE', resource: 'bucket', subresource: 'policy' },
    access: 'bucket',
    perm: 'owner',
    handler: policy.deleteBucketPolicy,
    event: null,
    summary: 'Remove the bucket policy.',
  },
  GetBucketPolicyStatus: {
    route: { method: 'GET', resource: 'bucket', subresource: 'policyStatus' },
    access: 'bucket',
    perm: 'owner',
    handler: policy.getBucketPolicyStatus,
    event: null,
    summary: 'Whether the bucket policy makes the bucket public.',
  },
  GetPublicAccessBlock: {
    route: { method: 'GET', resource: 'bucket', subresource: 'publicAccessBlock' },
    access: 'bucket',
    perm: 'owner',
    handler: controls.getPublicAccessBlock,
    event: null,
    summary: 'The PublicAccessBlock flags.',
  },
  PutPublicAccessBlock: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'publicAccessBlock' },
    access: 'bucket',
    perm: 'owner',
    handler: controls.putPublicAccessBlock,
    event: null,
    summary: 'Set the PublicAccessBlock flags.',
    bodyFirst: true,
  },
  DeletePublicAccessBlock: {
    route: { method: 'DELETE', resource: 'bucket', subresource: 'publicAccessBlock' },
    access: 'bucket',
    perm: 'owner',
    handler: controls.deletePublicAccessBlock,
    event: null,
    summary: 'Remove the PublicAccessBlock flags.',
  },
  GetBucketOwnershipControls: {
    route: { method: 'GET', resource: 'bucket', subresource: 'ownershipControls' },
    access: 'bucket',
    perm: 'owner',
    handler: controls.getBucketOwnershipControls,
    event: null,
    summary: 'The ObjectOwnership setting.',
  },
  PutBucketOwnershipControls: {
    route: { method: 'PUT', resource: 'bucket', subresource: 'ownershipControls' },
    access: 'bucket',
    perm: 'owner',
    handler: controls.putBucketOwnershipControls,
    event: null,
    summary: 'Set ObjectOwnership (BucketOwnerEnforced disables ACLs).',
    bodyFirst: true,
  },
  DeleteBucketOwnershipControls: {
    route: { method: 'DELETE', resource: 'bucket', subresource: 'ownershipControls' },
    access: 'bucket',
    perm: 'owner',
    handler: controls.deleteBucketOwnershipControls,
    event: null,
    summary: 'Remove the ownership setting (ObjectWriter applies).',
  },
  PostObject: {
    // Authorised by its signed policy (or anonymous, by bucket WRITE for AllUsers): the handler checks.
    route: { method: 'POST', resource: 'bucket' },
    access: 'bucket',
    perm: 'exists',
    handler: postObject,
    event: 's3:ObjectCreated:Post',
    summary: 'Browser-based upload: a multipart/form-data body with key, policy and SigV4 fields, the file last.',
  },
} satisfies { [K in OperationName]: OperationDecl<K> };

/** Any operation's declaration, for code that works on all of them. */
export type AnyOperationDecl = OperationDecl<OperationName>;

export const OPERATION_NAMES = Object.keys(OPERATION_TABLE) as OperationName[];

export function declarationOf(op: OperationName): AnyOperationDecl {
  return OPERATION_TABLE[op] as AnyOperationDecl;
}
