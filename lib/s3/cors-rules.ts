// CORS configuration: the XML document in and out, and which rule (if any) allows a
// cross-origin request. https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
// ("How does Amazon S3 evaluate the CORS configuration on a bucket?": the first rule whose
// origin, method and requested headers all match wins).
import { S3Error } from './errors.ts';
import { children, childText, parseXml, type XmlNode } from './xml.ts';
import type { CorsRule } from '../metadata/types.ts';

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html: up to 100 rules,
// methods GET, PUT, POST, DELETE and HEAD; an origin or header holds at most one "*".
export const MAX_CORS_RULES = 100;
const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);

function oneWildcard(values: string[], what: string): void {
  for (const v of values) {
    if ((v.match(/\*/g) ?? []).length > 1)
      throw new S3Error('InvalidRequest', `${what} "${v}" can not have more than one wildcard.`);
  }
}

export function corsFromXml(body: Buffer): CorsRule[] {
  if (!body.length) throw new S3Error('MissingRequestBodyError');
  const root = parseXml(body);
  if (root.name !== 'CORSConfiguration') throw new S3Error('MalformedXML');
  const rules = children(root, 'CORSRule').map((r): CorsRule => {
    const texts = (name: string) => children(r, name).map((c) => c.text.trim());
    const rule: CorsRule = {
      allowedOrigins: texts('AllowedOrigin'),
      allowedMethods: texts('AllowedMethod'),
      allowedHeaders: texts('AllowedHeader'),
      exposeHeaders: texts('ExposeHeader'),
    };
    if (!rule.allowedOrigins.length || !rule.allowedMethods.length) throw new S3Error('MalformedXML');
    for (const m of rule.allowedMethods) {
      if (!METHODS.has(m))
        throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    oneWildcard(rule.allowedOrigins, 'AllowedOrigin');
    oneWildcard(rule.allowedHeaders, 'AllowedHeader');
    const id = childText(r, 'ID');
    if (id !== undefined) {
      if (id.length > 255)
        throw new S3Error('InvalidArgument', 'The ID of a CORS rule can be at most 255 characters long.', {
          ArgumentName: 'ID',
        });
      rule.id = id;
    }
    const maxAge = childText(r, 'MaxAgeSeconds')?.trim();
    if (maxAge !== undefined) {
      if (!/^\d{1,9}$/.test(maxAge)) throw new S3Error('MalformedXML');
      rule.maxAgeSeconds = Number(maxAge);
    }
    return rule;
  });
  if (!rules.length) throw new S3Error('MalformedXML');
  if (rules.length > MAX_CORS_RULES)
    throw new S3Error(
      'InvalidRequest',
      `The number of CORS rules should not exceed allowed limit of ${MAX_CORS_RULES} rules.`,
    );
  return rules;
}

export function corsToXml(rules: CorsRule[]): XmlNode {
  return {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.allowedHeaders,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders,
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  };
}

/** A pattern with at most one "*" (any run of characters), compared as AWS does. */
function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

export interface CorsRequest {
  origin: string;
  method: string;
  /** Access-Control-Request-Headers of a preflight, lower-case; empty for actual requests. */
  headers: string[];
}

/** The first rule that allows the request, or undefined. */
export function matchCors(rules: readonly CorsRule[], r: CorsRequest): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowedOrigins.some((o) => wildcardMatch(o, r.origin, false)) &&
      rule.allowedMethods.includes(r.method) &&
      r.headers.every((h) => rule.allowedHeaders.some((a) => wildcardMatch(a, h, true))),
  );
}

/** Response headers for a request a rule allowed (preflight adds the Allow-Methods/-Headers). */
export function corsHeaders(rule: CorsRule, r: CorsRequest, preflight: boolean): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const h: Record<string, string> = {
    'Access-Control-Allow-Origin': anyOrigin ? '*' : r.origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
  };
  // Credentials are only allowed with an echoed origin (Fetch standard, CORS protocol).
  if (!anyOrigin) h['Access-Control-Allow-Credentials'] = 'true';
  if (rule.exposeHeaders.length) h['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) h['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  if (preflight && r.headers.length) h['Access-Control-Allow-Headers'] = r.headers.join(', ');
  return h;
}

export const CORS_VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';
