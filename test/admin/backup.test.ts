// `bleepstore backup` while a server keeps overwriting objects, then `restore` into a new
// data directory: every object the restored store lists reads back whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { spawnServer } from '../helpers/process.ts';
import { LOCAL_ONLY } from '../helpers/server.ts';
import { cli } from './run-cli.ts';

const clientFor = (url: string) =>
  new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'bleepstore', secretAccessKey: 'bleepstore-secret' },
  });

test('backup under concurrent overwrites is a consistent snapshot that restore brings back', {
  skip: LOCAL_ONLY,
  timeout: 120_000,
}, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'bleepstore-backup-'));
  const dataDir = path.join(root, 'data');
  const srv = await spawnServer(dataDir);
  const s3 = clientFor(srv.url);
  let restored: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'live' }));
    // 100 KiB bodies are files, not inline rows; each overwrite frees the previous file.
    const body = (key: string, n: number) => Buffer.alloc(100 * 1024, `${key}:${n};`);
    for (let k = 0; k < 8; k++)
      await s3.send(new PutObjectCommand({ Bucket: 'live', Key: `k${k}`, Body: body(`k${k}`, 0) }));
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let n = 1; writing; n++) {
        await s3.send(new PutObjectCommand({ Bucket: 'live', Key: `k${n % 8}`, Body: body(`k${n % 8}`, n) }));
        writes++;
      }
    })();
    const out = path.join(root, 'backup');
    const b = await cli(['backup', '--out', out, '--data-dir', dataDir, '--json']);
    writing = false;
    await writer;
    assert.equal(b.code, 0, b.stderr);
    const report = JSON.parse(b.stdout) as { files: number; snapshots: number };
    assert.equal(report.files, 8);
    assert.ok(writes > 0, 'writes went on during the backup');

    const again = await cli(['backup', '--out', out, '--data-dir', dataDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not empty/);

    const target = path.join(root, 'restored');
    const r = await cli(['restore', '--from', out, '--data-dir', target]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      (await cli(['restore', '--from', out, '--data-dir', target])).code,
      1,
      'restore refuses a data dir that has a database',
    );
    restored = await spawnServer(target);
    const c2 = clientFor(restored.url);
    const listed = await c2.send(new ListObjectsV2Command({ Bucket: 'live' }));
    assert.equal(listed.KeyCount, 8);
    for (const o of listed.Contents ?? []) {
      const got = await c2.send(new GetObjectCommand({ Bucket: 'live', Key: o.Key! }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      assert.equal(`"${createHash('md5').update(bytes).digest('hex')}"`, got.ETag);
      assert.ok(bytes.toString('latin1', 0, o.Key!.length + 1) === `${o.Key}:`);
    }
    // The background scrub after start-up counts unreferenced files.
    for (let i = 0; i < 100 && !restored.logs.some((l) => l.msg === 'scrub done'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      restored.logs.find((l) => l.msg === 'scrub done')?.orphan_files_removed,
      0,
      'the backup holds no unreferenced files',
    );
    c2.destroy();
    assert.deepEqual((await readdir(out)).sort(), ['bleepstore-backup.json', 'metadata.db', 'objects']);
  } finally {
    s3.destroy();
    srv.proc.kill('SIGKILL');
    restored?.proc.kill('SIGKILL');
    await srv.exited;
    await restored?.exited;
    await rm(root, { recursive: true, force: true });
  }
});
