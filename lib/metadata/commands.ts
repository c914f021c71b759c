// Every change to the metadata is one of these values. A command is plain JSON (bytes as
// base64) and carries everything its effect depends on: timestamps, ids, secrets, owners are
// chosen by whoever proposes it, never by apply(). So the same commands applied in the same
// order to an empty database give the same state on every machine: what a replicated log
// (Raft, §5.3 "log matching") needs from its state machine.
import type { NotificationRule } from '../events/notification-config.ts';
import type { TableName } from './export-format.ts';
import type {
  Acl,
  BucketConfigs,
  BucketRow,
  CredentialRow,
  DeleteCondition,
  KeyInfo,
  ObjectRow,
  PartRow,
  Retention,
  Tag,
  UploadRow,
  WriteCondition,
} from './types.ts';

/** Binary data inside a command: base64 text. */
export type Bytes = string;

/**
 * Inline object bytes inside a command, as they are: a command that stays in this process (or
 * is posted to another of its threads, which makes this a plain `{ bytes }`) never encodes
 * them; written as JSON (the Raft log, a forwarded write, a queued task, a recording) they
 * become base64 text through toJSON. A 64 KiB PUT paid a base64 encode and decode of its body.
 */
export class InlineBytes {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  toJSON(): Bytes | { $bytes: number } {
    if (bytesApart) return { $bytes: bytesApart.push(this.bytes) - 1 };
    const b = this.bytes;
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  }
}

/** While jsonBytesApart runs: where InlineBytes.toJSON puts its bytes instead of base64. */
let bytesApart: Uint8Array[] | undefined;

/** JSON of `value` with each InlineBytes written as `{"$bytes": n}`, n indexing `bytes`
 *  (lib/cluster/command-codec.ts carries those bytes raw beside the JSON). */
export function jsonBytesApart(value: unknown): { json: string; bytes: Uint8Array[] } {
  const bytes: Uint8Array[] = [];
  bytesApart = bytes;
  try {
    return { json: JSON.stringify(value), bytes };
  } finally {
    bytesApart = undefined;
  }
}

/** An object row as a command carries it: the inline bytes as InlineBytes, or base64 text after JSON. */
export type ObjectRecord = Omit<ObjectRow, 'inline'> & { inline: Bytes | { readonly bytes: Uint8Array } | null };

export type ImportMode = 'merge' | 'replace';
export interface ImportedRecord {
  table: TableName;
  line: number;
  record: unknown;
}
export interface Owner {
  id: string;
  display_name: string;
}

export type Command =
  | {
      type: 'credential.seed';
      accessKeyId: string;
      secretKey: string;
      ownerId: string;
      displayName: string;
      at: string;
    }
  | {
      type: 'credential.create';
      accessKeyId: string;
      secretKey: string;
      owner: { id: string; displayName: string } | { of: string };
      at: string;
    }
  | { type: 'credential.rotate'; accessKeyId: string; secretKey: string }
  | { type: 'credential.delete'; accessKeyId: string }
  | { type: 'credential.status'; accessKeyId: string; active: boolean }
  | { type: 'bucket.create'; bucket: BucketRow; event?: EventStamp | undefined }
  | { type: 'bucket.delete'; name: string; event?: EventStamp | undefined }
  | { type: 'bucket.acl'; name: string; acl: Acl; event?: EventStamp | undefined }
  /** Replaces a bucket's notification rules; an empty list removes the configuration. */
  | { type: 'bucket.notifications'; name: string; rules: NotificationRule[] }
  /** Sets (value null: removes) one sub-resource configuration: CORS, PublicAccessBlock, ownership. */
  | {
      [K in keyof BucketConfigs]: { type: 'bucket.config'; name: string; column: K; value: BucketConfigs[K] | null };
    }[keyof BucketConfigs]
  | {
      type: 'object.put';
      object: ObjectRecord;
      cond?: WriteCondition | undefined;
      at: string;
      event?: EventStamp | undefined;
    }
  | {
      type: 'object.delete';
      bucket: string;
      key: string;
      at: string;
      cond?: DeleteCondition | undefined;
      event?: EventStamp | undefined;
    }
  | { type: 'objects.delete'; bucket: string; keys: string[]; at: string; event?: EventStamp | undefined }
  | {
      type: 'object.acl';
      bucket: string;
      key: string;
      acl: Acl;
      /** A version ('null': the null version); absent: the current one. */
      versionId?: string | undefined;
      event?: EventStamp | undefined;
    }
  /**
   * DeleteObject without a version id on a versioned bucket: the current version becomes
   * noncurrent and a delete marker with `markerId` (null: the null version, which replaces any
   * other null version, as on a suspended bucket) becomes the latest.
   */
  | {
      type: 'marker.put';
      bucket: string;
      key: string;
      markerId: string | null;
      owner: { id: string; displayName: string };
      at: string;
      cond?: DeleteCondition | undefined;
      event?: EventStamp | undefined;
    }
  /** DeleteObject with a version id: that version (or delete marker) goes for good, unless locked. */
  | {
      type: 'version.delete';
      bucket: string;
      key: string;
      versionId: string;
      /** x-amz-bypass-governance-retention from a caller allowed to use it. */
      bypassGovernance: boolean;
      at: string;
      cond?: DeleteCondition | undefined;
      event?: EventStamp | undefined;
    }
  /** Sets one version's tags, retention or legal hold (version null: the current version). */
  | {
      type: 'version.set';
      bucket: string;
      key: string;
      versionId: string | null;
      set: { tags: Tag[] | null } | { retention: Retention | null; bypassGovernance: boolean } | { legalHold: boolean };
      at: string;
      event?: EventStamp | undefined;
    }
  | { type: 'upload.create'; upload: UploadRow }
  | { type: 'upload.part'; uploadId: string; part: PartRow; at: string }
  | { type: 'upload.abort'; uploadId: string; at: string }
  | {
      type: 'upload.complete';
      uploadId: string;
      object: ObjectRecord;
      cond?: WriteCondition | undefined;
      at: string;
      event?: EventStamp | undefined;
    }
  | { type: 'uploads.reap'; cutoff: string; at: string }
  /** Async consistency: a write accepted (202) as a pending task (lib/events/write-tasks.ts). */
  | { type: 'task.queue'; id: string; command: TaskCommand; fileId: string | null; at: string }
  /** Applies a pending task's command and marks it done, as one change; a done task is a no-op. */
  | { type: 'task.run'; id: string; command: TaskCommand; at: string; event?: EventStamp | undefined }
  | { type: 'task.fail'; id: string; code: string; message: string; at: string }
  /** Forgets finished tasks finished before `before` (their status is no longer answered). */
  | { type: 'tasks.prune'; before: string }
  | { type: 'gc.done'; fileIds: string[] }
  /** A target confirmed these events: their outbox rows go. */
  | { type: 'outbox.delivered'; target: string; seqs: number[] }
  /** A target has been unreachable long enough that only its newest `keep` rows stay. */
  | { type: 'outbox.trim'; target: string; keep: number }
  /** At start: rows of targets no longer configured go (nothing would deliver them). */
  | { type: 'outbox.forget'; keepTargets: string[] }
  | { type: 'blob.chunk'; fileId: string; seq: number; data: Bytes }
  | { type: 'blob.remove'; fileId: string }
  | { type: 'import.clear'; tables: TableName[]; redacted: boolean; at: string }
  /** Empties the store (embedding's `store.reset()`): buckets, objects, uploads; keys stay. */
  | { type: 'store.reset'; at: string }
  | {
      type: 'import.records';
      mode: ImportMode;
      records: ImportedRecord[];
      /** Buckets and uploads the import file itself has (their rows may come later in it). */
      fileBuckets: Record<string, Owner>;
      fileUploads: string[];
    };

/**
 * Who caused a change, stamped by the request that proposed it, so apply() can write its event
 * notification (lib/metadata/outbox.ts) without reading anything but the command.
 */
export interface EventStamp {
  /** The AWS event name for object writes (Put, Copy, Post, CompleteMultipartUpload). */
  name?: string;
  /** S3's own change (a lifecycle expiry): no caller waits, so sync mode does not hold it. */
  background?: true;
  requestId: string;
  principal: string;
  sourceIp: string;
  region: string;
  at: string;
}

/** The commands an async-mode request may leave for the task consumer. */
export type TaskCommand = Extract<Command, { type: 'object.put' | 'object.delete' | 'marker.put' }>;

export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

export interface ImportOutcome {
  imported: Partial<Record<TableName, number>>;
  skipped: Partial<Record<TableName, number>>;
  warnings: string[];
}

/** What apply() returns for each command. */
export interface Results {
  'credential.seed': null;
  'credential.create': CredentialRow;
  'credential.rotate': CredentialRow;
  'credential.delete': KeyInfo;
  'credential.status': KeyInfo;
  'bucket.create': { created: true } | { created: false; existing: BucketRow };
  'bucket.delete': 'deleted' | 'missing' | 'not-empty';
  'bucket.acl': boolean;
  'bucket.config': boolean;
  'bucket.notifications': boolean;
  'object.put': { replacedFileId: string | null };
  'object.delete': string | null;
  'objects.delete': string[];
  'object.acl': boolean;
  /** The file of the null version the marker replaced, if any. */
  'marker.put': { removed: string | null };
  /** found: the version existed; deleteMarker: it was a delete marker; removed: its file. */
  'version.delete': { found: boolean; deleteMarker: boolean; removed: string | null };
  /** False when there is no such version (or it is a delete marker). */
  'version.set': boolean;
  'upload.create': null;
  /** The files to remove: the replaced part's, or the new one when the upload is gone. */
  'upload.part': { stored: boolean; remove: string[] };
  'upload.abort': string[] | null;
  'upload.complete': string[] | null;
  'uploads.reap': string[];
  'task.queue': null;
  /** ran false: the task was not pending (already done or failed). */
  'task.run': { ran: false } | { ran: true; result: Results[TaskCommand['type']] };
  'task.fail': null;
  'tasks.prune': number;
  'gc.done': null;
  'outbox.delivered': null;
  'outbox.trim': number;
  'outbox.forget': number;
  'blob.chunk': null;
  'blob.remove': null;
  'import.clear': ImportOutcome;
  /** The files no row references any more (already queued in gc_files). */
  'store.reset': string[];
  'import.records': ImportOutcome;
}

export type ResultOf<C extends Command> = Results[C['type']];

export function objectRecord(o: ObjectRow): ObjectRecord {
  return { ...o, inline: o.inline ? new InlineBytes(o.inline) : null };
}

export function objectRow(o: ObjectRecord): ObjectRow {
  const b = o.inline;
  if (b === null) return { ...o, inline: null };
  if (typeof b === 'string') return { ...o, inline: Buffer.from(b, 'base64') };
  const bytes = b.bytes;
  return {
    ...o,
    inline: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}
