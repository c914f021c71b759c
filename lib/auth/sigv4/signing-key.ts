// The SigV4 signing key: four chained HMACs from the secret, the date, the region and the
// service. It changes once a day per key, so a small cache saves four HMACs per request.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key
import { hmac } from './crypto.ts';

export function deriveSigningKey(secretKey: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac('AWS4' + secretKey, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

interface Entry {
  secretKey: string;
  key: Buffer;
}

const MAX_ENTRIES = 256;
// Keyed by access key id, date, region and service (never by the secret); an entry whose
// secret no longer matches (the key was rotated) is recomputed.
const cache = new Map<string, Entry>();

export function signingKey(
  accessKeyId: string,
  secretKey: string,
  date: string,
  region: string,
  service = 's3',
): Buffer {
  const id = `${accessKeyId}\n${date}\n${region}\n${service}`;
  const hit = cache.get(id);
  if (hit && hit.secretKey === secretKey) return hit.key;
  const key = deriveSigningKey(secretKey, date, region, service);
  cache.delete(id);
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(id, { secretKey, key });
  return key;
}

/** For tests. */
export function clearSigningKeyCache(): void {
  cache.clear();
}
