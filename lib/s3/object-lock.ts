// Object Lock: who may bypass GOVERNANCE retention. The refusals themselves are decided in the
// metadata transaction (lib/metadata/apply.ts), so every path that removes a version obeys them.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
import type { Ctx } from './context.ts';
import type { BucketRow } from '../metadata/types.ts';

/**
 * x-amz-bypass-governance-retention: true counts only for the bucket owner, the one caller
 * this server grants s3:BypassGovernanceRetention (there are no bucket policies here).
 */
export function mayBypassGovernance(ctx: Ctx, bucket: BucketRow): boolean {
  return (
    ctx.header('x-amz-bypass-governance-retention')?.trim().toLowerCase() === 'true' &&
    ctx.principal?.ownerId === bucket.ownerId
  );
}
