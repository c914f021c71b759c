// Put/Get/DeleteBucketLifecycleConfiguration: the rules, parsed and checked as AWS does.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
// What the rules do is lib/lifecycle.ts (the background worker).
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import type { Grants } from './access.ts';
import { readXmlBody } from './body.ts';
import { sendDocument } from './respond.ts';
import { child, children, childText, type XmlElement, type XmlNode } from './xml.ts';
import type { LifecycleRule, LifecycleTransition, Tag } from '../metadata/types.ts';

const MAX_RULES = 1000;
/** The classes a Transition may name (API_Transition.html). */
const TRANSITION_CLASSES = new Set([
  'GLACIER',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
]);

function positiveInt(raw: string | undefined, what: string): number {
  const n = Number(raw?.trim());
  if (!Number.isInteger(n) || n <= 0)
    throw new S3Error('InvalidArgument', `'${what}' for a lifecycle rule must be a positive integer`);
  return n;
}

function tagOf(el: XmlElement): Tag {
  const key = childText(el, 'Key');
  const value = childText(el, 'Value');
  if (key === undefined || value === undefined) throw new S3Error('MalformedXML');
  return { key, value };
}

/** The rule's filter: Filter (Prefix | Tag | ObjectSize* | And) or the legacy top-level Prefix. */
function filterOf(rule: XmlElement): Pick<LifecycleRule, 'prefix' | 'tags' | 'sizeGreaterThan' | 'sizeLessThan'> {
  const out = {
    prefix: '',
    tags: [] as Tag[],
    sizeGreaterThan: null as number | null,
    sizeLessThan: null as number | null,
  };
  const filter = child(rule, 'Filter');
  const legacy = childText(rule, 'Prefix');
  if (filter && legacy !== undefined) throw new S3Error('MalformedXML');
  if (!filter) {
    out.prefix = legacy ?? '';
    return out;
  }
  const scope = child(filter, 'And') ?? filter;
  if (scope !== filter && filter.children.length !== 1) throw new S3Error('MalformedXML');
  if (scope === filter && filter.children.length > 1) throw new S3Error('MalformedXML');
  out.prefix = childText(scope, 'Prefix') ?? '';
  out.tags = children(scope, 'Tag').map(tagOf);
  const gt = childText(scope, 'ObjectSizeGreaterThan');
  const lt = childText(scope, 'ObjectSizeLessThan');
  if (gt !== undefined) out.sizeGreaterThan = Number(gt.trim());
  if (lt !== undefined) out.sizeLessThan = Number(lt.trim());
  for (const v of [out.sizeGreaterThan, out.sizeLessThan])
    if (v !== null && !(Number.isInteger(v) && v >= 0))
      throw new S3Error('InvalidArgument', 'Invalid object size in filter');
  return out;
}

/** A midnight-UTC date, as Expiration and Transition take it. */
function midnight(raw: string): string {
  const t = Date.parse(raw.trim());
  // AWS takes only midnight UTC dates.
  if (Number.isNaN(t) || t % 86_400_000 !== 0) throw new S3Error('InvalidArgument', "'Date' must be at midnight GMT");
  return new Date(t).toISOString();
}

/**
 * Transition and NoncurrentVersionTransition elements. BleepStore keeps one storage tier, so it
 * keeps these and gives them back (infrastructure tools then see what they set) but moves
 * nothing: an object keeps the storage class it was written with, and stays readable.
 */
function transitionsOf(el: XmlElement, name: 'Transition' | 'NoncurrentVersionTransition'): LifecycleTransition[] {
  return children(el, name).map((t) => {
    const storageClass = childText(t, 'StorageClass')?.trim();
    if (storageClass === undefined) throw new S3Error('MalformedXML');
    if (!TRANSITION_CLASSES.has(storageClass))
      throw new S3Error('InvalidArgument', `'StorageClass' must be one of ${[...TRANSITION_CLASSES].join(', ')}`);
    if (name === 'NoncurrentVersionTransition') {
      const newer = childText(t, 'NewerNoncurrentVersions');
      return {
        days: positiveInt(childText(t, 'NoncurrentDays'), 'NoncurrentDays'),
        ...(newer === undefined ? {} : { newerNoncurrentVersions: positiveInt(newer, 'NewerNoncurrentVersions') }),
        storageClass,
      };
    }
    const days = childText(t, 'Days');
    const date = childText(t, 'Date');
    if ((days === undefined) === (date === undefined)) throw new S3Error('MalformedXML');
    if (date !== undefined) return { date: midnight(date), storageClass };
    const n = Number(days!.trim());
    if (!Number.isInteger(n) || n < 0)
      throw new S3Error('InvalidArgument', "'Days' for Transition action must be a non-negative integer");
    return { days: n, storageClass };
  });
}

function ruleOf(el: XmlElement): LifecycleRule {
  const status = childText(el, 'Status')?.trim();
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML');
  const id = childText(el, 'ID') ?? '';
  if (id.length > 255) throw new S3Error('InvalidArgument', 'ID length should not exceed allowed limit of 255');
  let expiration: LifecycleRule['expiration'] = null;
  const exp = child(el, 'Expiration');
  if (exp) {
    const days = childText(exp, 'Days');
    const date = childText(exp, 'Date');
    const marker = childText(exp, 'ExpiredObjectDeleteMarker')?.trim();
    if ([days, date, marker].filter((v) => v !== undefined).length !== 1) throw new S3Error('MalformedXML');
    if (days !== undefined) expiration = { days: positiveInt(days, 'Days') };
    else if (date !== undefined) expiration = { date: midnight(date) };
    else if (marker === 'true') expiration = { expiredObjectDeleteMarker: true };
    else if (marker !== 'false') throw new S3Error('MalformedXML');
  }
  const nve = child(el, 'NoncurrentVersionExpiration');
  const newer = nve ? childText(nve, 'NewerNoncurrentVersions') : undefined;
  const abort = child(el, 'AbortIncompleteMultipartUpload');
  const rule: LifecycleRule = {
    id,
    enabled: status === 'Enabled',
    ...filterOf(el),
    expiration,
    noncurrentExpiration: nve
      ? {
          days: positiveInt(childText(nve, 'NoncurrentDays'), 'NoncurrentDays'),
          newerNoncurrentVersions: newer === undefined ? 0 : positiveInt(newer, 'NewerNoncurrentVersions'),
        }
      : null,
    abortIncompleteUploadDays: abort
      ? positiveInt(childText(abort, 'DaysAfterInitiation'), 'DaysAfterInitiation')
      : null,
  };
  const transitions = transitionsOf(el, 'Transition');
  const noncurrentTransitions = transitionsOf(el, 'NoncurrentVersionTransition');
  if (transitions.length) rule.transitions = transitions;
  if (noncurrentTransitions.length) rule.noncurrentTransitions = noncurrentTransitions;
  if (
    !rule.expiration &&
    !rule.noncurrentExpiration &&
    rule.abortIncompleteUploadDays === null &&
    !transitions.length &&
    !noncurrentTransitions.length
  )
    throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-filters.html: tag filters
  // cannot go with ExpiredObjectDeleteMarker or AbortIncompleteMultipartUpload.
  if (
    rule.tags.length &&
    (rule.abortIncompleteUploadDays !== null || (rule.expiration && 'expiredObjectDeleteMarker' in rule.expiration))
  )
    throw new S3Error('InvalidRequest', 'Tag-based filter cannot be used with this lifecycle action');
  return rule;
}

export async function putBucketLifecycleConfiguration(ctx: Ctx, e: B): Promise<void> {
  const root = await readXmlBody(ctx, 1024 * 1024, 'MalformedXML');
  if (!root) throw new S3Error('MissingRequestBodyError');
  if (root.name !== 'LifecycleConfiguration') throw new S3Error('MalformedXML');
  const rules = children(root, 'Rule').map(ruleOf);
  if (rules.length === 0 || rules.length > MAX_RULES) throw new S3Error('MalformedXML');
  const ids = rules.map((r) => r.id).filter((id) => id !== '');
  if (new Set(ids).size !== ids.length)
    throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'lifecycle', value: rules });
  ctx.res.writeHead(200, { 'Content-Length': '0' });
  ctx.res.end();
}

function ruleXml(r: LifecycleRule): XmlNode {
  const parts: XmlNode = {};
  if (r.prefix) parts.Prefix = r.prefix;
  if (r.tags.length) parts.Tag = r.tags.map((t) => ({ Key: t.key, Value: t.value }));
  if (r.sizeGreaterThan !== null) parts.ObjectSizeGreaterThan = r.sizeGreaterThan;
  if (r.sizeLessThan !== null) parts.ObjectSizeLessThan = r.sizeLessThan;
  const filter = Object.keys(parts).length > 1 ? { And: parts } : parts;
  const exp = r.expiration;
  return {
    ID: r.id || null,
    Filter: filter,
    Status: r.enabled ? 'Enabled' : 'Disabled',
    Expiration: !exp
      ? null
      : 'days' in exp
        ? { Days: exp.days }
        : 'date' in exp
          ? { Date: exp.date }
          : { ExpiredObjectDeleteMarker: true },
    NoncurrentVersionExpiration: r.noncurrentExpiration
      ? {
          NoncurrentDays: r.noncurrentExpiration.days,
          NewerNoncurrentVersions: r.noncurrentExpiration.newerNoncurrentVersions || null,
        }
      : null,
    Transition: r.transitions?.length
      ? r.transitions.map((t) => ({ Date: t.date ?? null, Days: t.days ?? null, StorageClass: t.storageClass }))
      : null,
    NoncurrentVersionTransition: r.noncurrentTransitions?.length
      ? r.noncurrentTransitions.map((t) => ({
          NoncurrentDays: t.days ?? null,
          StorageClass: t.storageClass,
          NewerNoncurrentVersions: t.newerNoncurrentVersions ?? null,
        }))
      : null,
    AbortIncompleteMultipartUpload:
      r.abortIncompleteUploadDays !== null ? { DaysAfterInitiation: r.abortIncompleteUploadDays } : null,
  };
}

export function getBucketLifecycleConfiguration(ctx: Ctx, e: B, { bucket }: Grants['bucket']): void {
  if (!bucket.lifecycle?.length)
    throw new S3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', {
      BucketName: e.bucket,
    });
  sendDocument(ctx.res, 'LifecycleConfiguration', { Rule: bucket.lifecycle.map(ruleXml) });
}

export async function deleteBucketLifecycle(ctx: Ctx, e: B): Promise<void> {
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'lifecycle', value: null });
  ctx.res.writeHead(204);
  ctx.res.end();
}
