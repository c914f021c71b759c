// Every start is recovery: temp files removed, orphan files removed, expired uploads reaped,
// rows whose file is missing logged and answered with InternalError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { LOCAL_ONLY, startServer } from '../helpers/server.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import { diskState } from '../helpers/files.ts';

async function withStore<T>(
  dataDir: string,
  fn: (srv: Awaited<ReturnType<typeof startServer>>) => Promise<T>,
  ttl?: number,
): Promise<T> {
  // inline_max_bytes 0: these tests are about files, so even tiny objects get one.
  const srv = await startServer({
    data_dir: dataDir,
    storage: { inline_max_bytes: 0 },
    ...(ttl ? { multipart: { upload_ttl_seconds: ttl } } : {}),
  });
  try {
    return await fn(srv);
  } finally {
    await srv.stop();
  }
}

test('a start removes temp files, its background scrub removes files no row references, and referenced ones stay', {
  skip: LOCAL_ONLY,
}, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-recovery-'));
  await withStore(dataDir, async (srv) => {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'keep-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'keep-bucket', Key: 'kept', Body: 'still here' }));
  });
  const objects = path.join(dataDir, 'objects');
  await writeFile(path.join(objects, '.tmp', 'half-written-upload'), 'partial');
  await writeFile(path.join(objects, 'ff', 'ffee0000000000000000000000000000'), 'orphan');
  await withStore(dataDir, async (srv) => {
    assert.equal(srv.store.recovery.tempFilesRemoved, 1);
    await srv.store.scrubbed;
    assert.equal(srv.store.recovery.orphanFilesRemoved, 1);
    const got = await srv.client().send(new GetObjectCommand({ Bucket: 'keep-bucket', Key: 'kept' }));
    assert.equal(await got.Body!.transformToString(), 'still here');
  });
  const disk = await diskState(dataDir);
  assert.deepEqual(disk.temp, []);
  assert.deepEqual([...disk.files], [...disk.referenced]);
  await rm(dataDir, { recursive: true, force: true });
});

test('an orphan file is quarantined, not deleted, and removed once older than the configured age', {
  skip: LOCAL_ONLY,
}, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-recovery-'));
  await withStore(dataDir, async () => {});
  const orphan = 'ffee0000000000000000000000000001';
  await writeFile(path.join(dataDir, 'objects', 'ff', orphan), 'maybe still wanted');
  await withStore(dataDir, async (srv) => {
    await srv.store.scrubbed;
    assert.equal(srv.store.recovery.orphanFilesRemoved, 1);
    const lines = srv.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(typeof lines.find((l) => l.msg === 'recovery done')?.duration_ms, 'number');
    assert.equal(lines.find((l) => l.msg === 'scrub done')?.orphan_files_removed, 1);
  });
  const quarantine = path.join(dataDir, 'objects', '.quarantine');
  const [run] = await readdir(quarantine);
  assert.equal(await readFile(path.join(quarantine, run!, orphan), 'utf8'), 'maybe still wanted');
  // A later start with a one-second age limit empties the quarantine.
  await new Promise((r) => setTimeout(r, 1100));
  const srv = await startServer({ data_dir: dataDir, storage: { local: { quarantine_max_age_seconds: 1 } } });
  await srv.store.scrubbed; // the background scrub prunes the quarantine after its sweep
  await srv.stop();
  assert.deepEqual(await readdir(quarantine), []);
  await rm(dataDir, { recursive: true, force: true });
});

test('a start reaps multipart uploads older than the TTL, parts and all', { skip: LOCAL_ONLY }, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-recovery-'));
  await withStore(dataDir, async (srv) => {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'reap-bucket' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'reap-bucket', Key: 'old' }));
    await s3.send(new UploadPartCommand({ Bucket: 'reap-bucket', Key: 'old', UploadId, PartNumber: 1, Body: 'part' }));
  });
  await new Promise((r) => setTimeout(r, 1100));
  await withStore(
    dataDir,
    async (srv) => {
      assert.equal(srv.store.recovery.expiredUploadsFiles, 1);
      const list = await srv.client().send(new ListMultipartUploadsCommand({ Bucket: 'reap-bucket' }));
      assert.equal(list.Uploads, undefined);
    },
    1,
  );
  assert.equal((await diskState(dataDir)).files.size, 0);
  await rm(dataDir, { recursive: true, force: true });
});

test('a row whose file is missing is found by the background scrub after start, logged, and answered with InternalError', {
  skip: LOCAL_ONLY,
}, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-recovery-'));
  await withStore(dataDir, async (srv) => {
    const s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'lost-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'lost-bucket', Key: 'lost', Body: 'soon gone' }));
  });
  const [fileId] = (await diskState(dataDir)).referenced;
  await unlink(path.join(dataDir, 'objects', fileId!.slice(0, 2), fileId!));
  await withStore(dataDir, async (srv) => {
    assert.equal(await srv.store.scrubbed, 1);
    assert.equal(srv.store.recovery.missingFiles, 1);
    assert.ok(srv.logs.some((l) => l.includes('missing file') && l.includes(fileId!)));
    const err = await sdkError(srv.client().send(new GetObjectCommand({ Bucket: 'lost-bucket', Key: 'lost' })));
    assert.equal(err.name, 'InternalError');
    assert.equal(err.$metadata.httpStatusCode, 500);
    assert.ok(srv.logs.some((l) => l.includes('object file missing') && l.includes(fileId!)));
  });
  assert.ok((await readdir(dataDir)).includes('metadata.db'));
  await rm(dataDir, { recursive: true, force: true });
});
