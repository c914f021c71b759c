// What the router makes of a request: the S3 operation and the resource it addresses. Every
// operation is named here once with the resource it works on; lib/s3/operations.ts must then
// declare it (route, permission, handler, event), or type-checking fails.

/** The fields each kind of resource brings to an Endpoint. */
export interface ResourceFields {
  service: Record<never, never>;
  bucket: { bucket: string };
  /** `versionId` is the raw ?versionId value (null when absent); only "null" ever exists here. */
  object: { bucket: string; key: string; versionId: string | null };
  upload: { bucket: string; key: string; versionId: string | null; uploadId: string };
  part: { bucket: string; key: string; versionId: string | null; uploadId: string; partNumber: number };
}
export type Resource = keyof ResourceFields;

/** Operation → the resource it addresses. Add an operation here, then in OPERATION_TABLE. */
export interface OperationResources {
  ListBuckets: 'service';
  CreateBucket: 'bucket';
  DeleteBucket: 'bucket';
  HeadBucket: 'bucket';
  GetBucketLocation: 'bucket';
  GetBucketAcl: 'bucket';
  PutBucketAcl: 'bucket';
  GetBucketVersioning: 'bucket';
  PutBucketVersioning: 'bucket';
  GetBucketTagging: 'bucket';
  PutBucketTagging: 'bucket';
  DeleteBucketTagging: 'bucket';
  GetObjectTagging: 'object';
  PutObjectTagging: 'object';
  DeleteObjectTagging: 'object';
  GetObjectLockConfiguration: 'bucket';
  PutObjectLockConfiguration: 'bucket';
  GetObjectRetention: 'object';
  PutObjectRetention: 'object';
  GetObjectLegalHold: 'object';
  PutObjectLegalHold: 'object';
  GetObjectAttributes: 'object';
  GetBucketLifecycleConfiguration: 'bucket';
  PutBucketLifecycleConfiguration: 'bucket';
  DeleteBucketLifecycle: 'bucket';
  ListObjects: 'bucket';
  ListObjectsV2: 'bucket';
  ListObjectVersions: 'bucket';
  DeleteObjects: 'bucket';
  ListMultipartUploads: 'bucket';
  GetObject: 'object';
  HeadObject: 'object';
  PutObject: 'object';
  CopyObject: 'object';
  DeleteObject: 'object';
  GetObjectAcl: 'object';
  PutObjectAcl: 'object';
  CreateMultipartUpload: 'object';
  CompleteMultipartUpload: 'upload';
  AbortMultipartUpload: 'upload';
  ListParts: 'upload';
  UploadPart: 'part';
  UploadPartCopy: 'part';
  GetBucketCors: 'bucket';
  GetBucketNotificationConfiguration: 'bucket';
  PutBucketNotificationConfiguration: 'bucket';
  PutBucketCors: 'bucket';
  DeleteBucketCors: 'bucket';
  PreflightCors: 'bucket';
  GetBucketPolicy: 'bucket';
  PutBucketPolicy: 'bucket';
  DeleteBucketPolicy: 'bucket';
  GetBucketPolicyStatus: 'bucket';
  GetPublicAccessBlock: 'bucket';
  PutPublicAccessBlock: 'bucket';
  DeletePublicAccessBlock: 'bucket';
  GetBucketOwnershipControls: 'bucket';
  PutBucketOwnershipControls: 'bucket';
  DeleteBucketOwnershipControls: 'bucket';
  PostObject: 'bucket';
}

export type OperationName = keyof OperationResources;

interface Common {
  query: URLSearchParams;
  style: 'path' | 'virtual';
}

/** The Endpoint of one operation. */
export type EndpointOf<K extends OperationName> = { op: K } & ResourceFields[OperationResources[K]] & Common;

export type Endpoint = { [K in OperationName]: EndpointOf<K> }[OperationName];

/** Endpoints that address a bucket, an object, an upload. */
export type BucketEndpoint = Endpoint & { bucket: string };
export type ObjectEndpoint = Endpoint & ResourceFields['object'];
export type UploadEndpoint = Endpoint & ResourceFields['upload'];
export type PartEndpoint = Endpoint & ResourceFields['part'];
