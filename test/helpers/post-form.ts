// Builds browser-upload forms the way AWS's "Example: Browser-Based Upload using HTTP POST
// (Using AWS Signature Version 4)" does: a base64 JSON policy and its SigV4 signature
// (HMAC-SHA256 with the signing key), computed here independently of lib/.
import { createHmac } from 'node:crypto';
import { ACCESS_KEY, REGION, SECRET_KEY } from './server.ts';
import { signingKeyFor } from './signer.ts';

export type Condition = Record<string, string> | [string, string | number, string | number];

export interface PostFormOptions {
  conditions: Condition[];
  /** Seconds from now; negative for an expired policy. */
  expiresIn?: number;
  secretKey?: string;
  date?: Date;
}

/** The policy and SigV4 fields; the caller adds them (and its own fields) to a form. */
export function signedPolicyFields(o: PostFormOptions): Record<string, string> {
  const date = o.date ?? new Date();
  const amzDate = date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const credential = `${ACCESS_KEY}/${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const fields = { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate };
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(date.getTime() + (o.expiresIn ?? 600) * 1000).toISOString(),
      conditions: [...o.conditions, ...Object.entries(fields).map(([k, v]) => ({ [k]: v }))],
    }),
  ).toString('base64');
  const key = signingKeyFor(o.secretKey ?? SECRET_KEY, amzDate.slice(0, 8), REGION);
  return { ...fields, policy, 'x-amz-signature': createHmac('sha256', key).update(policy).digest('hex') };
}

/** Signature Version 2 form fields: AWSAccessKeyId, policy, signature (base64 HMAC-SHA1). */
export function sigv2PolicyFields(conditions: Condition[], expiresIn = 600): Record<string, string> {
  const policy = Buffer.from(
    JSON.stringify({ expiration: new Date(Date.now() + expiresIn * 1000).toISOString(), conditions }),
  ).toString('base64');
  return {
    AWSAccessKeyId: ACCESS_KEY,
    policy,
    signature: createHmac('sha1', SECRET_KEY).update(policy).digest('base64'),
  };
}

/** A FormData with the fields in order and the file last. */
export function form(
  fields: Record<string, string>,
  file: { name: string; body: Buffer | string; type?: string } | null,
): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (file) fd.append('file', new Blob([file.body], { type: file.type ?? 'application/octet-stream' }), file.name);
  return fd;
}
