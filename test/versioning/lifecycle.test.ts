// Bucket lifecycle: the configuration as https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
// describes it, and the rules applied by the background worker. A lifecycle "day" is one second
// here (lifecycle.day_seconds) and the worker runs every second (multipart.reap_interval_seconds).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { EMBEDDED_ONLY, startServer, type TestServer } from '../helpers/server.ts';
import { waitForAsync } from '../ops/wait.ts';

// One-second days need the server's config: not against an external endpoint.
describe('lifecycle', { skip: EMBEDDED_ONLY }, () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer({ multipart: { reap_interval_seconds: 1 }, lifecycle: { day_seconds: 1 } });
    s3 = srv.client();
  });
  after(() => srv.stop());

  async function bucketWith(name: string, rules: LifecycleRule[], versioned = false): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    if (versioned)
      await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket: name, LifecycleConfiguration: { Rules: rules } }),
    );
  }
  const keys = async (bucket: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);
  const versionIds = async (bucket: string) => {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    return {
      versions: (r.Versions ?? []).map((v) => v.VersionId),
      markers: (r.DeleteMarkers ?? []).map((m) => m.VersionId),
    };
  };

  test('Put/Get/DeleteBucketLifecycleConfiguration round-trip; bad rules are refused', async () => {
    const rules: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
      {
        ID: 'old',
        Status: 'Disabled',
        Filter: { And: { Prefix: 'a/', Tags: [{ Key: 't', Value: '1' }], ObjectSizeGreaterThan: 10 } },
        NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 },
      },
      { ID: 'mpu', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
    ];
    await bucketWith('lc-config', rules);
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-config' }));
    assert.deepEqual(
      got.Rules?.map((r) => [
        r.ID,
        r.Status,
        r.Expiration?.Days,
        r.NoncurrentVersionExpiration?.NewerNoncurrentVersions,
      ]),
      [
        ['logs', 'Enabled', 30, undefined],
        ['old', 'Disabled', undefined, 2],
        ['mpu', 'Enabled', undefined, undefined],
      ],
    );
    assert.deepEqual(got.Rules?.[1]?.Filter?.And?.Tags, [{ Key: 't', Value: '1' }]);
    const noAction = await sdkError(
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'lc-config',
          LifecycleConfiguration: { Rules: [{ ID: 'x', Status: 'Enabled', Filter: {} }] },
        }),
      ),
    );
    assert.equal(noAction.name, 'InvalidRequest');
    const sameId = await sdkError(
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'lc-config',
          LifecycleConfiguration: { Rules: [rules[0]!, { ...rules[0]!, Filter: { Prefix: 'b/' } }] },
        }),
      ),
    );
    assert.equal(sameId.name, 'InvalidArgument');
    assert.equal((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-config' }))).Rules?.length, 3);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'lc-config' }));
    const none = await sdkError(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-config' })));
    assert.equal(none.name, 'NoSuchLifecycleConfiguration');
  });

  test('Transition and NoncurrentVersionTransition are kept and given back, move nothing, and a bad class is refused', async () => {
    // The tfscaffold-style rule infrastructure tools set: they read the configuration back
    // and would see drift if the transitions were dropped.
    const rules: LifecycleRule[] = [
      {
        ID: 'archive',
        Status: 'Enabled',
        Filter: {},
        Transitions: [
          { Days: 30, StorageClass: 'STANDARD_IA' },
          { Days: 90, StorageClass: 'GLACIER' },
        ],
        NoncurrentVersionTransitions: [{ NoncurrentDays: 30, StorageClass: 'STANDARD_IA', NewerNoncurrentVersions: 2 }],
        NoncurrentVersionExpiration: { NoncurrentDays: 365 },
      },
      {
        ID: 'only-transition',
        Status: 'Enabled',
        Filter: { Prefix: 'x/' },
        Transitions: [{ Days: 0, StorageClass: 'GLACIER_IR' }],
      },
    ];
    await bucketWith('lc-transition', rules, true);
    await s3.send(new PutObjectCommand({ Bucket: 'lc-transition', Key: 'x/k', Body: 'stays' }));
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-transition' }));
    assert.deepEqual(
      got.Rules?.map((r) => [
        r.ID,
        r.Transitions?.map((t) => [t.Days, t.StorageClass]),
        r.NoncurrentVersionTransitions?.map((t) => [t.NoncurrentDays, t.StorageClass, t.NewerNoncurrentVersions]),
        r.NoncurrentVersionExpiration?.NoncurrentDays,
      ]),
      [
        [
          'archive',
          [
            [30, 'STANDARD_IA'],
            [90, 'GLACIER'],
          ],
          [[30, 'STANDARD_IA', 2]],
          365,
        ],
        ['only-transition', [[0, 'GLACIER_IR']], undefined, undefined],
      ],
    );
    // Past its 0 days, the object is where it was: same class, readable.
    await new Promise((r) => setTimeout(r, 2500));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'lc-transition' }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.StorageClass]),
      [['x/k', 'STANDARD']],
    );
    const bad = await sdkError(
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'lc-transition',
          LifecycleConfiguration: {
            Rules: [
              {
                ID: 'b',
                Status: 'Enabled',
                Filter: {},
                Transitions: [
                  {
                    Days: 1,
                    StorageClass: 'STANDARD' as 'GLACIER' /* no transition class; the SDK's type would refuse it */,
                  },
                ],
              },
            ],
          },
        }),
      ),
    );
    assert.equal(bad.name, 'InvalidArgument');
  });

  test('Expiration removes matching objects (prefix, tag, size) after their days, and nothing else', async () => {
    await bucketWith('lc-expire', [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 1 } },
      {
        ID: 'tagged-big',
        Status: 'Enabled',
        Filter: { And: { Tags: [{ Key: 'tmp', Value: 'yes' }], ObjectSizeGreaterThan: 3 } },
        Expiration: { Days: 1 },
      },
    ]);
    const put = (Key: string, Body: string, Tagging?: string) =>
      s3.send(new PutObjectCommand({ Bucket: 'lc-expire', Key, Body, Tagging }));
    await put('logs/a', 'x');
    await put('keep/b', 'x');
    await put('t/big', 'xxxxx', 'tmp=yes');
    await put('t/small', 'x', 'tmp=yes');
    await put('t/untagged', 'xxxxx');
    await waitForAsync(async () => (await keys('lc-expire')).length === 3, 'the expiries', 15_000);
    assert.deepEqual(await keys('lc-expire'), ['keep/b', 't/small', 't/untagged']);
  });

  test('on a versioned bucket: current versions get a delete marker, noncurrent ones expire beyond the newest N', async () => {
    await bucketWith(
      'lc-vers',
      [
        {
          ID: 'nc',
          Status: 'Enabled',
          Filter: { Prefix: 'nc/' },
          NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
        },
        { ID: 'cur', Status: 'Enabled', Filter: { Prefix: 'cur/' }, Expiration: { Days: 1 } },
      ],
      true,
    );
    const ids: string[] = [];
    for (const body of ['1', '2', '3'])
      ids.push((await s3.send(new PutObjectCommand({ Bucket: 'lc-vers', Key: 'nc/k', Body: body }))).VersionId!);
    const cur = (await s3.send(new PutObjectCommand({ Bucket: 'lc-vers', Key: 'cur/k', Body: 'c' }))).VersionId!;
    await waitForAsync(
      async () => {
        const v = await versionIds('lc-vers');
        return v.versions.length === 3 && v.markers.length === 1;
      },
      'the expiries',
      15_000,
    );
    const v = await versionIds('lc-vers');
    assert.deepEqual(v.versions.sort(), [ids[2], ids[1], cur].sort(), 'v1 expired; v2 kept as the newest noncurrent');
  });

  test('ExpiredObjectDeleteMarker removes a delete marker with no version behind it', async () => {
    await bucketWith(
      'lc-markers',
      [
        { ID: 'm', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
        { ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
      ],
      true,
    );
    await s3.send(new PutObjectCommand({ Bucket: 'lc-markers', Key: 'k', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'lc-markers', Key: 'k' }));
    await waitForAsync(
      async () => {
        const v = await versionIds('lc-markers');
        return v.versions.length === 0 && v.markers.length === 0;
      },
      'the version, then the marker, expire',
      15_000,
    );
  });

  test('locked versions are never expired', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lc-locked', ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'lc-locked',
        LifecycleConfiguration: {
          Rules: [{ ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }],
        },
      }),
    );
    const held = await s3.send(
      new PutObjectCommand({ Bucket: 'lc-locked', Key: 'k', Body: 'held', ObjectLockLegalHoldStatus: 'ON' }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'lc-locked', Key: 'k', Body: 'newer' }));
    const free = (await s3.send(new PutObjectCommand({ Bucket: 'lc-locked', Key: 'free', Body: '1' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'lc-locked', Key: 'free', Body: '2' }));
    await waitForAsync(
      async () => !(await versionIds('lc-locked')).versions.includes(free),
      'the free version expires',
      15_000,
    );
    assert.ok((await versionIds('lc-locked')).versions.includes(held.VersionId!), 'the held version stays');
  });

  test('AbortIncompleteMultipartUpload aborts uploads older than its days', async () => {
    await bucketWith('lc-mpu', [
      {
        ID: 'mpu',
        Status: 'Enabled',
        Filter: { Prefix: 'up/' },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lc-mpu', Key: 'up/a' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lc-mpu', Key: 'other/b' }));
    const uploads = async () =>
      ((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'lc-mpu' }))).Uploads ?? []).map((u) => u.Key);
    await waitForAsync(async () => (await uploads()).length === 1, 'the abort', 15_000);
    assert.deepEqual(await uploads(), ['other/b']);
  });
});
