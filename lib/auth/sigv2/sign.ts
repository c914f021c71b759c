// AWS Signature Version 2: the string to sign and its HMAC-SHA1, for older tools (s3cmd
// with signature_v2, old SDKs, `s3cmd signurl`).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
import { createHmac } from 'node:crypto';
import { parseQuery } from '../sigv4/encode.ts';

/** base64(HMAC-SHA1(secret, data)). */
export function sigv2Sign(secret: string, data: string): string {
  return createHmac('sha1', secret).update(data, 'utf8').digest('base64');
}

// Sub-resources that are part of CanonicalizedResource (the list botocore and s3cmd sign).
const SUBRESOURCES = new Set([
  'accelerate',
  'acl',
  'cors',
  'defaultObjectAcl',
  'location',
  'logging',
  'partNumber',
  'policy',
  'requestPayment',
  'torrent',
  'versioning',
  'versionId',
  'versions',
  'website',
  'uploads',
  'uploadId',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'delete',
  'lifecycle',
  'tagging',
  'restore',
  'storageClass',
  'notification',
  'replication',
  'analytics',
  'metrics',
  'inventory',
  'select',
  'select-type',
  'object-lock',
  'legal-hold',
  'retention',
]);

/** The path as sent (with /bucket in front for virtual-hosted requests), then the sub-resources. */
export function canonicalResource(rawPath: string, rawQuery: string, virtualBucket?: string): string {
  let out = (virtualBucket ? `/${virtualBucket}` : '') + rawPath;
  const subs = parseQuery(rawQuery).filter((p) => SUBRESOURCES.has(p.name));
  if (subs.length) {
    subs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Values go in decoded, as botocore's HmacV1Auth puts them.
    out += '?' + subs.map((p) => (p.value === '' ? p.name : `${p.name}=${p.value}`)).join('&');
  }
  return out;
}

/** x-amz-* headers: lower-case names, sorted, values trimmed, repeats joined by ','. */
export function canonicalAmzHeaders(headers: Record<string, string | string[] | undefined>): string {
  const names = Object.keys(headers)
    .filter((n) => n.toLowerCase().startsWith('x-amz-'))
    .sort();
  return names
    .map((n) => {
      const v = headers[n];
      const value = (Array.isArray(v) ? v : [v ?? '']).map((x) => x.replace(/\s*\r?\n\s*/g, ' ').trim()).join(',');
      return `${n.toLowerCase()}:${value}\n`;
    })
    .join('');
}

export interface StringToSignInput {
  method: string;
  contentMd5: string;
  contentType: string;
  /** The Date header (empty when x-amz-date is sent), or Expires for a presigned URL. */
  date: string;
  amzHeaders: string;
  resource: string;
}

export function stringToSign(i: StringToSignInput): string {
  return `${i.method}\n${i.contentMd5}\n${i.contentType}\n${i.date}\n${i.amzHeaders}${i.resource}`;
}
