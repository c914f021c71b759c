// Canonical user ids: 64 hex characters, as AWS's look, derived from the access key so the
// same key always maps to the same owner.
import { createHash } from 'node:crypto';

export function ownerIdFor(accessKeyId: string): string {
  return createHash('sha256').update(`bleepstore-owner:${accessKeyId}`).digest('hex');
}
