// Object Lock: the bucket's configuration and default retention, the lock headers on writes,
// and Put/GetObjectRetention and Put/GetObjectLegalHold. The refusals themselves (a locked
// version is never removed, retention only weakened where allowed) are decided in the metadata
// transaction (lib/metadata/apply.ts), so every path that removes a version obeys them.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B, ObjectEndpoint as O } from './endpoint.ts';
import type { Grants } from './access.ts';
import { readRequestBody } from './body.ts';
import { sendDocument } from './respond.ts';
import { child, childText, parseXml } from './xml.ts';
import { versionHeader } from './versioning.ts';
import { LockedError } from '../metadata/errors.ts';
import { policyVerdict } from './policy-access.ts';
import type { BucketRow, ObjectLockConfig, ObjectRow, Retention, RetentionMode } from '../metadata/types.ts';

const DAY_MS = 86_400_000;

/**
 * x-amz-bypass-governance-retention: true counts only for the bucket owner, the one caller
 * this server grants s3:BypassGovernanceRetention (a bucket policy cannot grant it to others
 * here, but its Deny takes it from the owner too).
 */
export function mayBypassGovernance(ctx: Ctx, bucket: BucketRow, key: string): boolean {
  return (
    ctx.header('x-amz-bypass-governance-retention')?.trim().toLowerCase() === 'true' &&
    ctx.principal?.ownerId === bucket.ownerId &&
    policyVerdict(ctx, bucket, 's3:BypassGovernanceRetention', key) !== 'deny'
  );
}

function missingConfiguration(): S3Error {
  return new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
}

function parseMode(raw: string): RetentionMode {
  if (raw !== 'GOVERNANCE' && raw !== 'COMPLIANCE') throw new S3Error('InvalidArgument', 'Unknown wormMode directive.');
  return raw;
}

/** A retain-until date: ISO 8601, in the future. */
function parseUntil(raw: string, now: number): string {
  const t = Date.parse(raw);
  if (Number.isNaN(t))
    throw new S3Error('InvalidArgument', 'The retain until date must be provided in ISO 8601 format');
  if (t <= now) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!');
  return new Date(t).toISOString();
}

/**
 * The retention and legal hold a new version gets: the x-amz-object-lock-* headers (or POST
 * form fields), else the bucket's default retention. Any of them on a bucket without Object
 * Lock is InvalidRequest, as AWS answers.
 */
export function lockFromHeaders(
  header: (name: string) => string | undefined,
  bucket: BucketRow | undefined,
  now = Date.now(),
): { retention: Retention | null; legalHold: boolean } {
  const mode = header('x-amz-object-lock-mode');
  const until = header('x-amz-object-lock-retain-until-date');
  const hold = header('x-amz-object-lock-legal-hold');
  const config = bucket?.objectLock;
  if (!config) {
    if (mode !== undefined || until !== undefined || hold !== undefined) throw missingConfiguration();
    return { retention: null, legalHold: false };
  }
  if ((mode === undefined) !== (until === undefined))
    throw new S3Error(
      'InvalidArgument',
      'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
    );
  if (hold !== undefined && hold !== 'ON' && hold !== 'OFF')
    throw new S3Error('InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'");
  let retention: Retention | null = null;
  if (mode !== undefined) retention = { mode: parseMode(mode), until: parseUntil(until!, now) };
  else if (config.rule) {
    const days = config.rule.days ?? (config.rule.years ?? 0) * 365;
    retention = { mode: config.rule.mode, until: new Date(now + days * DAY_MS).toISOString() };
  }
  return { retention, legalHold: hold === 'ON' };
}

/**
 * AWS refuses a PutObject (or UploadPart) whose new version would be locked, by its headers or
 * the bucket's default retention, unless the body's integrity is checked: "Content-MD5 OR
 * x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, Object Lock).
 */
export function requireIntegrity(
  header: (name: string) => string | undefined,
  lock: { retention: Retention | null; legalHold: boolean },
): void {
  if (!lock.retention && !lock.legalHold) return;
  if (header('content-md5') !== undefined || header('x-amz-sdk-checksum-algorithm') !== undefined) return;
  for (const a of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'])
    if (header(`x-amz-checksum-${a}`) !== undefined) return;
  if (/x-amz-checksum-/i.test(header('x-amz-trailer') ?? '')) return;
  throw new S3Error(
    'InvalidRequest',
    'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
  );
}

/** The lock headers GET and HEAD answer for a version that has any. */
export function lockHeaders(o: ObjectRow): Record<string, string> {
  const h: Record<string, string> = {};
  if (o.retention) {
    h['x-amz-object-lock-mode'] = o.retention.mode;
    h['x-amz-object-lock-retain-until-date'] = o.retention.until;
  }
  if (o.legalHold) h['x-amz-object-lock-legal-hold'] = 'ON';
  return h;
}

async function readDocument(ctx: Ctx, root: string) {
  const body = await readRequestBody(ctx, 64 * 1024);
  if (!body.length) throw new S3Error('MissingRequestBodyError');
  const doc = parseXml(body);
  if (doc.name !== root) throw new S3Error('MalformedXML');
  return doc;
}

export async function putObjectLockConfiguration(ctx: Ctx, e: B, { bucket }: Grants['bucket']): Promise<void> {
  const doc = await readDocument(ctx, 'ObjectLockConfiguration');
  if (childText(doc, 'ObjectLockEnabled')?.trim() !== 'Enabled') throw new S3Error('MalformedXML');
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html: Object
  // Lock can be turned on for an existing bucket once its versioning is Enabled.
  if (!bucket.objectLock && bucket.versioning !== 'Enabled')
    throw new S3Error(
      'InvalidBucketState',
      "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
    );
  const config: ObjectLockConfig = { rule: null };
  const rule = child(doc, 'Rule');
  if (rule) {
    const def = child(rule, 'DefaultRetention');
    if (!def) throw new S3Error('MalformedXML');
    const mode = parseMode(childText(def, 'Mode')?.trim() ?? '');
    const days = childText(def, 'Days')?.trim();
    const years = childText(def, 'Years')?.trim();
    if ((days === undefined) === (years === undefined)) throw new S3Error('MalformedXML');
    const n = Number(days ?? years);
    if (!Number.isInteger(n) || n <= 0 || n > (days !== undefined ? 36500 : 100))
      throw new S3Error('InvalidArgument', 'Default retention period must be a positive integer value');
    config.rule = days !== undefined ? { mode, days: n } : { mode, years: n };
  }
  await ctx.svc.metadata.submit({ type: 'bucket.config', name: e.bucket, column: 'object_lock', value: config });
  ctx.res.writeHead(200, { 'Content-Length': '0' });
  ctx.res.end();
}

export function getObjectLockConfiguration(ctx: Ctx, e: B, { bucket }: Grants['bucket']): void {
  const config = bucket.objectLock;
  if (!config)
    throw new S3Error(
      'ObjectLockConfigurationNotFoundError',
      'Object Lock configuration does not exist for this bucket',
      {
        BucketName: e.bucket,
      },
    );
  const rule = config.rule;
  sendDocument(ctx.res, 'ObjectLockConfiguration', {
    ObjectLockEnabled: 'Enabled',
    Rule: rule ? { DefaultRetention: { Mode: rule.mode, Days: rule.days ?? null, Years: rule.years ?? null } } : null,
  });
}

async function setVersion(
  ctx: Ctx,
  e: O,
  grant: Grants['object'],
  set: { retention: Retention | null; bypassGovernance: boolean } | { legalHold: boolean },
): Promise<void> {
  if (!grant.bucket.objectLock) throw missingConfiguration();
  try {
    const ok = await ctx.svc.metadata.submit({
      type: 'version.set',
      bucket: e.bucket,
      key: e.key,
      versionId: grant.object.versionId ?? 'null',
      set,
      at: new Date().toISOString(),
    });
    if (!ok) throw new S3Error('NoSuchKey', undefined, { Key: e.key });
  } catch (err) {
    if (err instanceof LockedError) throw new S3Error('AccessDenied', err.message);
    throw err;
  }
  ctx.res.writeHead(200, { ...versionHeader(grant.bucket, grant.object), 'Content-Length': '0' });
  ctx.res.end();
}

export async function putObjectRetention(ctx: Ctx, e: O, grant: Grants['object']): Promise<void> {
  const doc = await readDocument(ctx, 'Retention');
  const mode = childText(doc, 'Mode')?.trim();
  const until = childText(doc, 'RetainUntilDate')?.trim();
  if ((mode === undefined) !== (until === undefined)) throw new S3Error('MalformedXML');
  const retention = mode === undefined ? null : { mode: parseMode(mode), until: parseUntil(until!, Date.now()) };
  await setVersion(ctx, e, grant, { retention, bypassGovernance: mayBypassGovernance(ctx, grant.bucket, e.key) });
}

export function getObjectRetention(ctx: Ctx, e: O, { bucket, object }: Grants['object']): void {
  if (!bucket.objectLock) throw missingConfiguration();
  if (!object.retention)
    throw new S3Error(
      'NoSuchObjectLockConfiguration',
      'The specified object does not have a ObjectLock configuration',
      {
        Key: e.key,
      },
    );
  sendDocument(
    ctx.res,
    'Retention',
    { Mode: object.retention.mode, RetainUntilDate: object.retention.until },
    versionHeader(bucket, object),
  );
}

export async function putObjectLegalHold(ctx: Ctx, e: O, grant: Grants['object']): Promise<void> {
  const doc = await readDocument(ctx, 'LegalHold');
  const status = childText(doc, 'Status')?.trim();
  if (status !== 'ON' && status !== 'OFF') throw new S3Error('MalformedXML');
  await setVersion(ctx, e, grant, { legalHold: status === 'ON' });
}

export function getObjectLegalHold(ctx: Ctx, _e: O, { bucket, object }: Grants['object']): void {
  if (!bucket.objectLock) throw missingConfiguration();
  sendDocument(ctx.res, 'LegalHold', { Status: object.legalHold ? 'ON' : 'OFF' }, versionHeader(bucket, object));
}
