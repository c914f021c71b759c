// `bleepstore meta export|import` as child processes, between real servers: a store moves
// to another data directory as its metadata file plus a copy of its objects/ directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bodyBytes, startServer, type TestServer } from '../helpers/server.ts';
import { send } from '../helpers/raw.ts';
import { cli } from './run-cli.ts';

/** Everything a client can see of its buckets and objects, bytes included. */
async function view(s3: S3Client): Promise<unknown> {
  const list = await s3.send(new ListBucketsCommand({}));
  const buckets = [];
  for (const b of list.Buckets ?? []) {
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: b.Name, FetchOwner: true }));
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: b.Name }));
    const contents = [];
    for (const o of objects.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: b.Name, Key: o.Key }));
      const objectAcl = await s3.send(new GetObjectAclCommand({ Bucket: b.Name, Key: o.Key }));
      contents.push({
        key: o.Key,
        etag: o.ETag,
        size: o.Size,
        lastModified: o.LastModified?.toISOString(),
        owner: o.Owner,
        contentType: got.ContentType,
        metadata: got.Metadata,
        bytes: (await bodyBytes(got.Body)).toString('base64'),
        acl: { owner: objectAcl.Owner, grants: objectAcl.Grants },
      });
    }
    buckets.push({
      name: b.Name,
      created: b.CreationDate?.toISOString(),
      acl: { owner: acl.Owner, grants: acl.Grants },
      contents,
    });
  }
  return { owner: list.Owner, buckets };
}

/** A consistent copy of a (running) store's data directory, by `bleepstore backup` + `restore`. */
async function copyOf(dataDir: string, name: string): Promise<string> {
  const dir = `${dataDir}-${name}`;
  const backup = await cli(['backup', '--out', `${dir}-backup`, '--data-dir', dataDir]);
  assert.equal(backup.code, 0, backup.stderr);
  const restored = await cli(['restore', '--from', `${dir}-backup`, '--data-dir', dir]);
  assert.equal(restored.code, 0, restored.stderr);
  await rm(`${dir}-backup`, { recursive: true, force: true });
  return dir;
}

/** The data directory's metadata as the exporter sees it, minus the export time. */
async function snapshot(dataDir: string): Promise<string> {
  const r = await cli(['meta', 'export', '--include-credentials', '--data-dir', dataDir]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { bleepstore_export: { exported_at?: string } };
  delete doc.bleepstore_export.exported_at;
  return JSON.stringify(doc);
}

describe('bleepstore meta', () => {
  let src: TestServer;
  let work: string;
  let bob: { accessKeyId: string; secretKey: string; ownerId: string };
  const bobClient = (srv: TestServer) =>
    srv.client({ credentials: { accessKeyId: bob.accessKeyId, secretAccessKey: bob.secretKey } });

  before(async () => {
    src = await startServer();
    work = await mkdtemp(path.join(tmpdir(), 'bleepstore-meta-e2e-'));
    bob = await src.store.credentials.create({ displayName: 'bob' });
    const alice = src.client();
    const b = bobClient(src);
    await alice.send(new CreateBucketCommand({ Bucket: 'photos', ACL: 'public-read' }));
    await alice.send(new CreateBucketCommand({ Bucket: 'docs' }));
    await b.send(new CreateBucketCommand({ Bucket: 'bobs-bucket' }));
    await alice.send(
      new PutObjectCommand({
        Bucket: 'photos',
        Key: 'cat.jpg',
        Body: randomBytes(200_000),
        ContentType: 'image/jpeg',
        Metadata: { author: 'John' },
        ACL: 'public-read',
      }),
    );
    await alice.send(
      new PutObjectCommand({
        Bucket: 'photos',
        Key: 'dir/ünïcode ✓.txt',
        Body: 'unicode key',
        CacheControl: 'no-cache',
      }),
    );
    await alice.send(
      new PutObjectCommand({
        Bucket: 'docs',
        Key: 'shared-with-bob',
        Body: 'for bob',
        GrantRead: `id="${bob.ownerId}"`,
      }),
    );
    await alice.send(new PutObjectCommand({ Bucket: 'docs', Key: 'empty', Body: new Uint8Array(0) }));
    await b.send(
      new PutObjectCommand({ Bucket: 'bobs-bucket', Key: 'x', Body: 'bob was here', ACL: 'authenticated-read' }),
    );
  });
  after(async () => {
    await src.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('export, then import into an empty data directory with the objects copied, gives a second server the same buckets, listings, ACLs and bytes', async () => {
    const file = path.join(work, 'roundtrip.json');
    const exported = await cli([
      'meta',
      'export',
      '--include-credentials',
      '--output',
      file,
      '--data-dir',
      src.dataDir,
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(
      exported.stderr,
      /meta export: exported 3 buckets, 5 objects, 0 object_versions, 0 multipart_uploads, 0 multipart_parts, 2 credentials, 0 bucket_notifications to /,
    );

    const dst = path.join(work, 'copy');
    await cp(path.join(src.dataDir, 'objects'), path.join(dst, 'objects'), { recursive: true });
    const imported = await cli(['meta', 'import', '--input', file, '--data-dir', dst]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /meta import: imported 3 buckets, 5 objects, 2 credentials/);
    assert.doesNotMatch(imported.stderr, /warning/);

    const second = await startServer({ data_dir: dst });
    try {
      assert.deepEqual(await view(second.client()), await view(src.client()));
      assert.deepEqual(await view(bobClient(second)), await view(bobClient(src)));
      const anon = await send('GET', `${second.url}/photos/cat.jpg`, {});
      assert.equal(anon.status, 200);
      assert.equal(anon.body.length, 200_000);
    } finally {
      await second.stop();
      await rm(dst, { recursive: true, force: true });
    }
  });

  test('export leaves secrets out unless asked, and reads from a running server without stopping it', async () => {
    const r = await cli(['meta', 'export', '--data-dir', src.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { credentials: Array<{ secret_key: string }> };
    assert.ok(doc.credentials.length >= 2);
    assert.ok(doc.credentials.every((c) => c.secret_key === 'REDACTED'));
    assert.ok(!r.stdout.includes('bleepstore-secret') && !r.stdout.includes(bob.secretKey));
    const only = JSON.parse(
      (await cli(['meta', 'export', '--tables', 'buckets,credentials', '--data-dir', src.dataDir])).stdout,
    ) as object;
    assert.deepEqual(Object.keys(only), ['bleepstore_export', 'buckets', 'credentials']);
  });

  test('a malformed file fails naming its line, and the store does not change, even with --replace', async () => {
    const good = (await cli(['meta', 'export', '--data-dir', src.dataDir])).stdout;
    const lines = good.split('\n');
    const sizeAt = lines.findIndex((l) => /^ {6}"size": \d+,$/.test(l));
    const recordAt = lines.slice(0, sizeAt).lastIndexOf('    {');
    const sectionAt = lines.findIndex((l) => l.startsWith('  "multipart_parts"'));
    const edit = (at: number, line: string) => lines.map((l, i) => (i === at ? line : l)).join('\n');
    const cases: Array<[string, string, number, RegExp]> = [
      ['syntax', edit(sizeAt, '      "size": 12 3,'), sizeAt + 1, /invalid JSON/],
      ['field', edit(sizeAt, '      "size": -5,'), recordAt + 1, /"size" must be a non-negative integer/],
      [
        'section',
        edit(sectionAt, lines[sectionAt]!.replace('multipart_parts', 'multipart_partz')),
        sectionAt + 1,
        /unknown section "multipart_partz"/,
      ],
      ['truncated', lines.slice(0, sizeAt).join('\n'), sizeAt, /ends early/],
    ];
    // An import refuses a directory a server runs on: it goes into a copy of the store.
    const dir = await copyOf(src.dataDir, 'malformed');
    const before = await snapshot(dir);
    for (const [name, text, line, message] of cases) {
      const file = path.join(work, `bad-${name}.json`);
      await writeFile(file, text);
      const r = await cli(['meta', 'import', '--replace', '--input', file, '--data-dir', dir]);
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, new RegExp(`bad-${name}\\.json line ${line}: `), `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.match(r.stderr, /nothing was imported/, name);
      assert.equal(await snapshot(dir), before, `${name}: the store is unchanged`);
    }
    const fromStdin = await cli(['meta', 'import', '--data-dir', dir], edit(sizeAt, '      "size": "big",'));
    assert.equal(fromStdin.code, 1);
    assert.match(fromStdin.stderr, new RegExp(`stdin line ${recordAt + 1}: `));
    await rm(dir, { recursive: true, force: true });
  });

  test('merge keeps what the store has and adds the rest, idempotently; replace makes the store what the file says', async () => {
    const origin = await startServer();
    const target = await startServer();
    try {
      const o = origin.client();
      await o.send(new CreateBucketCommand({ Bucket: 'shared' }));
      await o.send(new PutObjectCommand({ Bucket: 'shared', Key: 'k', Body: 'from the file' }));
      await o.send(new PutObjectCommand({ Bucket: 'shared', Key: 'x', Body: 'only in the file' }));
      const file = path.join(work, 'merge.json');
      assert.equal((await cli(['meta', 'export', '-o', file, '--data-dir', origin.dataDir])).code, 0);

      const t = target.client();
      await t.send(new CreateBucketCommand({ Bucket: 'shared' }));
      await t.send(new PutObjectCommand({ Bucket: 'shared', Key: 'k', Body: 'already here' }));
      await t.send(new CreateBucketCommand({ Bucket: 'local-only' }));
      await t.send(new PutObjectCommand({ Bucket: 'local-only', Key: 'y', Body: 'local' }));
      await cp(path.join(origin.dataDir, 'objects'), path.join(target.dataDir, 'objects'), { recursive: true });
      const dir = target.dataDir;
      // An import refuses a directory a server runs on: stop it, import, look through a new one.
      const restarted = async <T>(look: (s3: S3Client) => Promise<T>): Promise<T> => {
        const again = await startServer({ data_dir: dir });
        try {
          return await look(again.client());
        } finally {
          await again.stop();
        }
      };
      await target.store.close();
      const text = async (s3: S3Client, bucket: string, key: string) =>
        (await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toString();
      const bucketNames = async (s3: S3Client) =>
        (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);

      const merged = await cli(['meta', 'import', '--merge', '-i', file, '--data-dir', dir]);
      assert.equal(merged.code, 0, merged.stderr);
      assert.match(merged.stderr, /imported 1 objects; skipped 1 buckets, 1 objects, 1 credentials/);
      await restarted(async (s3) => {
        assert.deepEqual(await bucketNames(s3), ['local-only', 'shared']);
        assert.equal(await text(s3, 'shared', 'k'), 'already here');
        assert.equal(await text(s3, 'shared', 'x'), 'only in the file');
      });
      const afterMerge = await snapshot(dir);
      assert.equal((await cli(['meta', 'import', '-i', file, '--data-dir', dir])).code, 0);
      assert.equal(await snapshot(dir), afterMerge, 'a second merge changes nothing');

      const replaced = await cli(['meta', 'import', '--replace', '-i', file, '--data-dir', dir]);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.match(replaced.stderr, /existing keys were kept/);
      await restarted(async (s3) => {
        assert.deepEqual(await bucketNames(s3), ['shared']);
        assert.equal(await text(s3, 'shared', 'k'), 'from the file');
        assert.equal(await text(s3, 'shared', 'x'), 'only in the file');
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'shared' }));
        assert.deepEqual(
          listed.Contents?.map((c) => c.Key),
          ['k', 'x'],
        );
      });
    } finally {
      await origin.stop();
      await target.stop();
    }
  });

  test('import warns when the objects directory lacks files the metadata names', async () => {
    const file = path.join(work, 'nofiles.json');
    assert.equal((await cli(['meta', 'export', '-o', file, '--data-dir', src.dataDir])).code, 0);
    const empty = path.join(work, 'no-objects');
    const r = await cli(['meta', 'import', '-i', file, '--data-dir', empty]);
    assert.equal(r.code, 0, r.stderr);
    // Of the five objects only one is over storage.inline_max_bytes and has a file; the others
    // travel inline in their rows (x_bleepstore.inline_data) and need no objects directory.
    assert.match(r.stderr, /warning: 1 object or part files are not in .*; copy the source's objects directory/);
    assert.ok(JSON.parse(await readFile(file, 'utf8')).objects.length === 5);
  });
});
