// Bucket changes made outside an S3 request (embedding's `buckets: [...]`, `bleepstore
// bucket create|allow`), with the same rules as CreateBucket and PutBucketAcl.
import type { MetadataStore } from '../metadata/sqlite.ts';
import { bucketNameProblem } from '../s3/bucket.ts';
import { cannedAcl, type Owner } from '../s3/acl.ts';
import type { Acl } from '../metadata/types.ts';

export class BucketOpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BucketOpError';
  }
}

/** Creates `name` owned by `owner` (private ACL); false when that owner already has it. */
export async function createOwnedBucket(
  metadata: MetadataStore,
  name: string,
  owner: Owner,
  region: string,
): Promise<boolean> {
  const problem = bucketNameProblem(name);
  if (problem) throw new BucketOpError(`Bucket name "${name}" is not valid: ${problem}`);
  const r = await metadata.submit({
    type: 'bucket.create',
    bucket: {
      name,
      region,
      ownerId: owner.id,
      ownerDisplay: owner.display_name,
      acl: cannedAcl('private', owner),
      createdAt: new Date().toISOString(),
    },
  });
  if (!r.created && r.existing.ownerId !== owner.id)
    throw new BucketOpError(
      `Bucket "${name}" already exists and belongs to ${r.existing.ownerDisplay || r.existing.ownerId}.`,
    );
  return r.created;
}

/** Adds grants for `grantee` (a canonical id) to a bucket's ACL; grants it already has stay. */
export async function grantOnBucket(
  metadata: MetadataStore,
  name: string,
  grantee: Owner,
  permissions: readonly ('READ' | 'WRITE')[],
): Promise<Acl> {
  const bucket = metadata.getBucket(name);
  if (!bucket) throw new BucketOpError(`No bucket named "${name}".`);
  const acl = structuredClone(bucket.acl);
  for (const permission of permissions) {
    const has = acl.grants.some(
      (g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === grantee.id && g.permission === permission,
    );
    if (!has)
      acl.grants.push({
        grantee: { type: 'CanonicalUser', id: grantee.id, display_name: grantee.display_name },
        permission,
      });
  }
  if (!(await metadata.submit({ type: 'bucket.acl', name, acl })))
    throw new BucketOpError(`No bucket named "${name}".`);
  return acl;
}
