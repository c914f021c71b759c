// The message formats, event-name patterns and the bucket notification XML, as pure functions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEventsConfig } from '../../lib/events/config.ts';
import type { BucketEvent } from '../../lib/events/event.ts';
import { awsEncodeKey, render } from '../../lib/events/format.ts';
import { eventMatches, isValidEventPattern } from '../../lib/events/names.ts';
import {
  notificationConfigXml,
  parseNotificationConfig,
  routesFor,
  targetArn,
} from '../../lib/events/notification-config.ts';
import { S3Error } from '../../lib/s3/errors.ts';
import { parseXml, xmlDocument } from '../../lib/s3/xml.ts';

const ev: BucketEvent = {
  seq: 42,
  name: 's3:ObjectCreated:Put',
  time: '2026-12-01T10:00:00.000Z',
  bucket: 'photos',
  key: 'a b/ç+1.jpg',
  size: 5,
  etag: '5d41402abc4b2a76b9719d911017c592',
  contentType: 'image/jpeg',
  region: 'us-east-1',
  requestId: 'REQ1',
  principal: 'P',
  bucketOwner: 'O',
  sourceIp: '127.0.0.1',
};

test('the AWS format has Records[] with eventName without "s3:", a form-encoded key, an unquoted eTag and a sequencer', () => {
  const doc = JSON.parse(render(ev, 'aws', 'rule-1', 'node-1'));
  const r = doc.Records[0];
  assert.equal(r.eventVersion, '2.1');
  assert.equal(r.eventSource, 'aws:s3');
  assert.equal(r.eventName, 'ObjectCreated:Put');
  assert.equal(r.s3.configurationId, 'rule-1');
  assert.equal(r.s3.bucket.arn, 'arn:aws:s3:::photos');
  assert.equal(r.s3.object.key, 'a+b%2F%C3%A7%2B1.jpg');
  assert.equal(r.s3.object.eTag, '5d41402abc4b2a76b9719d911017c592');
  assert.equal(r.s3.object.sequencer, '000000000000002A');
  assert.equal(r.responseElements['x-amz-request-id'], 'REQ1');
});

test('the spec envelope carries id, dot type, timestamp, source, request id and data', () => {
  const doc = JSON.parse(render(ev, 'bleepstore', '', 'node-1'));
  assert.deepEqual(doc, {
    id: 'evt_000000000000002a',
    type: 'object.created',
    timestamp: '2026-12-01T10:00:00.000Z',
    source: 'node-1',
    request_id: 'REQ1',
    data: {
      bucket: 'photos',
      key: 'a b/ç+1.jpg',
      size: 5,
      etag: '"5d41402abc4b2a76b9719d911017c592"',
      content_type: 'image/jpeg',
      s3_event: 's3:ObjectCreated:Put',
    },
  });
});

test('keys are encoded like AWS notifications: space as +, reserved characters percent-encoded', () => {
  assert.equal(awsEncodeKey("it's (1)*"), 'it%27s+%281%29%2A');
});

test('event patterns match exact names and trailing wildcards only', () => {
  assert.ok(eventMatches('s3:ObjectCreated:*', 's3:ObjectCreated:Copy'));
  assert.ok(!eventMatches('s3:ObjectCreated:*', 's3:ObjectRemoved:Delete'));
  assert.ok(eventMatches('s3:ObjectRemoved:Delete', 's3:ObjectRemoved:Delete'));
  assert.ok(isValidEventPattern('s3:ObjectRemoved:*'));
  assert.ok(!isValidEventPattern('s3:Object*'));
  assert.ok(!isValidEventPattern('s3:ObjectCreated:Nope'));
});

const config = (inner: string) =>
  parseXml(
    `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</NotificationConfiguration>`,
  );

test('a notification configuration round-trips and routes by event, prefix and suffix', () => {
  const arn = targetArn('us-east-1', 'audit');
  const rules = parseNotificationConfig(
    config(`<QueueConfiguration><Id>jpgs</Id><Queue>${arn}</Queue><Event>s3:ObjectCreated:*</Event>
      <Filter><S3Key><FilterRule><Name>Prefix</Name><Value>a </Value></FilterRule><FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter></QueueConfiguration>`),
    new Set(['audit']),
  );
  assert.deepEqual(routesFor(rules, 's3:ObjectCreated:Put', 'a b/ç+1.jpg'), [
    { target: 'audit', configurationId: 'jpgs' },
  ]);
  assert.deepEqual(routesFor(rules, 's3:ObjectCreated:Put', 'b.jpg'), []);
  assert.deepEqual(routesFor(rules, 's3:ObjectRemoved:Delete', 'a b.jpg'), []);
  const again = parseNotificationConfig(
    parseXml(xmlDocument('NotificationConfiguration', notificationConfigXml(rules))),
    new Set(['audit']),
  );
  assert.deepEqual(again, rules);
});

test('a destination that names no configured target is refused with InvalidArgument', () => {
  assert.throws(
    () =>
      parseNotificationConfig(
        config(
          `<QueueConfiguration><Queue>arn:bleepstore:sqs:us-east-1::nope</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`,
        ),
        new Set(['audit']),
      ),
    (e: unknown) => e instanceof S3Error && e.code === 'InvalidArgument',
  );
  assert.throws(
    () =>
      parseNotificationConfig(
        config(
          `<QueueConfiguration><Queue>${targetArn('us-east-1', 'audit')}</Queue><Event>s3:Bogus:*</Event></QueueConfiguration>`,
        ),
        new Set(['audit']),
      ),
    (e: unknown) => e instanceof S3Error && e.code === 'InvalidArgument',
  );
});

test('the spec queue section becomes one server-wide target; bad keys name themselves', () => {
  const c = parseEventsConfig(
    undefined,
    { enabled: true, backend: 'redis', redis: { url: 'redis://127.0.0.1:1', stream_prefix: 'x' } },
    'test',
  );
  assert.equal(c.targets.length, 1);
  assert.equal(c.targets[0]!.all_buckets, true);
  assert.equal(c.targets[0]!.redis.stream, 'x:events');
  assert.throws(
    () => parseEventsConfig({ targets: [{ name: 'a', type: 'redis' }] }, undefined, 'test'),
    /"events\.targets\[0\]\.url"/,
  );
  assert.throws(
    () => parseEventsConfig({ targets: [{ name: 'a', type: 'smtp', url: 'x', all_buckets: true }] }, undefined, 'test'),
    /"events\.targets\[0\]\.type"/,
  );
  assert.throws(
    () => parseEventsConfig(undefined, { enabled: true, consistency: 'eventual', redis: { url: 'x' } }, 'test'),
    /"queue\.consistency"/,
  );
  assert.equal(parseEventsConfig({ dispatcher: 'worker' }, undefined, 'test').dispatcher, 'worker');
  assert.equal(parseEventsConfig(undefined, undefined, 'test').dispatcher, 'main');
  assert.throws(() => parseEventsConfig({ dispatcher: 'fork' }, undefined, 'test'), /"events\.dispatcher"/);
});
