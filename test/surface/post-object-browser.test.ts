// A real HTML form, served from another origin, submitted by Chromium (playwright-core)
// straight to the bucket, as in AWS's "Example: Browser-Based Upload using HTTP POST (Using
// AWS Signature Version 4)" (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { bodyBytes, startServer } from '../helpers/server.ts';
import { signedPolicyFields } from '../helpers/post-form.ts';
import { FILENAME_VARIABLE } from '../../lib/s3/post-object.ts';
import { NO_CHROMIUM, launchChromium, servePage } from '../helpers/chromium-origin.ts';

const BUCKET = 'form-bucket';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

test('Chromium submits an HTML upload form to the bucket and follows success_action_redirect back to the app', {
  skip: NO_CHROMIUM,
  timeout: 60_000,
}, async (t) => {
  const srv = await startServer();
  t.after(() => srv.stop());
  const s3 = srv.client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

  let formHtml = '';
  const app = await servePage(() => formHtml);
  t.after(() => app.close());
  const fields = {
    key: `user/betty/${FILENAME_VARIABLE}`,
    acl: 'private',
    success_action_redirect: `${app.origin}/done`,
    'Content-Type': 'text/plain',
    'x-amz-meta-uuid': '14365123651274',
    ...signedPolicyFields({
      conditions: [
        { bucket: BUCKET },
        ['starts-with', '$key', 'user/betty/'],
        { acl: 'private' },
        ['starts-with', '$success_action_redirect', app.origin],
        ['starts-with', '$Content-Type', 'text/'],
        { 'x-amz-meta-uuid': '14365123651274' },
        ['content-length-range', 1, 10 * 1024 * 1024],
      ],
    }),
  };
  formHtml = `<!doctype html><html><head><meta charset="utf-8"><title>upload</title></head><body>
    <form action="${srv.url}/${BUCKET}" method="post" enctype="multipart/form-data">
      ${Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
        .join('\n      ')}
      <input type="file" name="file">
      <input type="submit" value="Upload to Amazon S3">
    </form></body></html>`;

  const browser = await launchChromium();
  t.after(() => browser.close());
  const { page } = browser;
  await page.goto(`${app.origin}/`);
  const content = Buffer.concat([Buffer.from('hello from a form\n'), randomBytes(256 * 1024)]);
  await page.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: content });
  await Promise.all([page.waitForURL(`${app.origin}/done?**`), page.locator('input[type=submit]').click()]);

  const back = new URL(page.url());
  assert.equal(back.searchParams.get('bucket'), BUCKET);
  assert.equal(back.searchParams.get('key'), 'user/betty/notes.txt');
  assert.equal(back.searchParams.get('etag'), `"${createHash('md5').update(content).digest('hex')}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'user/betty/notes.txt' }));
  assert.ok((await bodyBytes(got.Body)).equals(content));
  assert.equal(got.ContentType, 'text/plain');
  assert.deepEqual(got.Metadata, { uuid: '14365123651274' });
});
