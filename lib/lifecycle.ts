// The lifecycle worker: applies each bucket's lifecycle rules (lib/s3/lifecycle-config.ts),
// run by the reaper after its upload sweep. Each expiry is one metadata command decided again
// inside its transaction (the current version must still have the ETag the worker saw; Object
// Lock refusals hold), so a crash between expiries loses nothing: the next run redoes the rest.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
import type { MetadataStore } from './metadata/sqlite.ts';
import type { BucketRow, LifecycleRule, ListedVersion, Tag } from './metadata/types.ts';
import { LockedError, PreconditionError } from './metadata/errors.ts';
import { newVersionId } from './s3/versioning.ts';
import type { EventStamp } from './metadata/commands.ts';
import { randomBytes } from 'node:crypto';

export const DAY_MS = 86_400_000;
const PAGE = 500;

/**
 * When `days` after `start` falls due: AWS adds the days to the object's time and rounds the
 * result up to the next midnight UTC (intro-lifecycle-rules.html, "Days"). With a test-sized day, the next multiple of it.
 */
export function dueAt(start: number, days: number, dayMs: number): number {
  return Math.ceil((start + days * dayMs) / dayMs) * dayMs;
}

export interface LifecycleParts {
  metadata: MetadataStore;
  /** Blobs the expiries freed: removed, then confirmed (the reaper's drainGc does it too). */
  collect?: (fileIds: readonly string[]) => void;
  /** The server's region, for the events of expiries (default us-east-1). */
  region?: string;
}

export interface LifecycleReport {
  expired: number;
  markersAdded: number;
  noncurrentRemoved: number;
  markersRemoved: number;
  uploadsAborted: number;
  lockedSkipped: number;
}

const LIFECYCLE_OWNER = { id: 'lifecycle', displayName: 'S3 Lifecycle' };

/**
 * The stamp of an expiry: its event is s3:LifecycleExpiration:Delete (or :DeleteMarkerCreated),
 * not s3:ObjectRemoved:*, and comes from S3 itself rather than a caller, as in the example
 * message of https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configure-notification.html.
 */
function expiryStamp(at: string, region = 'us-east-1'): EventStamp {
  return {
    name: 's3:LifecycleExpiration:Delete',
    background: true,
    requestId: randomBytes(8).toString('hex').toUpperCase(),
    principal: 's3.amazonaws.com',
    sourceIp: 's3.amazonaws.com',
    region,
    at,
  };
}

function tagsMatch(want: Tag[], have: Tag[] | null | undefined): boolean {
  return want.every((t) => have?.some((h) => h.key === t.key && h.value === t.value));
}

function sizeMatches(r: LifecycleRule, size: number): boolean {
  return (r.sizeGreaterThan === null || size > r.sizeGreaterThan) && (r.sizeLessThan === null || size < r.sizeLessThan);
}

/** Applies every enabled rule of every bucket once, as of `now` (ms). `dayMs` is a day's length. */
export async function applyLifecycle(p: LifecycleParts, now = Date.now(), dayMs = DAY_MS): Promise<LifecycleReport> {
  const report: LifecycleReport = {
    expired: 0,
    markersAdded: 0,
    noncurrentRemoved: 0,
    markersRemoved: 0,
    uploadsAborted: 0,
    lockedSkipped: 0,
  };
  for (const bucket of p.metadata.listBuckets()) {
    for (const rule of bucket.lifecycle ?? []) {
      if (!rule.enabled) continue;
      await applyRule(p, bucket, rule, now, dayMs, report);
    }
  }
  return report;
}

async function applyRule(
  p: LifecycleParts,
  bucket: BucketRow,
  rule: LifecycleRule,
  now: number,
  dayMs: number,
  report: LifecycleReport,
): Promise<void> {
  const { metadata } = p;
  const at = new Date(now).toISOString();
  const run = async (fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      // Changed meanwhile (a newer write, a removed version) or locked: left for the next run.
      if (err instanceof LockedError) report.lockedSkipped++;
      else if (!(err instanceof PreconditionError)) throw err;
    }
  };
  if (rule.abortIncompleteUploadDays !== null) {
    const days = rule.abortIncompleteUploadDays;
    for (const u of metadata.listUploads(bucket.name, {
      prefix: rule.prefix,
      keyMarker: null,
      uploadIdMarker: null,
      limit: PAGE,
    })) {
      if (now < dueAt(Date.parse(u.initiatedAt), days, dayMs)) continue;
      const files = await metadata.submit({ type: 'upload.abort', uploadId: u.uploadId, at });
      if (files) {
        p.collect?.(files);
        report.uploadsAborted++;
      }
    }
  }
  let after: string | null = null;
  for (;;) {
    const keys = metadata.listVersionKeys(bucket.name, { prefix: rule.prefix, after, limit: PAGE });
    if (!keys.length) return;
    for (const key of keys) {
      const job = {
        p,
        bucket,
        rule,
        key,
        versions: metadata.keyVersions(bucket.name, key),
        now,
        dayMs,
        at,
        report,
        run,
      };
      await expireCurrent(job);
      await expireNoncurrent(job);
    }
    after = keys[keys.length - 1]!;
    if (keys.length < PAGE) return;
  }
}

type Run = (fn: () => Promise<void>) => Promise<void>;

/** One key under one rule, as of `now`. */
interface KeyJob {
  p: LifecycleParts;
  bucket: BucketRow;
  rule: LifecycleRule;
  key: string;
  /** Newest first. */
  versions: ListedVersion[];
  now: number;
  dayMs: number;
  at: string;
  report: LifecycleReport;
  run: Run;
}

async function expireCurrent(j: KeyJob): Promise<void> {
  const { p, bucket, rule, key, versions, now, dayMs, at, report, run } = j;
  const exp = rule.expiration;
  const latest = versions[0];
  if (!exp || !latest) return;
  const { metadata } = p;
  if ('expiredObjectDeleteMarker' in exp) {
    // A delete marker with no version left behind it is removed.
    if (latest.deleteMarker && versions.length === 1)
      await run(async () => {
        const r = await metadata.submit({
          type: 'version.delete',
          bucket: bucket.name,
          key,
          versionId: latest.versionId,
          bypassGovernance: false,
          at,
          event: expiryStamp(at, p.region),
        });
        if (r.found) report.markersRemoved++;
      });
    return;
  }
  if (latest.deleteMarker || !sizeMatches(rule, latest.size)) return;
  const due = 'days' in exp ? dueAt(Date.parse(latest.lastModified), exp.days, dayMs) : Date.parse(exp.date);
  if (now < due) return;
  if (rule.tags.length && !tagsMatch(rule.tags, metadata.getObject(bucket.name, key, false)?.tags)) return;
  const cond = { ifMatch: latest.etag };
  await run(async () => {
    if (!bucket.versioning) {
      const event = expiryStamp(at, p.region);
      const fileId = await metadata.submit({ type: 'object.delete', bucket: bucket.name, key, at, cond, event });
      if (fileId) p.collect?.([fileId]);
      report.expired++;
      return;
    }
    // On a versioned bucket expiring the current version adds a delete marker (AWS does the same).
    const markerId = bucket.versioning === 'Enabled' ? newVersionId(now) : null;
    const r = await metadata.submit({
      type: 'marker.put',
      bucket: bucket.name,
      key,
      markerId,
      owner: LIFECYCLE_OWNER,
      at,
      cond,
      event: expiryStamp(at, p.region),
    });
    if (r.removed) p.collect?.([r.removed]);
    report.markersAdded++;
  });
}

async function expireNoncurrent(j: KeyJob): Promise<void> {
  const { p, bucket, rule, key, versions, now, dayMs, at, report, run } = j;
  const nve = rule.noncurrentExpiration;
  if (!nve) return;
  let newer = 0;
  for (let i = 1; i < versions.length; i++) {
    const v = versions[i]!;
    if (v.deleteMarker) continue;
    newer++;
    // The newest `newerNoncurrentVersions` noncurrent versions are kept whatever their age.
    if (newer <= nve.newerNoncurrentVersions || !sizeMatches(rule, v.size)) continue;
    // A version became noncurrent when the next newer one was written.
    const since = Date.parse(versions[i - 1]!.lastModified);
    if (now < dueAt(since, nve.days, dayMs)) continue;
    if (rule.tags.length && !tagsMatch(rule.tags, p.metadata.getVersion(bucket.name, key, v.versionId, false)?.tags))
      continue;
    await run(async () => {
      const r = await p.metadata.submit({
        type: 'version.delete',
        bucket: bucket.name,
        key,
        versionId: v.versionId,
        bypassGovernance: false,
        at,
        event: expiryStamp(at, p.region),
      });
      if (r.removed) p.collect?.([r.removed]);
      if (r.found) report.noncurrentRemoved++;
    });
  }
}
