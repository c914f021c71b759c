// The few primitives SigV4 is built from: HMAC-SHA256, SHA-256 in hex, and a constant-time
// comparison of signatures.
import { createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function hmac(key: string | Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

// HMAC with a raw Buffer key re-imports the key on every call (~16 µs on Node 24); a
// KeyObject made once per (cached) signing key costs ~3 µs per HMAC.
const keyObjects = new WeakMap<Buffer, KeyObject>();

export function hmacHex(key: Buffer, data: string): string {
  let k = keyObjects.get(key);
  if (!k) {
    k = createSecretKey(key);
    keyObjects.set(key, k);
  }
  return createHmac('sha256', k).update(data).digest('hex');
}

/** One-shot (crypto.hash): no Hash object per call, 0.43 vs 0.87 µs for a canonical request. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/**
 * Compares two signatures without leaking, through timing, how many leading characters
 * match. Lengths are public (a valid signature is always 64 hex characters).
 */
export function signaturesEqual(expected: string, provided: string): boolean {
  if (expected.length !== provided.length) return false;
  return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(provided, 'latin1'));
}
