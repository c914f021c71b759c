// The lifecycle's due time, as the AWS user guide's example states it: an object created
// 1/15/2014 10:30 AM UTC with a 3-day expiration is due 1/19/2014 00:00 UTC
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html, "Days").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS, dueAt } from '../../lib/lifecycle.ts';

test('a lifecycle expiry falls due at the midnight UTC after its days have passed', () => {
  const created = Date.parse('2014-01-15T10:30:00Z');
  assert.equal(new Date(dueAt(created, 3, DAY_MS)).toISOString(), '2014-01-19T00:00:00.000Z');
  assert.equal(
    new Date(dueAt(Date.parse('2014-01-15T00:00:00Z'), 1, DAY_MS)).toISOString(),
    '2014-01-16T00:00:00.000Z',
  );
});
