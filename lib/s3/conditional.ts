// Conditional requests, evaluated in the order RFC 7232 section 6 gives:
// If-Match, else If-Unmodified-Since; then If-None-Match, else If-Modified-Since.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html
import { S3Error } from './errors.ts';

function unquote(tag: string): string {
  let t = tag.trim();
  if (t.startsWith('W/')) t = t.slice(2);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t;
}

/** True when the header's list names the ETag (or is "*"). Quotes are optional, as S3 allows. */
export function etagMatches(headerValue: string, etag: string): boolean {
  const want = unquote(etag);
  return headerValue.split(',').some((t) => t.trim() === '*' || unquote(t) === want);
}

/** Seconds since epoch of an HTTP date, or undefined when it does not parse. */
function parseHttpDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

export type ConditionOutcome = 'proceed' | 'not-modified' | 'precondition-failed';

export interface Conditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
}

export function evaluate(c: Conditions, etag: string, lastModifiedIso: string): ConditionOutcome {
  const modified = Math.floor(Date.parse(lastModifiedIso) / 1000);
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, etag)) return 'precondition-failed';
  } else {
    const since = parseHttpDate(c.ifUnmodifiedSince);
    if (since !== undefined && modified > since) return 'precondition-failed';
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, etag)) return 'not-modified';
  } else {
    const since = parseHttpDate(c.ifModifiedSince);
    if (since !== undefined && modified <= since) return 'not-modified';
  }
  return 'proceed';
}

/**
 * The header a 'precondition-failed' outcome failed on, for the error's <Condition>: If-Match
 * when sent (If-Unmodified-Since is then not evaluated), else If-Unmodified-Since
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "If-Unmodified-Since").
 */
export function failedCondition(c: Conditions): 'If-Match' | 'If-Unmodified-Since' {
  return c.ifMatch !== undefined ? 'If-Match' : 'If-Unmodified-Since';
}

export function requestConditions(header: (n: string) => string | undefined, prefix = ''): Conditions {
  return {
    ifMatch: header(`${prefix}if-match`),
    ifNoneMatch: header(`${prefix}if-none-match`),
    ifModifiedSince: header(`${prefix}if-modified-since`),
    ifUnmodifiedSince: header(`${prefix}if-unmodified-since`),
  };
}

/** x-amz-copy-source-if-*: any failed condition is 412, including "not modified". */
export function checkCopySource(
  header: (n: string) => string | undefined,
  etag: string,
  lastModifiedIso: string,
): void {
  const outcome = evaluate(requestConditions(header, 'x-amz-copy-source-'), etag, lastModifiedIso);
  if (outcome !== 'proceed')
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'x-amz-copy-source-If-*' });
}
