// Bucket notification configurations (Put/GetBucketNotificationConfiguration) route the events
// of a mixed run of S3 writes to real Redis and RabbitMQ targets, in the AWS and BleepStore
// formats, filtered by event name, prefix and suffix; a bucket without a configuration uses
// the server-wide target.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type QueueConfiguration,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ConfigInput } from '../../lib/config.ts';
import { type Broker, haveCommand, startRabbit, startRedis } from '../helpers/brokers.ts';
import { type Body, nameAndKey, rabbitDrain, redisStream, waitFor } from '../helpers/event-readers.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const TARGETS = ['redis-aws', 'redis-bs', 'rabbit-aws', 'rabbit-bs'] as const;
const arn = (t: string) => `arn:bleepstore:sqs:us-east-1::${t}`;

/** Per target: created .txt objects under in/, every removal, every object ACL change. */
function rules(): QueueConfiguration[] {
  return TARGETS.flatMap((t): QueueConfiguration[] => [
    {
      Id: `${t}-created`,
      QueueArn: arn(t),
      Events: ['s3:ObjectCreated:*'],
      Filter: {
        Key: {
          FilterRules: [
            { Name: 'prefix', Value: 'in/' },
            { Name: 'suffix', Value: '.txt' },
          ],
        },
      },
    },
    { Id: `${t}-removed`, QueueArn: arn(t), Events: ['s3:ObjectRemoved:*'] },
    { Id: `${t}-acl`, QueueArn: arn(t), Events: ['s3:ObjectAcl:Put'] },
  ]);
}

const skip =
  (!haveCommand('redis-server') && 'redis-server is not installed') ||
  (!haveCommand('epmd') && 'rabbitmq-server is not installed');

describe('bucket notification configuration', { skip }, () => {
  let redis: Broker;
  let rabbit: Broker;
  let s: TestServer;
  let c: S3Client;
  before(async () => {
    [redis, rabbit] = await Promise.all([startRedis(), startRabbit()]);
    const target = (name: string, format: string) =>
      name.startsWith('redis')
        ? { name, type: 'redis', format, url: redis.url, redis: { stream: name } }
        : { name, type: 'rabbitmq', format, url: rabbit.url, rabbitmq: { exchange: name, queue: name } };
    s = await startServer({
      events: {
        targets: [
          ...TARGETS.map((t) => target(t, t.endsWith('aws') ? 'aws' : 'bleepstore')),
          {
            name: 'everything',
            type: 'redis',
            format: 'bleepstore',
            url: redis.url,
            all_buckets: true,
            redis: { stream: 'everything' },
          },
        ],
      },
    } as unknown as ConfigInput);
    c = s.client();
  });
  after(async () => {
    await s?.stop();
    await Promise.all([redis?.destroy(), rabbit?.destroy()]);
  });

  test('PutBucketNotificationConfiguration stores the rules and Get returns them', async () => {
    await c.send(new CreateBucketCommand({ Bucket: 'notif' }));
    const empty = await c.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'notif' }));
    assert.equal(empty.QueueConfigurations, undefined);
    await c.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'notif',
        NotificationConfiguration: { QueueConfigurations: rules() },
      }),
    );
    const got = await c.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'notif' }));
    assert.equal(got.QueueConfigurations?.length, 12);
    assert.deepEqual(got.QueueConfigurations?.[0], rules()[0]);
  });

  test('a destination that names no configured target is refused with InvalidArgument', async () => {
    await assert.rejects(
      c.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'notif',
          NotificationConfiguration: {
            QueueConfigurations: [{ QueueArn: arn('nowhere'), Events: ['s3:ObjectCreated:*'] }],
          },
        }),
      ),
      (e: Error) => e.name === 'InvalidArgument' && /destination/.test(e.message),
    );
    await assert.rejects(
      c.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'notif',
          NotificationConfiguration: {
            QueueConfigurations: [{ QueueArn: arn('redis-aws'), Events: ['s3:ObjectMade:*' as 's3:ObjectCreated:*'] }],
          },
        }),
      ),
      (e: Error) => e.name === 'InvalidArgument',
    );
    const still = await c.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'notif' }));
    assert.equal(still.QueueConfigurations?.length, 12, 'a refused configuration changes nothing');
  });

  test('a mixed run of writes yields exactly the filtered events, in order, on every target and format', async () => {
    const put = (Key: string) => c.send(new PutObjectCommand({ Bucket: 'notif', Key, Body: 'hello' }));
    await put('in/a.txt');
    await put('in/b.bin'); // suffix filtered out
    await put('out/c.txt'); // prefix filtered out
    await c.send(new CopyObjectCommand({ Bucket: 'notif', Key: 'in/copy.txt', CopySource: 'notif/in/a.txt' }));
    const up = await c.send(new CreateMultipartUploadCommand({ Bucket: 'notif', Key: 'in/mp.txt' }));
    const part = await c.send(
      new UploadPartCommand({ Bucket: 'notif', Key: 'in/mp.txt', UploadId: up.UploadId, PartNumber: 1, Body: 'p' }),
    );
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'notif',
        Key: 'in/mp.txt',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await c.send(new PutObjectAclCommand({ Bucket: 'notif', Key: 'in/a.txt', ACL: 'public-read' }));
    await assert.rejects(
      c.send(new PutObjectCommand({ Bucket: 'notif', Key: 'in/a.txt', Body: 'x', IfNoneMatch: '*' })),
    );
    await c.send(new DeleteObjectCommand({ Bucket: 'notif', Key: 'in/b.bin' }));
    await c.send(
      new DeleteObjectsCommand({ Bucket: 'notif', Delete: { Objects: [{ Key: 'in/a.txt' }, { Key: 'out/c.txt' }] } }),
    );
    const expected: Array<[string, string]> = [
      ['s3:ObjectCreated:Put', 'in/a.txt'],
      ['s3:ObjectCreated:Copy', 'in/copy.txt'],
      ['s3:ObjectCreated:CompleteMultipartUpload', 'in/mp.txt'],
      ['s3:ObjectAcl:Put', 'in/a.txt'],
      ['s3:ObjectRemoved:Delete', 'in/b.bin'],
      ['s3:ObjectRemoved:Delete', 'in/a.txt'],
      ['s3:ObjectRemoved:Delete', 'out/c.txt'],
    ];
    const received: Record<string, Body[]> = {};
    for (const t of TARGETS) {
      const acc: Body[] = [];
      const read = async () => {
        if (t.startsWith('redis')) return redisStream(redis.url, t);
        acc.push(...(await rabbitDrain(rabbit.url, t)));
        return acc;
      };
      received[t] = await waitFor(read, (b) => b.length >= expected.length);
      // Nothing more arrives later.
      await new Promise((r) => setTimeout(r, 300));
      received[t] = await read();
      assert.deepEqual(received[t].map(nameAndKey), expected, `events on ${t}`);
    }
    type AwsRecord = {
      s3: { configurationId: string; object: { size: number; eTag: string } };
      responseElements: Record<string, string>;
    };
    const aws = received['redis-aws']![0]!.Records as AwsRecord[];
    assert.equal(aws[0]!.s3.configurationId, 'redis-aws-created');
    assert.equal(aws[0]!.s3.object.size, 5);
    assert.match(aws[0]!.s3.object.eTag, /^[0-9a-f]{32}$/);
    const bs = received['rabbit-bs']![0]!;
    assert.equal(bs.type, 'object.created');
    assert.match(bs.id as string, /^evt_/);
    // The same event carries the same id/sequencer in every target and format.
    const ids = (t: string) =>
      received[t]!.map((b) =>
        Array.isArray(b.Records) ? (b.Records[0] as AwsRecord).responseElements['x-amz-id-2'] : b.id,
      );
    assert.deepEqual(ids('redis-aws'), ids('rabbit-bs'));
    assert.deepEqual(ids('redis-bs'), ids('rabbit-aws'));
    // A configured bucket's events do not go to the server-wide target.
    const everything = await redisStream(redis.url, 'everything');
    assert.ok(!everything.some((b) => (b.data as { bucket: string }).bucket === 'notif' && nameAndKey(b)[1]));
  });

  test('a bucket without a configuration sends every event to the server-wide target only', async () => {
    await c.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await c.send(new PutObjectCommand({ Bucket: 'plain', Key: 'x.bin', Body: 'x' }));
    await c.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'x.bin' }));
    const plain = (b: Body[]) => b.filter((x) => (x.data as { bucket: string }).bucket === 'plain').map(nameAndKey);
    const got = await waitFor(
      () => redisStream(redis.url, 'everything'),
      (b) => plain(b).length >= 3,
    );
    assert.deepEqual(plain(got), [
      ['bleepstore:BucketCreated', ''],
      ['s3:ObjectCreated:Put', 'x.bin'],
      ['s3:ObjectRemoved:Delete', 'x.bin'],
    ]);
    const aws = await redisStream(redis.url, 'redis-aws');
    assert.ok(!aws.some((b) => nameAndKey(b)[1] === 'x.bin'));
  });

  test('an empty configuration removes the rules: the bucket falls back to the server-wide target', async () => {
    await c.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'notif', NotificationConfiguration: {} }));
    const got = await c.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'notif' }));
    assert.equal(got.QueueConfigurations, undefined);
    await c.send(new PutObjectCommand({ Bucket: 'notif', Key: 'after.bin', Body: 'x' }));
    const everything = await waitFor(
      () => redisStream(redis.url, 'everything'),
      (b) => b.some((x) => nameAndKey(x)[1] === 'after.bin'),
    );
    assert.ok(everything.some((x) => nameAndKey(x)[1] === 'after.bin'));
  });
});
