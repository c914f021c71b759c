// The bucket policy in every permission check, as S3 combines it with ACLs
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html):
// a Deny that applies refuses the request whatever the ACLs say; an Allow grants what the ACLs
// do not; when no statement applies, the ACLs alone decide (lib/auth/authorize.ts). Each
// operation is checked as the IAM action AWS documents for it
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
import type { TLSSocket } from 'node:tls';
import { clientAddress } from '../client-address.ts';
import { evaluateBucketPolicy, isPublicPolicy, parseBucketPolicy, type BucketPolicy } from '../auth/bucket-policy.ts';
import type { IncomingMessage } from 'node:http';
import { aclAllows, isBucketOwner } from '../auth/authorize.ts';
import type { Principal } from '../auth/types.ts';
import { effectiveAcl } from './ownership.ts';
import type { BucketRow } from '../metadata/types.ts';
import type { Ctx } from './context.ts';
import type { Endpoint, OperationName } from './endpoint.ts';

export type Verdict = 'allow' | 'deny' | 'none';

/** Operation → its IAM action ([without, with] ?versionId), or null when no bucket policy
 *  applies (no bucket yet, or authorized by what the request carries). */
const ACTIONS: Record<OperationName, string | readonly [string, string] | null> = {
  ListBuckets: null,
  CreateBucket: null,
  PreflightCors: null,
  // Checked in its handler (lib/s3/post-object.ts), once the form's signer is known.
  PostObject: null,
  DeleteBucket: 's3:DeleteBucket',
  HeadBucket: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  GetBucketLocation: 's3:GetBucketLocation',
  GetBucketAcl: 's3:GetBucketAcl',
  PutBucketAcl: 's3:PutBucketAcl',
  GetBucketVersioning: 's3:GetBucketVersioning',
  PutBucketVersioning: 's3:PutBucketVersioning',
  GetBucketTagging: 's3:GetBucketTagging',
  PutBucketTagging: 's3:PutBucketTagging',
  DeleteBucketTagging: 's3:PutBucketTagging',
  GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
  PutObjectLockConfiguration: 's3:PutBucketObjectLockConfiguration',
  GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
  DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
  GetBucketNotificationConfiguration: 's3:GetBucketNotification',
  PutBucketNotificationConfiguration: 's3:PutBucketNotification',
  GetBucketCors: 's3:GetBucketCORS',
  PutBucketCors: 's3:PutBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  GetBucketOwnershipControls: 's3:GetBucketOwnershipControls',
  PutBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  GetBucketPolicy: 's3:GetBucketPolicy',
  PutBucketPolicy: 's3:PutBucketPolicy',
  DeleteBucketPolicy: 's3:DeleteBucketPolicy',
  GetBucketPolicyStatus: 's3:GetBucketPolicyStatus',
  GetObject: ['s3:GetObject', 's3:GetObjectVersion'],
  HeadObject: ['s3:GetObject', 's3:GetObjectVersion'],
  GetObjectAcl: ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
  PutObjectAcl: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'],
  GetObjectTagging: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'],
  PutObjectTagging: ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'],
  DeleteObjectTagging: ['s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'],
  GetObjectAttributes: ['s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'],
  GetObjectRetention: 's3:GetObjectRetention',
  PutObjectRetention: 's3:PutObjectRetention',
  GetObjectLegalHold: 's3:GetObjectLegalHold',
  PutObjectLegalHold: 's3:PutObjectLegalHold',
  DeleteObject: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
  // Each key is its own s3:DeleteObject, checked in lib/s3/delete.ts.
  DeleteObjects: null,
  PutObject: 's3:PutObject',
  CopyObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  UploadPartCopy: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
};

/** The IAM actions a request needs, or null when the bucket policy takes no part. Some
 *  operations need more than their own: GetObjectAttributes also s3:GetObject, and a write
 *  that sets an ACL, tags or a lock also the action that sets it
 *  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html). */
export function actionsOf(ctx: Ctx, e: Endpoint): string[] | null {
  const a = ACTIONS[e.op];
  if (a === null) return null;
  const versioned = (e as { versionId?: string | null }).versionId != null;
  const own = typeof a === 'string' ? a : a[versioned ? 1 : 0];
  if (e.op === 'GetObjectAttributes') return [versioned ? 's3:GetObjectVersion' : 's3:GetObject', own];
  if (e.op === 'PutObject' || e.op === 'CopyObject' || e.op === 'CreateMultipartUpload')
    return [own, ...setterActions((n) => ctx.header(n))];
  return [own];
}

/** What a write's ACL, tag and lock headers (or POST form fields of those names) also need. */
export function setterActions(get: (name: string) => string | undefined): string[] {
  const out: string[] = [];
  const grants = ['read', 'write', 'read-acp', 'write-acp', 'full-control'].map((g) => `x-amz-grant-${g}`);
  if (get('x-amz-acl') !== undefined || grants.some((g) => get(g) !== undefined)) out.push('s3:PutObjectAcl');
  if (get('x-amz-tagging') !== undefined) out.push('s3:PutObjectTagging');
  if (get('x-amz-object-lock-mode') !== undefined || get('x-amz-object-lock-retain-until-date') !== undefined)
    out.push('s3:PutObjectRetention');
  if (get('x-amz-object-lock-legal-hold') !== undefined) out.push('s3:PutObjectLegalHold');
  return out;
}

export function bucketArn(bucket: string, key?: string): string {
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}

/** A stored policy that no longer parses (a stricter release) refuses everyone but the owner. */
const UNREADABLE = Symbol('unreadable policy');
/** Parsed policies by bucket and text: bucket rows are re-read after every bucket change (and,
 *  with serving threads, after any write), a policy only when it changes. */
const parsed = new Map<string, BucketPolicy | typeof UNREADABLE>();
const PARSED_MAX = 256;

/** The bucket's policy, parsed once per text; undefined when it has none. */
export function parsedPolicy(b: BucketRow): BucketPolicy | undefined {
  if (!b.policy) return undefined;
  const id = `${b.name}\n${b.policy}`;
  let p = parsed.get(id);
  if (p === undefined) {
    try {
      p = parseBucketPolicy(b.policy, b.name);
    } catch {
      p = UNREADABLE;
    }
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(id, p);
  }
  return p === UNREADABLE ? undefined : p;
}

/** Get/Put/DeleteBucketPolicy: only the owner's account may call them, whatever the policy
 *  says (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html). */
export const POLICY_MANAGEMENT: ReadonlySet<string> = new Set([
  's3:GetBucketPolicy',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
]);

/**
 * What the bucket's policy says of `actions` (all of them needed) on the bucket or on `key`
 * for this request: 'deny' if it denies any, 'allow' if it allows every one, else 'none'.
 * `extra` adds condition keys the request carries elsewhere (a POST form's fields).
 * RestrictPublicBuckets: while the policy is public, its Allows count for nobody outside the
 * owner's account, here nobody but the owner
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
 */
export function policyVerdict(
  ctx: Ctx,
  b: BucketRow,
  actions: string | readonly string[] | null,
  key?: string,
  extra?: ReadonlyMap<string, string>,
): Verdict {
  if (actions === null || !b.policy) return 'none';
  return verdictOf(b, ctx.principal, typeof actions === 'string' ? [actions] : actions, key, () =>
    extra ? new Map([...conditionContext(ctx), ...extra]) : conditionContext(ctx),
  );
}

function verdictOf(
  b: BucketRow,
  principal: Principal | null,
  actions: readonly string[],
  key: string | undefined,
  context: () => ReadonlyMap<string, string>,
): Verdict {
  const policy = parsedPolicy(b);
  const owner = isBucketOwner(b, principal);
  if (!policy) return owner ? 'none' : 'deny';
  const who = principal && { ownerId: principal.ownerId, accessKeyId: principal.accessKeyId };
  let conditions: ReadonlyMap<string, string> | undefined;
  let allowed = 0;
  for (const action of actions) {
    const d = evaluateBucketPolicy(policy, {
      action,
      resource: bucketArn(b.name, key),
      principal: who,
      context: (conditions ??= context()),
    });
    // The owner can always manage the policy itself, so a policy cannot lock it out.
    if (d === 'deny' && !(owner && POLICY_MANAGEMENT.has(action))) return 'deny';
    if (d === 'allow') allowed++;
  }
  if (allowed < actions.length || !actions.length) return 'none';
  if (b.publicAccessBlock?.restrictPublicBuckets && isPublicPolicy(policy) && !owner) return 'none';
  return 'allow';
}

/** The web console's listing rule (lib/ui/api.ts): the bucket policy's s3:ListBucket, then the
 *  ACL. Its requests carry no S3 signature, so s3:authType and s3:signatureversion are absent. */
export function consoleMayList(b: BucketRow, principal: Principal, req: IncomingMessage): boolean {
  const v = b.policy
    ? verdictOf(b, principal, ['s3:ListBucket'], undefined, () => requestContext(req, undefined))
    : 'none';
  return listAllowed(v, b, principal);
}

/** Listing (and learning whether a key exists): the policy's s3:ListBucket verdict, then the ACL. */
export function listAllowed(v: Verdict, b: BucketRow, principal: Principal | null): boolean {
  return v === 'allow' || (v === 'none' && aclAllows(effectiveAcl(b, b.acl), principal, 'READ'));
}

const contexts = new WeakMap<Ctx['req'], Map<string, string>>();

/** The condition keys of this request (lower-case names, as lib/auth/bucket-policy.ts reads them). */
function conditionContext(ctx: Ctx): Map<string, string> {
  let m = contexts.get(ctx.req);
  if (m) return m;
  m = requestContext(ctx.req, (ctx.endpoint as { versionId?: string | null }).versionId);
  if (ctx.principal) {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html
    const h = ctx.req.headers;
    const auth = typeof h.authorization === 'string' ? h.authorization : '';
    const post = ctx.endpoint.op === 'PostObject';
    const query = !post && !auth;
    m.set('s3:authtype', post ? 'POST' : query ? 'REST-QUERY-STRING' : 'REST-HEADER');
    // A POST form's signature version is the form's to say; with SigV2 on it stays unknown
    // (absent), which only ever makes a condition on it refuse more.
    const url = ctx.req.url ?? '/';
    const v4 = auth
      ? auth.startsWith('AWS4-')
      : post
        ? !ctx.svc.config.auth.sigv2 || undefined
        : url.includes('X-Amz-Algorithm=');
    if (v4 !== undefined) m.set('s3:signatureversion', v4 ? 'AWS4-HMAC-SHA256' : 'AWS');
  }
  contexts.set(ctx.req, m);
  return m;
}

/** The keys any HTTP request has: address, transport, time, headers, listing parameters. */
function requestContext(req: IncomingMessage, versionId: string | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  const h = req.headers;
  const addr = clientAddress(req);
  if (addr) m.set('aws:sourceip', addr.startsWith('::ffff:') ? addr.slice(7) : addr);
  m.set('aws:securetransport', (req.socket as TLSSocket).encrypted ? 'true' : 'false');
  const now = new Date();
  m.set('aws:currenttime', now.toISOString());
  m.set('aws:epochtime', String(Math.floor(now.getTime() / 1000)));
  if (typeof h['user-agent'] === 'string') m.set('aws:useragent', h['user-agent']);
  if (typeof h.referer === 'string') m.set('aws:referer', h.referer);
  if (typeof h['x-amz-acl'] === 'string') m.set('s3:x-amz-acl', h['x-amz-acl']);
  const url = req.url ?? '/';
  const q = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  for (const name of ['prefix', 'delimiter', 'max-keys']) {
    const v = q.get(name);
    if (v !== null) m.set(`s3:${name}`, v);
  }
  if (versionId != null) m.set('s3:versionid', versionId);
  return m;
}
