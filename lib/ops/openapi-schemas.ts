// The XML bodies of the S3 API as OpenAPI schemas, named as in the shared contract
// (specs/s3-api.openapi.yaml, components.schemas) so the two documents read alike.
type Schema = Record<string, unknown>;

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema => (description ? { type: 'string', description } : { type: 'string' });
const int = (description?: string): Schema => (description ? { type: 'integer', description } : { type: 'integer' });
const bool: Schema = { type: 'boolean' };
const time: Schema = { type: 'string', format: 'date-time' };
/** A root element in the S3 namespace. */
const root = (name: string, properties: Record<string, Schema>, description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  xml: { name, namespace: NS },
  properties,
});
const obj = (properties: Record<string, Schema>, required?: string[]): Schema => ({
  type: 'object',
  properties,
  ...(required ? { required } : {}),
});
/** Repeated sibling elements (`<Contents>…</Contents><Contents>…</Contents>`), no wrapper. */
const repeated = (element: string, item: Schema): Schema => ({
  type: 'array',
  items: { ...item, xml: { name: element } },
});
/** A wrapper element holding repeated children (`<Buckets><Bucket/>…</Buckets>`). */
const wrapped = (element: string, item: Schema): Schema => ({
  type: 'array',
  xml: { wrapped: true },
  items: { ...item, xml: { name: element } },
});

const checksums: Record<string, Schema> = {
  ChecksumCRC32: str(),
  ChecksumCRC32C: str(),
  ChecksumCRC64NVME: str(),
  ChecksumSHA1: str(),
  ChecksumSHA256: str(),
};

export const schemas: Record<string, Schema> = {
  CannedAcl: {
    type: 'string',
    enum: [
      'private',
      'public-read',
      'public-read-write',
      'authenticated-read',
      'bucket-owner-read',
      'bucket-owner-full-control',
    ],
  },
  StorageClass: { type: 'string', enum: ['STANDARD'] },
  Permission: { type: 'string', enum: ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'] },
  Error: root('Error', {
    Code: str('S3 error code, e.g. NoSuchKey.'),
    Message: str(),
    Resource: str(),
    RequestId: str(),
    HostId: str(),
  }),
  Owner: obj({ ID: str(), DisplayName: str() }),
  Initiator: obj({ ID: str(), DisplayName: str() }),
  BucketInfo: obj({ Name: str(), CreationDate: time, BucketRegion: str() }),
  ListAllMyBucketsResult: root('ListAllMyBucketsResult', {
    Owner: ref('Owner'),
    Buckets: wrapped('Bucket', ref('BucketInfo')),
    Prefix: str(),
    ContinuationToken: str(),
  }),
  CreateBucketConfiguration: root('CreateBucketConfiguration', {
    LocationConstraint: str('Region; must match the server region.'),
  }),
  LocationConstraint: {
    type: 'string',
    description: 'Empty for us-east-1.',
    xml: { name: 'LocationConstraint', namespace: NS },
  },
  VersioningConfiguration: root(
    'VersioningConfiguration',
    { Status: { type: 'string', enum: ['Enabled', 'Suspended'] } },
    'Enabled or Suspended; empty for a bucket never versioned. MfaDelete Enabled is NotImplemented.',
  ),
  Grantee: obj({
    ID: str(),
    DisplayName: str(),
    URI: str('Group URI, e.g. http://acs.amazonaws.com/groups/global/AllUsers.'),
    EmailAddress: str(),
    type: {
      type: 'string',
      enum: ['CanonicalUser', 'Group', 'AmazonCustomerByEmail'],
      xml: { attribute: true, prefix: 'xsi', name: 'type' },
    },
  }),
  Grant: obj({ Grantee: ref('Grantee'), Permission: ref('Permission') }),
  AccessControlPolicy: root('AccessControlPolicy', {
    Owner: ref('Owner'),
    AccessControlList: wrapped('Grant', ref('Grant')),
  }),
  ObjectEntry: obj({
    Key: str(),
    LastModified: time,
    ETag: str(),
    Size: int(),
    StorageClass: ref('StorageClass'),
    Owner: ref('Owner'),
    ChecksumAlgorithm: str(),
  }),
  CommonPrefix: obj({ Prefix: str() }),
  ListBucketResult: root(
    'ListBucketResult',
    {
      Name: str(),
      Prefix: str(),
      Marker: str(),
      NextMarker: str(),
      MaxKeys: int(),
      Delimiter: str(),
      IsTruncated: bool,
      EncodingType: str(),
      Contents: repeated('Contents', ref('ObjectEntry')),
      CommonPrefixes: repeated('CommonPrefixes', ref('CommonPrefix')),
    },
    'ListObjects (version 1).',
  ),
  ListBucketResultV2: root(
    'ListBucketResult',
    {
      Name: str(),
      Prefix: str(),
      KeyCount: int(),
      MaxKeys: int(),
      Delimiter: str(),
      IsTruncated: bool,
      ContinuationToken: str(),
      NextContinuationToken: str(),
      StartAfter: str(),
      EncodingType: str(),
      Contents: repeated('Contents', ref('ObjectEntry')),
      CommonPrefixes: repeated('CommonPrefixes', ref('CommonPrefix')),
    },
    'ListObjectsV2.',
  ),
  ObjectVersion: obj({
    Key: str(),
    VersionId: str('Always "null" on this server.'),
    IsLatest: bool,
    LastModified: time,
    ETag: str(),
    Size: int(),
    StorageClass: ref('StorageClass'),
    Owner: ref('Owner'),
  }),
  ListVersionsResult: root('ListVersionsResult', {
    Name: str(),
    Prefix: str(),
    KeyMarker: str(),
    VersionIdMarker: str(),
    NextKeyMarker: str(),
    NextVersionIdMarker: str(),
    MaxKeys: int(),
    Delimiter: str(),
    IsTruncated: bool,
    EncodingType: str(),
    Version: repeated('Version', ref('ObjectVersion')),
    CommonPrefixes: repeated('CommonPrefixes', ref('CommonPrefix')),
  }),
  CopyObjectResult: root('CopyObjectResult', { ETag: str(), LastModified: time, ...checksums }),
  CopyPartResult: root('CopyPartResult', { ETag: str(), LastModified: time, ...checksums }),
  ObjectIdentifier: obj({ Key: str(), VersionId: str() }, ['Key']),
  DeleteObjectsRequest: root(
    'Delete',
    { Quiet: bool, Object: repeated('Object', ref('ObjectIdentifier')) },
    'At most 1000 keys.',
  ),
  DeletedObject: obj({ Key: str(), VersionId: str() }),
  DeleteError: obj({ Key: str(), VersionId: str(), Code: str(), Message: str() }),
  DeleteResult: root('DeleteResult', {
    Deleted: repeated('Deleted', ref('DeletedObject')),
    Error: repeated('Error', ref('DeleteError')),
  }),
  PostResponse: root(
    'PostResponse',
    { Location: str(), Bucket: str(), Key: str(), ETag: str() },
    'The answer to a browser-based upload with success_action_status 201.',
  ),
  CORSRule: obj(
    {
      ID: str(),
      AllowedOrigin: repeated('AllowedOrigin', str()),
      AllowedMethod: repeated('AllowedMethod', { type: 'string', enum: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] }),
      AllowedHeader: repeated('AllowedHeader', str()),
      ExposeHeader: repeated('ExposeHeader', str()),
      MaxAgeSeconds: int(),
    },
    ['AllowedOrigin', 'AllowedMethod'],
  ),
  CORSConfiguration: root(
    'CORSConfiguration',
    { CORSRule: repeated('CORSRule', ref('CORSRule')) },
    'At most 100 rules; the first matching rule answers.',
  ),
  PublicAccessBlockConfiguration: root('PublicAccessBlockConfiguration', {
    BlockPublicAcls: bool,
    IgnorePublicAcls: bool,
    BlockPublicPolicy: bool,
    RestrictPublicBuckets: bool,
  }),
  OwnershipControls: root('OwnershipControls', {
    Rule: obj({
      ObjectOwnership: { type: 'string', enum: ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] },
    }),
  }),
  InitiateMultipartUploadResult: root('InitiateMultipartUploadResult', { Bucket: str(), Key: str(), UploadId: str() }),
  CompletedPart: obj({ PartNumber: int(), ETag: str(), ...checksums }, ['PartNumber', 'ETag']),
  CompleteMultipartUploadRequest: root('CompleteMultipartUpload', { Part: repeated('Part', ref('CompletedPart')) }),
  CompleteMultipartUploadResult: root('CompleteMultipartUploadResult', {
    Location: str(),
    Bucket: str(),
    Key: str(),
    ETag: str(),
    ...checksums,
  }),
  MultipartUploadEntry: obj({
    Key: str(),
    UploadId: str(),
    Initiator: ref('Initiator'),
    Owner: ref('Owner'),
    StorageClass: ref('StorageClass'),
    Initiated: time,
  }),
  ListMultipartUploadsResult: root('ListMultipartUploadsResult', {
    Bucket: str(),
    KeyMarker: str(),
    UploadIdMarker: str(),
    NextKeyMarker: str(),
    NextUploadIdMarker: str(),
    Prefix: str(),
    Delimiter: str(),
    MaxUploads: int(),
    IsTruncated: bool,
    EncodingType: str(),
    Upload: repeated('Upload', ref('MultipartUploadEntry')),
    CommonPrefixes: repeated('CommonPrefixes', ref('CommonPrefix')),
  }),
  PartEntry: obj({ PartNumber: int(), LastModified: time, ETag: str(), Size: int(), ...checksums }),
  ListPartsResult: root('ListPartsResult', {
    Bucket: str(),
    Key: str(),
    UploadId: str(),
    PartNumberMarker: int(),
    NextPartNumberMarker: int(),
    MaxParts: int(),
    IsTruncated: bool,
    Part: repeated('Part', ref('PartEntry')),
    Initiator: ref('Initiator'),
    Owner: ref('Owner'),
    StorageClass: ref('StorageClass'),
  }),
  CheckResult: obj(
    { status: { type: 'string', enum: ['ok', 'error'] }, latency_ms: { type: 'number' }, error: str() },
    ['status'],
  ),
  HealthReport: obj(
    {
      status: { type: 'string', enum: ['ok', 'degraded'] },
      checks: obj({
        metadata: ref('CheckResult'),
        storage: ref('CheckResult'),
        disk: obj(
          {
            status: { type: 'string', enum: ['ok', 'error'] },
            latency_ms: { type: 'number' },
            error: str(),
            free_bytes: int(),
            min_free_bytes: int(),
          },
          ['status'],
        ),
      }),
    },
    ['status'],
  ),
};
