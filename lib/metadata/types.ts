// Rows and shapes the metadata store hands out. Field names are camelCase; columns follow
// specs/metadata-schema.md plus what the id layout and checksums need.

export type Permission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';
export type Grantee = { type: 'CanonicalUser'; id: string; display_name?: string } | { type: 'Group'; uri: string };
export interface Grant {
  grantee: Grantee;
  permission: Permission;
}
export interface Acl {
  owner: { id: string; display_name: string };
  grants: Grant[];
}

export interface BucketRow {
  name: string;
  region: string;
  ownerId: string;
  ownerDisplay: string;
  acl: Acl;
  createdAt: string;
  /** Sub-resource configurations (null when not set); see BucketConfigs. */
  cors?: CorsRule[] | null;
  publicAccessBlock?: PublicAccessBlock | null;
  ownership?: ObjectOwnership | null;
  versioning?: VersioningStatus | null;
  tagging?: Tag[] | null;
  objectLock?: ObjectLockConfig | null;
  lifecycle?: LifecycleRule[] | null;
  /** The bucket policy's JSON text, as PutBucketPolicy stored it. */
  policy?: string | null;
}

/**
 * One lifecycle rule (https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html):
 * which objects (prefix, tags, size bounds) and what happens to them.
 */
export interface LifecycleRule {
  id: string;
  enabled: boolean;
  prefix: string;
  tags: Tag[];
  sizeGreaterThan: number | null;
  sizeLessThan: number | null;
  expiration: { days: number } | { date: string } | { expiredObjectDeleteMarker: true } | null;
  noncurrentExpiration: { days: number; newerNoncurrentVersions: number } | null;
  abortIncompleteUploadDays: number | null;
  /** Transition / NoncurrentVersionTransition actions: kept and given back, never acted on
   *  (one storage tier). Absent in rules stored before they were kept. */
  transitions?: LifecycleTransition[];
  noncurrentTransitions?: LifecycleTransition[];
}

/** `days` (NoncurrentDays for a noncurrent transition) or `date`, and the class to move to. */
export interface LifecycleTransition {
  days?: number;
  date?: string;
  newerNoncurrentVersions?: number;
  storageClass: string;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_VersioningConfiguration.html (null: never enabled). */
export type VersioningStatus = 'Enabled' | 'Suspended';

export interface Tag {
  key: string;
  value: string;
}

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';
/** One version's retention: protected until `until` (ISO time). */
export interface Retention {
  mode: RetentionMode;
  until: string;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectLockConfiguration.html */
export interface ObjectLockConfig {
  /** The default retention new versions get, when set. */
  rule: { mode: RetentionMode; days?: number; years?: number } | null;
}

/** One CORSRule (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CORSRule.html). */
export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html */
export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_OwnershipControlsRule.html */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

/** The bucket columns holding one JSON sub-resource configuration each. */
export interface BucketConfigs {
  cors: CorsRule[];
  public_access_block: PublicAccessBlock;
  ownership: ObjectOwnership;
  versioning: VersioningStatus;
  tagging: Tag[];
  object_lock: ObjectLockConfig;
  lifecycle: LifecycleRule[];
  policy: string;
}

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** Base64 value; for a composite multipart checksum it ends in -N. */
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

/** Content headers stored with an object and returned on GET/HEAD. */
export interface ContentHeaders {
  contentType: string;
  contentEncoding: string | null;
  contentLanguage: string | null;
  contentDisposition: string | null;
  cacheControl: string | null;
  expires: string | null;
}

export interface ObjectRow extends ContentHeaders {
  bucket: string;
  key: string;
  /** Storage file id; the backend maps it to bytes. '' when the bytes are `inline`. */
  fileId: string;
  /** The whole object, for small objects kept in the metadata row. */
  inline: Buffer | null;
  size: number;
  /** Quoted ETag. */
  etag: string;
  storageClass: string;
  acl: Acl;
  /** Lower-case names without the x-amz-meta- prefix. */
  userMetadata: Record<string, string>;
  lastModified: string;
  checksum: StoredChecksum | null;
  /** Number of parts for multipart objects, else null. */
  partsCount: number | null;
  /** Byte size of each part of a multipart object, in part order (absent for others). */
  partSizes?: number[] | null;
  ownerId: string;
  ownerDisplay: string;
  /** The version id; null (or absent) is the null version. */
  versionId?: string | null;
  /** Set only on rows read by version: a delete marker has no bytes. */
  deleteMarker?: boolean;
  tags?: Tag[] | null;
  retention?: Retention | null;
  legalHold?: boolean;
}

/** A listing entry: the columns ListObjects needs, nothing more. */
export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  storageClass: string;
  ownerId: string;
  ownerDisplay: string;
}

/** A ListObjectVersions entry: a version or a delete marker. */
export interface ListedVersion extends ListedObject {
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
}

export interface CredentialRow {
  accessKeyId: string;
  secretKey: string;
  ownerId: string;
  displayName: string;
  active: boolean;
  createdAt: string;
}

/** Preconditions checked inside the write transaction (RFC 7232 on PUT). */
export interface WriteCondition {
  ifNoneMatchStar?: boolean;
  /** Quoted ETag, or '*'. */
  ifMatch?: string;
}

/**
 * Conditional delete (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html):
 * decided against the version being removed (the current one without a version id).
 */
export interface DeleteCondition {
  /** Quoted ETag, or '*' (the object must exist). */
  ifMatch?: string;
  /** x-amz-if-match-last-modified-time, in whole epoch seconds. */
  lastModifiedSeconds?: number;
  /** x-amz-if-match-size. */
  size?: number;
}

export interface UploadRow extends ContentHeaders {
  uploadId: string;
  bucket: string;
  key: string;
  storageClass: string;
  acl: Acl;
  userMetadata: Record<string, string>;
  ownerId: string;
  ownerDisplay: string;
  initiatedAt: string;
  checksumAlgorithm: ChecksumAlgorithm | null;
  checksumType: 'COMPOSITE' | 'FULL_OBJECT' | null;
  tags?: Tag[] | null;
  retention?: Retention | null;
  legalHold?: boolean;
}

export interface PartRow {
  partNumber: number;
  fileId: string;
  size: number;
  etag: string;
  lastModified: string;
  checksumValue: string | null;
}

/** Per-bucket totals kept up to date by the change hook (bucket_stats). */
export interface StoreStats {
  buckets: number;
  objects: number;
  bytes: number;
}

export type KeyInfo = Omit<CredentialRow, 'secretKey'>;
