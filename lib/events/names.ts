// Event names: the AWS S3 notification names (s3:ObjectCreated:Put, ...) and BleepStore's own
// for changes AWS does not notify (bucket created, ACL of a bucket, multipart life cycle).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html

export const AWS_EVENT_NAMES = [
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectAcl:Put',
  's3:ObjectTagging:Put',
  's3:ObjectTagging:Delete',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
] as const;

export const BLEEPSTORE_EVENT_NAMES = [
  'bleepstore:BucketCreated',
  'bleepstore:BucketRemoved',
  'bleepstore:BucketAcl:Put',
  'bleepstore:MultipartUpload:Create',
  'bleepstore:MultipartUpload:Abort',
  'bleepstore:Part:Put',
] as const;

export type AwsEventName = (typeof AWS_EVENT_NAMES)[number];
export type EventName = AwsEventName | (typeof BLEEPSTORE_EVENT_NAMES)[number];

/** The dot-separated type of shared/specs/event-queues.md for each name. */
export const SPEC_TYPE: Record<EventName, string> = {
  's3:ObjectCreated:Put': 'object.created',
  's3:ObjectCreated:Post': 'object.created',
  's3:ObjectCreated:Copy': 'object.created',
  // The spec also lists multipart.completed; the new object is what consumers of
  // object.created need, so Complete is one object.created event carrying upload_id.
  's3:ObjectCreated:CompleteMultipartUpload': 'object.created',
  's3:ObjectRemoved:Delete': 'object.deleted',
  's3:ObjectRemoved:DeleteMarkerCreated': 'object.deleted',
  's3:ObjectAcl:Put': 'object.acl.updated',
  's3:ObjectTagging:Put': 'object.tagging.updated',
  's3:ObjectTagging:Delete': 'object.tagging.updated',
  's3:LifecycleExpiration:Delete': 'object.deleted',
  's3:LifecycleExpiration:DeleteMarkerCreated': 'object.deleted',
  'bleepstore:BucketCreated': 'bucket.created',
  'bleepstore:BucketRemoved': 'bucket.deleted',
  'bleepstore:BucketAcl:Put': 'bucket.acl.updated',
  'bleepstore:MultipartUpload:Create': 'multipart.created',
  'bleepstore:MultipartUpload:Abort': 'multipart.aborted',
  'bleepstore:Part:Put': 'part.uploaded',
};

export function isAwsEventName(name: string): name is AwsEventName {
  return (AWS_EVENT_NAMES as readonly string[]).includes(name);
}

/**
 * Whether a configured event pattern (`s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`, `*`)
 * covers a name. AWS allows the wildcard only as the last part.
 */
export function eventMatches(pattern: string, name: EventName): boolean {
  if (pattern === '*' || pattern === name) return true;
  return pattern.endsWith(':*') && name.startsWith(pattern.slice(0, -1));
}

/** A pattern AWS would accept: a known name, or a known prefix followed by `*`. */
export function isValidEventPattern(pattern: string): boolean {
  if (isAwsEventName(pattern)) return true;
  if (!pattern.endsWith(':*')) return false;
  const prefix = pattern.slice(0, -1);
  return AWS_EVENT_NAMES.some((n) => n.startsWith(prefix));
}
