// The three callers of the permission tests: the owner (the config's key), another owner
// (a second credential), and anonymous (raw unsigned HTTP). Signed callers use the AWS SDK.
import assert from 'node:assert/strict';
import {
  GetBucketAclCommand,
  GetObjectAclCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { send } from '../helpers/raw.ts';
import type { TestServer } from '../helpers/server.ts';

export type Caller = 'owner' | 'other' | 'anonymous';
export const CALLERS: readonly Caller[] = ['owner', 'other', 'anonymous'];

export interface Outcome {
  status: number;
  code: string | undefined;
  /** Bytes of the response body (raw requests only). */
  bodyLength?: number;
}

/** A request two ways: through the SDK for signed callers, as raw HTTP for anonymous. */
export interface Op {
  letter: string;
  name: string;
  sdk(s3: S3Client): Promise<unknown>;
  raw: { method: string; path: string; headers?: Record<string, string>; body?: string };
}

export interface Callers {
  ownerId: string;
  otherId: string;
  client(c: Exclude<Caller, 'anonymous'>): S3Client;
  run(c: Caller, op: Op): Promise<Outcome>;
}

export async function setUpCallers(srv: TestServer): Promise<Callers> {
  const key = await srv.store.credentials.create({ displayName: 'other-owner' });
  const clients = {
    owner: srv.client(),
    other: srv.client({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretKey } }),
  };
  const ownerId = srv.store.credentials.list().find((k) => k.accessKeyId === 'bleepstore')!.ownerId;
  return {
    ownerId,
    otherId: key.ownerId,
    client: (c) => clients[c],
    async run(c, op) {
      if (c === 'anonymous') {
        const r = await send(op.raw.method, srv.url + op.raw.path, op.raw.headers ?? {}, op.raw.body);
        return { status: r.status, code: r.code, bodyLength: r.body.length };
      }
      try {
        await op.sdk(clients[c]);
        return { status: 200, code: undefined };
      } catch (err) {
        if (!(err instanceof S3ServiceException)) throw err;
        return { status: err.$metadata.httpStatusCode ?? 0, code: err.name };
      }
    },
  };
}

/** Asserts a refusal: 403 AccessDenied (HEAD: 403 and no body, so no code to read). */
export function assertDenied(o: Outcome, what: string, head: boolean): void {
  assert.equal(o.status, 403, `${what}: expected 403, got ${o.status} ${o.code ?? ''}`);
  if (head) {
    if (o.bodyLength !== undefined) assert.equal(o.bodyLength, 0, `${what}: a HEAD answer has no body`);
  } else {
    assert.equal(o.code, 'AccessDenied', what);
  }
}

export function assertAllowed(o: Outcome, what: string): void {
  assert.ok(o.status >= 200 && o.status < 300, `${what}: expected success, got ${o.status} ${o.code ?? ''}`);
}

/** What the owner sees of a bucket: its keys and its ACL. */
export async function bucketState(s3: S3Client, bucket: string): Promise<string> {
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
  return JSON.stringify({ keys: (list.Contents ?? []).map((o) => [o.Key, o.ETag]), grants: acl.Grants });
}

/** What an object's writer sees of it: its ETag and its ACL. */
export async function objectState(s3: S3Client, bucket: string, key: string): Promise<string> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: key }));
  return JSON.stringify({ etag: head.ETag, grants: acl.Grants });
}
