// Opens /docs in a real browser (Debian's chromium, driven by playwright-core, which never
// downloads a browser of its own) and checks that Swagger UI renders the document with
// everything fetched from the test server's host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startServer } from '../helpers/server.ts';
import { launchBrowser, SKIP_BROWSER } from '../helpers/browser.ts';

test('Swagger UI at /docs renders the operations and expands one, fetching nothing off-host', {
  skip: SKIP_BROWSER,
  timeout: 60_000,
}, async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const { page, urls, problems, dir, offHost } = await launchBrowser(t);

  const res = await page.goto(`${s.url}/docs`, { waitUntil: 'networkidle' });
  assert.equal(res?.status(), 200);
  await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
  const ids = await page.locator('.opblock .opblock-summary-operation-id').allTextContents();
  for (const id of ['ListBuckets', 'CreateBucket', 'GetBucket', 'PutObject', 'GetObject', 'PostObject', 'Health']) {
    assert.ok(ids.includes(id), `operation ${id} is listed (saw ${ids.join(', ')})`);
  }
  assert.equal(await page.getByText('Failed to load API definition').count(), 0);
  assert.equal(await page.locator('.errors-wrapper').count(), 0, 'Swagger UI shows no errors');
  await page.screenshot({ path: path.join(dir, 'docs-top.png') });

  // Expand GET /{Bucket}/{Key+}: its parameters and responses appear.
  const op = page
    .locator('.opblock')
    .filter({ has: page.locator('.opblock-summary-operation-id', { hasText: /^GetObject$/ }) })
    .first();
  await op.locator('.opblock-summary').click();
  await op.locator('.opblock-body').waitFor();
  await op.locator('.parameters-container').waitFor();
  await op.locator('.responses-wrapper').waitFor();
  assert.ok((await op.locator('.parameter__name', { hasText: 'Range' }).count()) >= 1, 'the Range header is listed');
  assert.ok((await op.locator('.response-col_status', { hasText: '206' }).count()) >= 1, 'the 206 response is listed');

  const shot = path.join(dir, 'docs.png');
  await page.screenshot({ path: shot, fullPage: false });
  assert.ok(existsSync(shot));
  t.diagnostic(`screenshots: ${dir}`);

  assert.deepEqual(offHost(new URL(s.url).host), [], 'every request goes to the test server');
  assert.ok(
    urls.some((u) => u.endsWith('/openapi.json')),
    'the page fetched /openapi.json',
  );
  assert.deepEqual(problems, []);
});
