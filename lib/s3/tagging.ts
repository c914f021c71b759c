// Object and bucket tags: the x-amz-tagging header on writes, Put/Get/DeleteObjectTagging (per
// version) and Put/Get/DeleteBucketTagging, with AWS's limits.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B, ObjectEndpoint as O } from './endpoint.ts';
import type { Grants } from './access.ts';
import { readRequestBody } from './body.ts';
import { sendDocument } from './respond.ts';
import { children, childText, parseXml } from './xml.ts';
import { versionHeader } from './versioning.ts';
import { eventStamp } from './event-stamp.ts';
import type { Tag } from '../metadata/types.ts';

const MAX_OBJECT_TAGS = 10;
const MAX_BUCKET_TAGS = 50;

/**
 * The limits AWS answers with: an object's 11th tag is BadRequest, a key over 128 or a value
 * over 256 characters (Unicode characters, not bytes) or a repeated key is InvalidTag.
 */
export function checkTags(tags: Tag[], max: number): Tag[] {
  if (tags.length > max)
    throw max === MAX_OBJECT_TAGS
      ? new S3Error('BadRequest', 'Object tags cannot be greater than 10')
      : new S3Error('InvalidTag', `Bucket tag count cannot be greater than ${max}`);
  const keys = new Set<string>();
  for (const t of tags) {
    const keyLength = [...t.key].length;
    if (keyLength === 0) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if (keyLength > 128) throw new S3Error('InvalidTag', 'The TagKey you have provided is too long, max 128');
    if ([...t.value].length > 256)
      throw new S3Error('InvalidTag', 'The TagValue you have provided is too long, max 256');
    if (keys.has(t.key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    keys.add(t.key);
  }
  return tags;
}

/** x-amz-tagging: URL query encoding ("k1=v1&k2=v2"); undefined when absent. */
export function tagsFromHeader(ctx: Ctx): Tag[] | undefined {
  const raw = ctx.header('x-amz-tagging');
  if (raw === undefined) return undefined;
  const tags = [...new URLSearchParams(raw)].map(([key, value]) => ({ key, value }));
  return checkTags(tags, MAX_OBJECT_TAGS);
}

/** The tag count header GET and HEAD answer when the version has tags. */
export function tagCountHeader(tags: Tag[] | null | undefined): Record<string, string> {
  return tags?.length ? { 'x-amz-tagging-count': String(tags.length) } : {};
}

async function readTagging(ctx: Ctx, max: number): Promise<Tag[]> {
  const body = await readRequestBody(ctx, 64 * 1024);
  if (!body.length) throw new S3Error('MissingRequestBodyError');
  return tagsFromXml(body, max);
}

/** A POST Object form's `tagging` field: the Tagging document PutObjectTagging takes
 *  (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html). */
export function tagsFromFormField(xml: string): Tag[] {
  return tagsFromXml(Buffer.from(xml), MAX_OBJECT_TAGS);
}

function tagsFromXml(body: Buffer, max: number): Tag[] {
  const root = parseXml(body);
  if (root.name !== 'Tagging') throw new S3Error('MalformedXML');
  const sets = children(root, 'TagSet');
  if (sets.length !== 1) throw new S3Error('MalformedXML');
  const tags = children(sets[0]!, 'Tag').map((t) => {
    const key = childText(t, 'Key');
    const value = childText(t, 'Value');
    if (key === undefined || value === undefined) throw new S3Error('MalformedXML');
    return { key, value };
  });
  return checkTags(tags, max);
}

function tagging(tags: Tag[]): { TagSet: { Tag: Array<{ Key: string; Value: string }> } } {
  return { TagSet: { Tag: tags.map((t) => ({ Key: t.key, Value: t.value })) } };
}

async function setObjectTags(
  ctx: Ctx,
  e: O,
  grant: Grants['object'],
  tags: Tag[] | null,
  status: number,
): Promise<void> {
  const set = await ctx.svc.metadata.submit({
    type: 'version.set',
    bucket: e.bucket,
    key: e.key,
    versionId: grant.object.versionId ?? 'null',
    set: { tags },
    at: new Date().toISOString(),
    event: eventStamp(ctx),
  });
  if (!set) throw new S3Error('NoSuchKey', undefined, { Key: e.key });
  ctx.res.writeHead(status, { ...versionHeader(grant.bucket, grant.object), 'Content-Length': '0' });
  ctx.res.end();
}

export async function putObjectTagging(ctx: Ctx, e: O, grant: Grants['object']): Promise<void> {
  await setObjectTags(ctx, e, grant, await readTagging(ctx, MAX_OBJECT_TAGS), 200);
}

export function deleteObjectTagging(ctx: Ctx, e: O, grant: Grants['object']): Promise<void> {
  return setObjectTags(ctx, e, grant, null, 204);
}

export function getObjectTagging(ctx: Ctx, _e: O, { bucket, object }: Grants['object']): void {
  sendDocument(ctx.res, 'Tagging', tagging(object.tags ?? []), versionHeader(bucket, object));
}

export async function putBucketTagging(ctx: Ctx, e: B): Promise<void> {
  const tags = await readTagging(ctx, MAX_BUCKET_TAGS);
  for (const t of tags)
    if (t.key.startsWith('aws:')) throw new S3Error('InvalidTag', 'Your TagKey cannot be prefixed with aws:');
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'tagging', value: tags });
  ctx.res.writeHead(204);
  ctx.res.end();
}

export function getBucketTagging(ctx: Ctx, e: B, { bucket }: Grants['bucket']): void {
  if (!bucket.tagging?.length) throw new S3Error('NoSuchTagSet', undefined, { BucketName: e.bucket });
  sendDocument(ctx.res, 'Tagging', tagging(bucket.tagging));
}

export async function deleteBucketTagging(ctx: Ctx, e: B): Promise<void> {
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'tagging', value: null });
  ctx.res.writeHead(204);
  ctx.res.end();
}
