// `bleepstore bucket` and `bleepstore status` run as child processes against a running server's data directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_ONLY, startServer, type TestServer } from '../helpers/server.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import { cli } from './run-cli.ts';

describe('bleepstore bucket', { skip: LOCAL_ONLY }, () => {
  let srv: TestServer;
  const bucket = (...args: string[]) => cli(['bucket', ...args, '--data-dir', srv.dataDir]);

  before(async () => {
    srv = await startServer();
  });
  after(() => srv.stop());

  test('create makes a bucket owned by the config key that S3 clients then use', async () => {
    const r = await bucket('create', 'ops-made');
    assert.equal(r.code, 0, r.stderr);
    await srv.client().send(new PutObjectCommand({ Bucket: 'ops-made', Key: 'a', Body: 'hello' }));
    const bad = await bucket('create', 'Not_Valid');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not valid/);
  });

  test('list and info show owner, objects and bytes', async () => {
    await srv.client().send(new PutObjectCommand({ Bucket: 'ops-made', Key: 'b', Body: '12345' }));
    const list = await bucket('list', '--json');
    assert.equal(list.code, 0, list.stderr);
    const row = (JSON.parse(list.stdout) as Array<Record<string, unknown>>).find((b) => b.name === 'ops-made');
    assert.equal(row?.owner_display_name, 'bleepstore');
    assert.equal(row?.objects, 2);
    assert.equal(row?.bytes, 10);
    const info = await bucket('info', 'ops-made');
    assert.match(info.stdout, /Objects: +2/);
    assert.match(info.stdout, /Bytes: +10/);
    const text = await bucket('list');
    assert.match(text.stdout, /BUCKET +OWNER +OBJECTS +BYTES/);
  });

  test('allow --read --key grants the key owner listing, without typing a canonical id', async () => {
    const made = await cli(['keys', 'create', '--display-name', 'reader', '--json', '--data-dir', srv.dataDir]);
    const k = JSON.parse(made.stdout) as { access_key_id: string; secret_key: string };
    const reader = srv.client({ credentials: { accessKeyId: k.access_key_id, secretAccessKey: k.secret_key } });
    assert.equal((await sdkError(reader.send(new ListObjectsV2Command({ Bucket: 'ops-made' })))).name, 'AccessDenied');
    const r = await bucket('allow', '--read', '--key', k.access_key_id, 'ops-made');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await reader.send(new ListObjectsV2Command({ Bucket: 'ops-made' }))).KeyCount, 2);
    assert.equal(
      (await sdkError(reader.send(new PutObjectCommand({ Bucket: 'ops-made', Key: 'c', Body: 'x' })))).name,
      'AccessDenied',
    );
    const missing = await bucket('allow', '--key', k.access_key_id, 'ops-made');
    assert.equal(missing.code, 2);
  });

  test('delete refuses a bucket with objects and removes an empty one', async () => {
    const refused = await bucket('delete', 'ops-made');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not empty/);
    await bucket('create', 'ops-empty');
    assert.equal((await bucket('delete', 'ops-empty')).code, 0);
    assert.match((await bucket('info', 'ops-empty')).stderr, /No bucket named "ops-empty"/);
  });

  test('status names the real paths, counts the contents and sees whether a server answers', async () => {
    const r = await cli(['status', '--json', '--data-dir', srv.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(s.metadata_path, `${srv.dataDir}/metadata.db`);
    assert.equal(s.objects_path, `${srv.dataDir}/objects`);
    assert.ok((s.objects as number) >= 2);
    assert.ok((s.disk_free_bytes as number) > 0);
    // The server here listens on a free port, not the configured 9010: status says so.
    assert.equal(typeof (s.server as Record<string, unknown>).status, 'string');
  });
});
