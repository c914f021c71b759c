// One notification as the outbox keeps it: a plain value with everything either format needs,
// stamped when the change committed. Its sequence number (the outbox row's, which in cluster
// mode follows the Raft log) is the event id and the S3 `sequencer`.
import type { EventName } from './names.ts';

export interface BucketEvent {
  seq: number;
  name: EventName;
  /** ISO 8601 with milliseconds, from the proposer's clock. */
  time: string;
  bucket: string;
  key?: string;
  size?: number;
  /** Without quotes, as AWS puts it in `s3.object.eTag`. */
  etag?: string;
  contentType?: string;
  versionId?: string;
  uploadId?: string;
  partNumber?: number;
  region: string;
  requestId: string;
  /** Canonical id of the caller. */
  principal: string;
  /** Canonical id of the bucket's owner. */
  bucketOwner: string;
  sourceIp: string;
}

/** Where one event goes: a target named in the server config, and the bucket rule that chose it. */
export interface EventRoute {
  target: string;
  /** The `<Id>` of the matching bucket notification rule; empty for server-wide targets. */
  configurationId: string;
}

/** Stable across retries and restarts: consumers de-duplicate on it. */
export function eventId(seq: number): string {
  return `evt_${seq.toString(16).padStart(16, '0')}`;
}

/** AWS's sequencer is an opaque hex string that orders events for one key by comparison. */
export function sequencer(seq: number): string {
  return seq.toString(16).toUpperCase().padStart(16, '0');
}
