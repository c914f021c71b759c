// Get/Put/DeletePublicAccessBlock and Get/Put/DeleteBucketOwnershipControls: the stored
// configurations. What they change about ACLs is in lib/s3/ownership.ts.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import type { Grants } from './access.ts';
import { readRequestBody } from './body.ts';
import { sendDocument } from './respond.ts';
import { child, childText, children, parseXml } from './xml.ts';
import type { ObjectOwnership, PublicAccessBlock } from '../metadata/types.ts';

const PAB_FIELDS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const;
export const OWNERSHIPS: readonly ObjectOwnership[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

function noContent(ctx: Ctx): void {
  ctx.res.writeHead(204);
  ctx.res.end();
}

export async function putPublicAccessBlock(ctx: Ctx, e: B): Promise<void> {
  const body = await readRequestBody(ctx, 64 * 1024);
  if (!body.length) throw new S3Error('MissingRequestBodyError');
  const root = parseXml(body);
  if (root.name !== 'PublicAccessBlockConfiguration') throw new S3Error('MalformedXML');
  // A field left out is false (the API reference gives each a default of false).
  const flag = (name: string): boolean => {
    const v = childText(root, name)?.trim().toLowerCase();
    if (v === undefined) return false;
    if (v !== 'true' && v !== 'false') throw new S3Error('MalformedXML');
    return v === 'true';
  };
  const pab = Object.fromEntries(PAB_FIELDS.map(([xml, field]) => [field, flag(xml)])) as unknown as PublicAccessBlock;
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'public_access_block', value: pab });
  ctx.res.writeHead(200, { 'Content-Length': '0' });
  ctx.res.end();
}

export function getPublicAccessBlock(ctx: Ctx, e: B, { bucket: b }: Grants['bucket']): void {
  const pab = b.publicAccessBlock;
  if (!pab) throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: e.bucket });
  sendDocument(
    ctx.res,
    'PublicAccessBlockConfiguration',
    Object.fromEntries(PAB_FIELDS.map(([xml, field]) => [xml, pab[field]])),
  );
}

export async function deletePublicAccessBlock(ctx: Ctx, e: B): Promise<void> {
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'public_access_block', value: null });
  noContent(ctx);
}

export function parseOwnership(value: string): ObjectOwnership {
  if (!(OWNERSHIPS as readonly string[]).includes(value)) {
    throw new S3Error('InvalidArgument', `Invalid value for ObjectOwnership: ${value}`, {
      ArgumentName: 'ObjectOwnership',
      ArgumentValue: value,
    });
  }
  return value as ObjectOwnership;
}

export async function putBucketOwnershipControls(ctx: Ctx, e: B): Promise<void> {
  const body = await readRequestBody(ctx, 64 * 1024);
  if (!body.length) throw new S3Error('MissingRequestBodyError');
  const root = parseXml(body);
  const rules = root.name === 'OwnershipControls' ? children(root, 'Rule') : [];
  // Exactly one rule with one ObjectOwnership (API_OwnershipControls.html).
  const value = rules.length === 1 ? child(rules[0]!, 'ObjectOwnership')?.text.trim() : undefined;
  if (value === undefined) throw new S3Error('MalformedXML');
  await ctx.svc.metadata.submit({
    type: 'bucket.config',
    name: e.bucket,
    column: 'ownership',
    value: parseOwnership(value),
  });
  ctx.res.writeHead(200, { 'Content-Length': '0' });
  ctx.res.end();
}

export function getBucketOwnershipControls(ctx: Ctx, e: B, { bucket: b }: Grants['bucket']): void {
  if (!b.ownership) throw new S3Error('OwnershipControlsNotFoundError', undefined, { BucketName: e.bucket });
  sendDocument(ctx.res, 'OwnershipControls', { Rule: { ObjectOwnership: b.ownership } });
}

export async function deleteBucketOwnershipControls(ctx: Ctx, e: B): Promise<void> {
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'ownership', value: null });
  noContent(ctx);
}
