// The two message formats a target can be given.
// - 'aws': the S3 event notification structure, so existing Lambda/SQS consumers work
//   https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
// - 'bleepstore': the envelope of shared/specs/event-queues.md ("Event Envelope").
import { type BucketEvent, eventId, sequencer } from './event.ts';
import { SPEC_TYPE } from './names.ts';

export type EventFormat = 'aws' | 'bleepstore';

/** AWS URL-encodes keys in notifications the way HTML forms do (a space becomes '+'). */
export function awsEncodeKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function awsRecord(e: BucketEvent, configurationId: string): Record<string, unknown> {
  const object: Record<string, unknown> = { key: awsEncodeKey(e.key ?? '') };
  if (e.size !== undefined) object.size = e.size;
  if (e.etag !== undefined) object.eTag = e.etag;
  if (e.versionId !== undefined) object.versionId = e.versionId;
  object.sequencer = sequencer(e.seq);
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: e.region,
    eventTime: e.time,
    // In the message the name carries no "s3:" prefix.
    eventName: e.name.startsWith('s3:') ? e.name.slice(3) : e.name,
    userIdentity: { principalId: e.principal },
    requestParameters: { sourceIPAddress: e.sourceIp },
    responseElements: { 'x-amz-request-id': e.requestId, 'x-amz-id-2': eventId(e.seq) },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId,
      bucket: { name: e.bucket, ownerIdentity: { principalId: e.bucketOwner }, arn: `arn:aws:s3:::${e.bucket}` },
      object,
    },
  };
}

export function specEnvelope(e: BucketEvent, source: string): Record<string, unknown> {
  const data: Record<string, unknown> = { bucket: e.bucket };
  if (e.key !== undefined) data.key = e.key;
  if (e.size !== undefined) data.size = e.size;
  if (e.etag !== undefined) data.etag = `"${e.etag}"`;
  if (e.contentType !== undefined) data.content_type = e.contentType;
  if (e.versionId !== undefined) data.version_id = e.versionId;
  if (e.uploadId !== undefined) data.upload_id = e.uploadId;
  if (e.partNumber !== undefined) data.part_number = e.partNumber;
  data.s3_event = e.name;
  return { id: eventId(e.seq), type: SPEC_TYPE[e.name], timestamp: e.time, source, request_id: e.requestId, data };
}

/** The message body a target publishes for one event. */
export function render(e: BucketEvent, format: EventFormat, configurationId: string, source: string): string {
  return JSON.stringify(format === 'aws' ? { Records: [awsRecord(e, configurationId)] } : specEnvelope(e, source));
}
