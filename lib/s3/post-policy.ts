// The POST policy of a browser-based upload: its signature (SigV4 form fields) and its
// conditions against the form fields.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
import { S3Error } from './errors.ts';
import { hmacHex, signaturesEqual } from '../auth/sigv4/crypto.ts';
import { checkScope, parseAmzDate, parseCredential } from '../auth/sigv4/scope.ts';
import { signingKey } from '../auth/sigv4/signing-key.ts';
import type { CredentialLookup, Principal } from '../auth/types.ts';

/** Form fields by lower-case name (POST field names are case-insensitive; values are not). */
export type FormFields = Map<string, string>;

export interface PolicyOutcome {
  principal: Principal | null;
  /** content-length-range, when the policy has one. */
  lengthRange?: { min: number; max: number };
}

// "Each form field that you specify in a form (except x-amz-signature, file, policy, and
// field names that have an x-ignore- prefix) must appear in the list of conditions."
// (AWSAccessKeyId and signature are their Signature Version 2 counterparts.)
const EXEMPT = new Set(['x-amz-signature', 'file', 'policy', 'awsaccesskeyid', 'signature']);

function denied(message: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${message}`);
}

function invalidPolicy(message: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

type Condition =
  | { kind: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { kind: 'range'; min: number; max: number };

function parseConditions(raw: unknown): Condition[] {
  if (!Array.isArray(raw)) throw invalidPolicy('Policy missing conditions.');
  const out: Condition[] = [];
  for (const c of raw) {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      const opName = typeof op === 'string' ? op.toLowerCase() : '';
      if (opName === 'content-length-range') {
        const min = Number(a);
        const max = Number(b);
        if (c.length !== 3 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) {
          throw invalidPolicy(`Invalid content-length-range condition: ${JSON.stringify(c)}`);
        }
        out.push({ kind: 'range', min, max });
        continue;
      }
      if (
        (opName !== 'eq' && opName !== 'starts-with') ||
        c.length !== 3 ||
        typeof a !== 'string' ||
        !a.startsWith('$') ||
        typeof b !== 'string'
      ) {
        throw invalidPolicy(`Invalid Condition: ${JSON.stringify(c)}`);
      }
      out.push({
        kind: opName,
        field: a.slice(1).toLowerCase(),
        value: b,
        text: JSON.stringify(c).replace(/","/g, '", "'),
      });
    } else if (c && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length !== 1 || typeof entries[0]![1] !== 'string')
        throw invalidPolicy(`Invalid Simple-Condition: ${JSON.stringify(c)}`);
      const [field, value] = entries[0] as [string, string];
      out.push({
        kind: 'eq',
        field: field.toLowerCase(),
        value,
        text: `["eq", "$${field}", ${JSON.stringify(value)}]`,
      });
    } else {
      throw invalidPolicy(`Invalid Condition: ${JSON.stringify(c)}`);
    }
  }
  return out;
}

/** Parses the base64 policy and checks expiration and every condition against the fields. */
export function checkPolicy(
  policyBase64: string,
  fields: FormFields,
  bucket: string,
  now: number,
): PolicyOutcome['lengthRange'] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(policyBase64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (!doc || typeof doc !== 'object') throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string') throw invalidPolicy('Policy missing expiration.');
  const expires = Date.parse(expiration);
  if (Number.isNaN(expires) || !/^\d{4}-\d{2}-\d{2}T/.test(expiration))
    throw invalidPolicy(`Invalid 'expiration' value: '${expiration}'`);
  if (expires < now) throw denied('Policy expired.');

  const value = (field: string): string => (field === 'bucket' ? bucket : (fields.get(field) ?? ''));
  let range: PolicyOutcome['lengthRange'];
  const covered = new Set<string>();
  for (const c of parseConditions(conditions)) {
    if (c.kind === 'range') {
      range = { min: c.min, max: c.max };
      continue;
    }
    covered.add(c.field);
    const v = value(c.field);
    const ok = c.kind === 'eq' ? v === c.value : v.startsWith(c.value);
    if (!ok) throw denied(`Policy Condition failed: ${c.text}`);
  }
  const extra = [...fields.keys()].filter((f) => !EXEMPT.has(f) && !f.startsWith('x-ignore-') && !covered.has(f));
  if (extra.length) throw denied(`Extra input fields: ${extra.join(', ')}`);
  return range;
}

function missingField(name: string): S3Error {
  return new S3Error(
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { ArgumentName: name, ArgumentValue: '' },
  );
}

/**
 * Who signed the policy: SigV4 fields (x-amz-algorithm, -credential, -date, -signature,
 * the signature being HMAC-SHA256 of the base64 policy with the signing key), or
 * Signature Version 2 (AWSAccessKeyId, signature: base64 HMAC-SHA1) when `sigv2` is given.
 */
export function policySigner(
  fields: FormFields,
  lookup: CredentialLookup,
  region: string,
  sigv2?: (secret: string, policy: string) => string,
): Principal {
  const policy = fields.get('policy')!;
  const v2Key = fields.get('awsaccesskeyid');
  if (fields.get('x-amz-algorithm') === undefined && v2Key !== undefined && sigv2) {
    const sig = fields.get('signature') ?? '';
    if (sig === '') throw missingField('Signature');
    const cred = lookup(v2Key);
    if (!cred) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: v2Key });
    if (!signaturesEqual(sigv2(cred.secretKey, policy), sig))
      throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: v2Key });
    return { accessKeyId: cred.accessKeyId, ownerId: cred.ownerId, displayName: cred.displayName };
  }
  for (const name of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'])
    if (fields.get(name) === undefined) throw missingField(name);
  if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
    throw new S3Error('InvalidArgument', 'Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm.', {
      ArgumentName: 'x-amz-algorithm',
      ArgumentValue: fields.get('x-amz-algorithm')!,
    });
  }
  const credential = parseCredential(fields.get('x-amz-credential')!);
  const problem = credential ? checkScope(credential, region) : { kind: 'credential' as const };
  if (!credential || problem) {
    throw new S3Error(
      'InvalidArgument',
      problem?.kind === 'region'
        ? `the region '${credential!.region}' is wrong; expecting '${region}'`
        : 'The x-amz-credential field is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
      { ArgumentName: 'x-amz-credential', ArgumentValue: fields.get('x-amz-credential')! },
    );
  }
  const date = fields.get('x-amz-date')!;
  if (parseAmzDate(date) === undefined || date.slice(0, 8) !== credential.date) {
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-date field must be yyyyMMddTHHmmssZ and fall on the credential date.',
      { ArgumentName: 'x-amz-date', ArgumentValue: date },
    );
  }
  const cred = lookup(credential.accessKeyId);
  if (!cred) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: credential.accessKeyId });
  const expected = hmacHex(signingKey(cred.accessKeyId, cred.secretKey, credential.date, credential.region), policy);
  if (!signaturesEqual(expected, fields.get('x-amz-signature')!)) {
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: credential.accessKeyId,
      StringToSign: policy,
    });
  }
  return { accessKeyId: cred.accessKeyId, ownerId: cred.ownerId, displayName: cred.displayName };
}
