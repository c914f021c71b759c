// Endpoint → handler. The switch is exhaustive: a new operation in the router's union
// fails type-checking here until it has a handler.
import type { Ctx } from './context.ts';
import * as bucket from './bucket.ts';
import * as acl from './acl-handlers.ts';
import { putObject } from './put.ts';
import { getObject } from './get.ts';
import { deleteObject, deleteObjects } from './delete.ts';
import { copyObject } from './copy.ts';
import { listObjects, listObjectVersions } from './list.ts';
import * as mpu from './multipart.ts';
import { completeMultipartUpload } from './multipart-complete.ts';
import * as cors from './cors.ts';
import * as controls from './bucket-controls.ts';
import { postObject } from './post-object.ts';

export async function dispatch(ctx: Ctx): Promise<void> {
  const e = ctx.endpoint;
  switch (e.op) {
    case 'ListBuckets': return bucket.listBuckets(ctx);
    case 'CreateBucket': return bucket.createBucket(ctx, e);
    case 'DeleteBucket': return bucket.deleteBucket(ctx, e);
    case 'HeadBucket': return bucket.headBucket(ctx, e);
    case 'GetBucketLocation': return bucket.getBucketLocation(ctx, e);
    case 'GetBucketVersioning': return bucket.getBucketVersioning(ctx, e);
    case 'GetBucketAcl': return acl.getBucketAcl(ctx, e);
    case 'PutBucketAcl': return acl.putBucketAcl(ctx, e);
    case 'ListObjects': return listObjects(ctx, e, 1);
    case 'ListObjectsV2': return listObjects(ctx, e, 2);
    case 'ListObjectVersions': return listObjectVersions(ctx, e);
    case 'DeleteObjects': return deleteObjects(ctx, e);
    case 'GetObject': return getObject(ctx, e, true);
    case 'HeadObject': return getObject(ctx, e, false);
    case 'PutObject': return putObject(ctx, e);
    case 'CopyObject': return copyObject(ctx, e);
    case 'DeleteObject': return deleteObject(ctx, e);
    case 'GetObjectAcl': return acl.getObjectAcl(ctx, e);
    case 'PutObjectAcl': return acl.putObjectAcl(ctx, e);
    case 'ListMultipartUploads': return mpu.listMultipartUploads(ctx, e);
    case 'CreateMultipartUpload': return mpu.createMultipartUpload(ctx, e);
    case 'CompleteMultipartUpload': return completeMultipartUpload(ctx, e);
    case 'AbortMultipartUpload': return mpu.abortMultipartUpload(ctx, e);
    case 'ListParts': return mpu.listParts(ctx, e);
    case 'UploadPart': return mpu.uploadPart(ctx, e);
    case 'UploadPartCopy': return mpu.uploadPartCopy(ctx, e);
    case 'GetBucketCors': return cors.getBucketCors(ctx, e);
    case 'PutBucketCors': return cors.putBucketCors(ctx, e);
    case 'DeleteBucketCors': return cors.deleteBucketCors(ctx, e);
    case 'PreflightCors': return cors.preflight(ctx, e);
    case 'GetPublicAccessBlock': return controls.getPublicAccessBlock(ctx, e);
    case 'PutPublicAccessBlock': return controls.putPublicAccessBlock(ctx, e);
    case 'DeletePublicAccessBlock': return controls.deletePublicAccessBlock(ctx, e);
    case 'GetBucketOwnershipControls': return controls.getBucketOwnershipControls(ctx, e);
    case 'PutBucketOwnershipControls': return controls.putBucketOwnershipControls(ctx, e);
    case 'DeleteBucketOwnershipControls': return controls.deleteBucketOwnershipControls(ctx, e);
    case 'PostObject': return postObject(ctx, e);
    default: {
      const unreachable: never = e;
      throw new Error(`unhandled operation ${JSON.stringify(unreachable)}`);
    }
  }
}
