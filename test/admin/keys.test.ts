// `bleepstore keys` run as a child process against the data directory of a running server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, REGION, type TestServer } from '../helpers/server.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import { send } from '../helpers/raw.ts';
import { presignUrl } from '../helpers/signer.ts';
import { cli } from './run-cli.ts';

interface Key {
  access_key_id: string;
  secret_key: string;
  owner_id: string;
  display_name: string;
}

describe('bleepstore keys', () => {
  let srv: TestServer;
  const keys = (...args: string[]) => cli(['keys', ...args, '--data-dir', srv.dataDir]);
  const clientFor = (k: Key) =>
    srv.client({ credentials: { accessKeyId: k.access_key_id, secretAccessKey: k.secret_key } });
  const created = async (...args: string[]): Promise<Key> => {
    const r = await keys(...args, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Key;
  };

  before(async () => {
    srv = await startServer();
  });
  after(() => srv.stop());

  test('create makes a key for a new owner that works for S3 calls at once', async () => {
    const carol = await created('create', '--display-name', 'carol');
    assert.match(carol.access_key_id, /^[A-Z2-7]{20}$/);
    assert.match(carol.owner_id, /^[0-9a-f]{64}$/);
    const s3 = clientFor(carol);
    await s3.send(new CreateBucketCommand({ Bucket: 'carols-bucket' }));
    const list = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(
      list.Buckets?.map((b) => b.Name),
      ['carols-bucket'],
    );
    assert.equal(list.Owner?.DisplayName, 'carol');
    assert.equal(list.Owner?.ID, carol.owner_id);
  });

  test('create prints the secret once in text form, and --access-key picks the id', async () => {
    const r = await keys('create', '--display-name', 'dave', '--access-key', 'dave-key');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Access key: +dave-key/);
    assert.match(r.stdout, /Secret key: +\S{40}/);
    assert.match(r.stdout, /shown only this once/);
    const again = await keys('create', '--display-name', 'dave', '--access-key', 'dave-key');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Access key "dave-key" already exists/);
  });

  test('list shows every key with its owner and never a secret', async () => {
    const erin = await created('create', '--display-name', 'erin');
    const text = await keys('list');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /ACCESS KEY/);
    assert.ok(text.stdout.includes(erin.access_key_id) && text.stdout.includes(erin.owner_id));
    assert.ok(text.stdout.includes('bleepstore'));
    const json = await keys('list', '--json');
    const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.ok(rows.some((k) => k.access_key_id === erin.access_key_id && k.display_name === 'erin'));
    for (const out of [text.stdout, json.stdout]) {
      assert.ok(!out.includes(erin.secret_key), 'no secret in the listing');
      assert.ok(!out.includes('bleepstore-secret'), "not even the config key's");
      assert.ok(!/secret/i.test(out), 'no secret column at all');
    }
  });

  test('create --owner-of adds a second key for the same owner, who sees the same buckets', async () => {
    const frank = await created('create', '--display-name', 'frank');
    await clientFor(frank).send(new CreateBucketCommand({ Bucket: 'franks-bucket' }));
    const second = await created('create', '--owner-of', frank.access_key_id);
    assert.notEqual(second.access_key_id, frank.access_key_id);
    assert.equal(second.owner_id, frank.owner_id);
    assert.equal(second.display_name, 'frank');
    const list = await clientFor(second).send(new ListBucketsCommand({}));
    assert.deepEqual(
      list.Buckets?.map((b) => b.Name),
      ['franks-bucket'],
    );
  });

  test('rotate gives a new secret: the old one fails at once and the new one works', async () => {
    const gina = await created('create', '--display-name', 'gina');
    const oldClient = clientFor(gina);
    await oldClient.send(new CreateBucketCommand({ Bucket: 'ginas-bucket' }));
    const rotated = await created('rotate', gina.access_key_id);
    assert.equal(rotated.access_key_id, gina.access_key_id);
    assert.notEqual(rotated.secret_key, gina.secret_key);
    const err = await sdkError(oldClient.send(new ListBucketsCommand({})));
    assert.equal(err.name, 'SignatureDoesNotMatch');
    const list = await clientFor(rotated).send(new ListBucketsCommand({}));
    assert.deepEqual(
      list.Buckets?.map((b) => b.Name),
      ['ginas-bucket'],
    );
  });

  test('delete makes requests and presigned URLs signed with the key fail with InvalidAccessKeyId', async () => {
    const hank = await created('create', '--display-name', 'hank');
    const s3 = clientFor(hank);
    await s3.send(new CreateBucketCommand({ Bucket: 'hanks-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'hanks-bucket', Key: 'note', Body: 'hello' }));
    const url = presignUrl({
      method: 'GET',
      url: `${srv.url}/hanks-bucket/note`,
      accessKey: hank.access_key_id,
      secretKey: hank.secret_key,
      region: REGION,
    });
    const before = await send('GET', url, {});
    assert.equal(before.status, 200);
    assert.equal(before.text, 'hello');

    const r = await keys('delete', hank.access_key_id);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleted access key/);

    const err = await sdkError(s3.send(new ListBucketsCommand({})));
    assert.equal(err.name, 'InvalidAccessKeyId');
    assert.equal(err.$metadata.httpStatusCode, 403);
    const after = await send('GET', url, {});
    assert.equal(after.status, 403);
    assert.equal(after.code, 'InvalidAccessKeyId');
    const listed = JSON.parse((await keys('list', '--json')).stdout) as Array<{ access_key_id: string }>;
    assert.ok(!listed.some((k) => k.access_key_id === hank.access_key_id));
  });

  test('mistakes get one sentence on stderr and a non-zero exit', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['delete', 'no-such-key'], 1, /No access key "no-such-key"/],
      [['rotate'], 2, /rotate takes one access key/],
      [['create'], 1, /display name .* or an existing access key/],
      [['create', '--owner-of', 'no-such-key'], 1, /No access key "no-such-key"/],
      [['create', '--display-name', 'x', '--access-key', 'bad/key'], 1, /must be 3 to 128 letters/],
      [['frobnicate'], 2, /unknown command "frobnicate"/],
      [['list', '--bogus'], 2, /--bogus/],
    ];
    for (const [args, code, message] of cases) {
      const r = await keys(...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const missing = await cli(['keys', 'list', '--data-dir', `${srv.dataDir}/nowhere`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No metadata database at/);
  });

  test('the embedding API manages the same keys as the CLI', async () => {
    const k = await srv.store.credentials.create({ displayName: 'ivy', accessKeyId: 'ivy-key' });
    const listed = JSON.parse((await keys('list', '--json')).stdout) as Array<{
      access_key_id: string;
      owner_id: string;
    }>;
    assert.equal(listed.find((x) => x.access_key_id === 'ivy-key')?.owner_id, k.ownerId);
    await srv.store.credentials.delete('ivy-key');
    assert.ok(!srv.store.credentials.list().some((x) => x.accessKeyId === 'ivy-key'));
  });
});
