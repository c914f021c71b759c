// Bucket operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation,
// GetBucketVersioning.
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import { sendDocument, sendEmpty, sendXml } from './respond.ts';
import { childText, parseXml, S3_NS } from './xml.ts';
import { aclFromHeaders, cannedAcl } from './acl.ts';
import { noSuchBucket, ownerOf, type Grants } from './access.ts';
import { readRequestBody } from './body.ts';
import { parseOwnership } from './bucket-controls.ts';
import { eventStamp } from './event-stamp.ts';

/** https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html */
export function bucketNameProblem(name: string): string | null {
  if (name.length < 3 || name.length > 63) return 'Bucket name must be between 3 and 63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    return 'Bucket name can contain only lowercase letters, numbers, dots and hyphens, and must begin and end with a letter or number';
  if (name.includes('..')) return 'Bucket name must not contain two adjacent periods';
  // A period next to a hyphen cannot form a DNS label (bucketnamingrules.html, legacy rules
  // AWS still enforces for new buckets).
  if (name.includes('.-') || name.includes('-.')) return 'Bucket name must not contain a period next to a hyphen';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'Bucket name must not be formatted as an IP address';
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.startsWith('amzn-s3-demo-'))
    return 'Bucket name uses a reserved prefix';
  if (
    name.endsWith('-s3alias') ||
    name.endsWith('--ol-s3') ||
    name.endsWith('.mrap') ||
    name.endsWith('--x-s3') ||
    name.endsWith('--table-s3')
  )
    return 'Bucket name uses a reserved suffix';
  return null;
}

export function listBuckets(ctx: Ctx, { principal }: Grants['signed']): void {
  const q = ctx.endpoint.query;
  const prefix = q.get('prefix') ?? '';
  const maxRaw = q.get('max-buckets');
  let max = 10000;
  if (maxRaw !== null) {
    max = /^\d+$/.test(maxRaw) ? Number(maxRaw) : NaN;
    if (!(max >= 1 && max <= 10000))
      throw new S3Error('InvalidArgument', 'max-buckets must be an integer from 1 to 10000', {
        ArgumentName: 'max-buckets',
        ArgumentValue: maxRaw,
      });
  }
  const token = q.get('continuation-token');
  const after = token ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const all = ctx.svc.metadata
    .listBuckets(principal.ownerId)
    .filter((b) => b.name.startsWith(prefix) && b.name > after);
  const page = all.slice(0, max);
  sendDocument(ctx.res, 'ListAllMyBucketsResult', {
    Owner: { ID: principal.ownerId, DisplayName: principal.displayName },
    Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: b.createdAt, BucketRegion: b.region })) },
    ContinuationToken: all.length > max ? Buffer.from(page[page.length - 1]!.name).toString('base64url') : null,
    Prefix: q.has('prefix') ? prefix : null,
  });
}

export async function createBucket(ctx: Ctx, e: B, { principal }: Grants['signed']): Promise<void> {
  const problem = bucketNameProblem(e.bucket);
  if (problem) throw new S3Error('InvalidBucketName', problem, { BucketName: e.bucket });
  const region = ctx.svc.config.server.region;
  const body = await readRequestBody(ctx, 64 * 1024);
  if (body.length) {
    const root = parseXml(body);
    if (root.name !== 'CreateBucketConfiguration') throw new S3Error('MalformedXML');
    const given = childText(root, 'LocationConstraint')?.trim() ?? '';
    // The SDKs' "aws-global" pseudo-region is us-east-1 (the global endpoint's region).
    const constraint = given === 'aws-global' ? 'us-east-1' : given;
    // AWS rejects an explicit "us-east-1"; we accept the server's own region in any
    // spelling, since the bucket lands there either way, and refuse any other.
    if (constraint !== '' && constraint !== region) {
      throw new S3Error(
        'IllegalLocationConstraintException',
        `The ${JSON.stringify(constraint)} location constraint is incompatible for the region specific endpoint this request was sent to (${region}).`,
      );
    }
  }
  const owner = ownerOf(principal);
  const acl = aclFromHeaders(ctx.header, owner) ?? cannedAcl('private', owner);
  const ownershipHeader = ctx.header('x-amz-object-ownership');
  const ownership = ownershipHeader === undefined ? null : parseOwnership(ownershipHeader);
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html: ACLs other than
  // private cannot be set on a bucket created with ACLs disabled.
  if (
    ownership === 'BucketOwnerEnforced' &&
    acl.grants.some((g) => g.grantee.type !== 'CanonicalUser' || g.grantee.id !== owner.id)
  ) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html: Object Lock at
  // creation turns versioning on too.
  const lockHeader = ctx.header('x-amz-bucket-object-lock-enabled')?.trim().toLowerCase();
  if (lockHeader !== undefined && lockHeader !== 'true' && lockHeader !== 'false')
    throw new S3Error('InvalidArgument', 'x-amz-bucket-object-lock-enabled must be true or false.', {
      ArgumentName: 'x-amz-bucket-object-lock-enabled',
      ArgumentValue: lockHeader,
    });
  const locked = lockHeader === 'true';
  const result = await ctx.svc.metadata.submit({
    type: 'bucket.create',
    bucket: {
      name: e.bucket,
      region,
      ownerId: owner.id,
      ownerDisplay: owner.display_name,
      acl,
      createdAt: new Date().toISOString(),
      ownership,
      ...(locked ? { versioning: 'Enabled' as const, objectLock: { rule: null } } : {}),
    },
    event: eventStamp(ctx),
  });
  if (!result.created) {
    if (result.existing.ownerId !== owner.id)
      throw new S3Error('BucketAlreadyExists', undefined, { BucketName: e.bucket });
    // In us-east-1 AWS answers 200 and resets the ACL for legacy compatibility; elsewhere 409.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html (BucketAlreadyOwnedByYou)
    if (region !== 'us-east-1') throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: e.bucket });
    await ctx.svc.metadata.submit({ type: 'bucket.acl', name: e.bucket, acl });
  }
  sendEmpty(ctx.res, 200, { Location: `/${e.bucket}` });
}

export async function deleteBucket(ctx: Ctx, e: B): Promise<void> {
  const outcome = await ctx.svc.metadata.submit({ type: 'bucket.delete', name: e.bucket, event: eventStamp(ctx) });
  if (outcome === 'missing') throw noSuchBucket(e.bucket);
  if (outcome === 'not-empty') throw new S3Error('BucketNotEmpty', undefined, { BucketName: e.bucket });
  ctx.res.writeHead(204);
  ctx.res.end();
}

export function headBucket(ctx: Ctx, _e: B, { bucket: b }: Grants['bucket']): void {
  sendEmpty(ctx.res, 200, { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' });
}

export function getBucketLocation(ctx: Ctx, _e: B, { bucket: b }: Grants['bucket']): void {
  // us-east-1 is reported as an empty constraint, as AWS does.
  const value = b.region === 'us-east-1' ? '' : b.region;
  const xml = value
    ? `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NS}">${value}</LocationConstraint>`
    : `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NS}"/>`;
  sendXml(ctx.res, 200, xml);
}
