// The web console end to end: a real server, Debian's Chromium, every flow a user has, each
// checked through the S3 API with the AWS SDK; screenshots go to a temp directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { bodyBytes, startServer, ACCESS_KEY, SECRET_KEY, REGION } from '../helpers/server.ts';
import { launchBrowser, SKIP_BROWSER } from '../helpers/browser.ts';
import { version } from '../../lib/version.ts';

const MiB = 1024 * 1024;
// Browser globals for the functions that run in the page (the page's CSP forbids string eval).
interface PageElement {
  getAttribute(name: string): string | null;
  value: string;
  textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
  documentElement: { scrollWidth: number; clientWidth: number };
  activeElement: PageElement | null;
  defaultView: { scrollTo(x: number, y: number): void };
};
declare const location: { hash: string };
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare class DataTransfer {
  items: { add(file: File): void };
}
declare class File {
  constructor(parts: string[], name: string, options: { type: string });
}

test('the web console drives every flow end to end in a real browser, fetching nothing off-host', {
  skip: SKIP_BROWSER,
  timeout: 240_000,
}, async (t) => {
  const s = await startServer({ durability: 'off' });
  t.after(() => s.stop());
  const sdk = s.client();
  const host = new URL(s.url).host;
  const b = await launchBrowser(t, { expectHttpErrors: true });
  const { page, context } = b;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
  // Cumulative layout shift (https://web.dev/articles/cls), summed by the browser itself.
  await page.addInitScript(() => {
    type Shift = {
      value: number;
      hadRecentInput: boolean;
      sources: Array<{ node?: { nodeName: string; className?: string; textContent: string | null } }>;
    };
    const w = globalThis as unknown as { cls: number; shifted: string[] };
    w.cls = 0;
    w.shifted = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as Shift[]) {
        if (e.hadRecentInput) continue;
        w.cls += e.value;
        for (const src of e.sources)
          w.shifted.push(
            `${src.node?.nodeName}.${src.node?.className ?? ''} "${(src.node?.textContent ?? '').slice(0, 40)}"`,
          );
      }
    }).observe({ type: 'layout-shift', buffered: true } as never); // a browser entry type Node's types do not know
  });
  const layoutShift = () => page.evaluate(() => (globalThis as unknown as { cls: number }).cls);
  const resetShift = () => page.evaluate(() => Object.assign(globalThis, { cls: 0, shifted: [] }));
  const shifted = () => page.evaluate(() => (globalThis as unknown as { shifted: string[] }).shifted.join('; '));
  const shot = (name: string) => page.screenshot({ path: path.join(b.dir, `${name}.png`) });
  const confirm = (label: string) => page.locator('dialog').getByRole('button', { name: label, exact: true }).click();
  const rowOf = (key: string) => page.locator(`tr[data-key="${key}"]`);

  await t.test('a browser opening / lands on the login page; a wrong secret is refused', async () => {
    await page.goto(`${s.url}/`);
    assert.equal(new URL(page.url()).pathname, '/ui/');
    await page.locator('#login-key').waitFor();
    await page.fill('#login-key', ACCESS_KEY);
    await page.fill('#login-secret', 'not-the-secret');
    await page.click('button[type=submit]');
    await page.locator('#login-error', { hasText: 'wrong' }).waitFor();
    await shot('01-login');
    await page.fill('#login-secret', SECRET_KEY);
    await page.click('button[type=submit]');
    await page.locator('h1', { hasText: 'Buckets' }).waitFor();
    assert.equal(await page.locator('#login-secret').count(), 0, 'the secret field is gone with the login form');
    const cookies = await context.cookies(s.url);
    assert.deepEqual(
      cookies.map((c) => [c.name, c.httpOnly, c.sameSite]),
      [['bleepstore_session', true, 'Strict']],
    );
  });

  await t.test('creating a bucket shows it with owner, object count and size', async () => {
    await page.fill('#new-bucket', 'photos');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    const row = page.locator('tr[data-bucket="photos"]');
    await row.waitFor();
    await sdk.send(new HeadBucketCommand({ Bucket: 'photos' }));
    for (const k of ['docs/a.txt', 'docs/b.txt', 'docs/sub/c.txt', 'top.txt'])
      await sdk.send(new PutObjectCommand({ Bucket: 'photos', Key: k, Body: `hello ${k}` }));
    await page.reload();
    await row.locator('td', { hasText: 'bleepstore' }).waitFor();
    assert.equal((await row.locator('td').nth(1).textContent())?.trim(), '4');
    assert.match((await row.textContent()) ?? '', /Private/);
    await shot('02-buckets');
  });

  await t.test('browsing shows folders from the delimiter, a breadcrumb and a prefix filter', async () => {
    await page.click('a[href="#/b/photos/"]');
    await page.locator('tr[data-prefix="docs/"]').waitFor();
    await rowOf('top.txt').waitFor();
    await page.click('tr[data-prefix="docs/"] a');
    await rowOf('docs/a.txt').waitFor();
    assert.deepEqual(await page.locator('.breadcrumb li').allTextContents(), ['Buckets', 'photos', 'docs']);
    assert.equal(await page.locator('tr[data-prefix="docs/sub/"]').count(), 1);
    await page.fill('#filter', 'a');
    await page.waitForFunction(() => document.querySelectorAll('.objects-table tbody tr[data-key]').length === 1);
    assert.equal(await rowOf('docs/a.txt').count(), 1);
    await page.fill('#filter', '');
    await rowOf('docs/b.txt').waitFor();
    await page.click('.breadcrumb a:text-is("photos")');
    await rowOf('top.txt').waitFor();
  });

  const big = randomBytes(20 * MiB);
  await t.test('a 20 MiB upload goes up in parts with a moving progress bar', async () => {
    // Throttle the browser's uploads so the bar can be watched (Chrome DevTools network conditions).
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 8 * MiB,
    });
    await page.setInputFiles('#file-picker', { name: 'big.bin', mimeType: 'application/octet-stream', buffer: big });
    const item = page.locator('li.upload-item[data-key="big.bin"]');
    await item.waitFor();
    const seen = new Set<number>();
    for (let i = 0; i < 600 && (await item.getAttribute('data-state')) !== 'done'; i++) {
      seen.add(Number((await item.locator('progress').getAttribute('value')) ?? 0));
      if (seen.size === 4) await shot('03-upload-progress');
      await page.waitForTimeout(50);
    }
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    assert.equal(await item.getAttribute('data-state'), 'done', (await item.textContent()) ?? '');
    const partial = [...seen].filter((v) => v > 0 && v < big.length);
    assert.ok(partial.length >= 3, `the bar moved through several values (${[...seen].join(', ')})`);
    const head = await sdk.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'big.bin' }));
    assert.equal(head.ContentLength, big.length);
    assert.match(head.ETag ?? '', /-3"$/, 'three 8 MiB parts: a multipart ETag');
    const got = await bodyBytes((await sdk.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin' }))).Body);
    assert.ok(got.equals(big), 'the stored bytes are the uploaded bytes');
    await rowOf('big.bin').waitFor();
  });

  await t.test('cancelling a multipart upload aborts it and stores nothing', async () => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 2 * MiB,
    });
    await page.setInputFiles('#file-picker', {
      name: 'cancel-me.bin',
      mimeType: 'application/octet-stream',
      buffer: randomBytes(20 * MiB),
    });
    const item = page.locator('li.upload-item[data-key="cancel-me.bin"]');
    await page.waitForFunction(
      () =>
        Number(document.querySelector('li.upload-item[data-key="cancel-me.bin"] progress')?.getAttribute('value')) > 0,
      null,
      { timeout: 20_000 },
    );
    await item.getByRole('button', { name: /^Cancel/ }).click();
    await page.locator('li.upload-item[data-key="cancel-me.bin"][data-state="cancelled"]').waitFor();
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    let uploads = 1;
    for (let i = 0; i < 50 && uploads; i++) {
      uploads = (await sdk.send(new ListMultipartUploadsCommand({ Bucket: 'photos' }))).Uploads?.length ?? 0;
      if (uploads) await page.waitForTimeout(100);
    }
    assert.equal(uploads, 0, 'the multipart upload was aborted');
    await assert.rejects(sdk.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'cancel-me.bin' })), {
      name: 'NotFound',
    });
  });

  await t.test('several files dropped on the list are uploaded', async () => {
    const files: Array<[string, string]> = [
      ['one.txt', 'first'],
      ['two.txt', 'second'],
      ['three.txt', 'third'],
    ];
    // A DataTransfer holding the files, as the browser builds one for a real drop.
    const dt = await page.evaluateHandle((fs) => {
      const d = new DataTransfer();
      for (const [name, body] of fs) d.items.add(new File([body], name, { type: 'text/plain' }));
      return d;
    }, files);
    await page.dispatchEvent('.dropzone', 'dragenter', { dataTransfer: dt });
    assert.ok(await page.locator('.dropzone.dragging .drop-hint').isVisible(), 'the drop hint shows while dragging');
    await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: dt });
    for (const [name] of files) await page.locator(`li.upload-item[data-key="${name}"][data-state="done"]`).waitFor();
    for (const [name, body] of files) {
      const o = await sdk.send(new GetObjectCommand({ Bucket: 'photos', Key: name }));
      assert.equal(await o.Body!.transformToString(), body);
      assert.equal(o.ContentType, 'text/plain');
    }
    await rowOf('three.txt').waitFor();
    await shot('04-objects');
  });

  await t.test('download saves exactly the stored bytes', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      rowOf('big.bin').getByRole('button', { name: 'Download big.bin' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'big.bin');
    const saved = await readFile(await download.path());
    assert.ok(saved.equals(big), 'the downloaded file equals the uploaded one');
  });

  await t.test('a shared link with a 7-day expiry works from outside the session and is copied', async () => {
    await rowOf('big.bin').getByRole('button', { name: 'Share big.bin' }).click();
    await page.selectOption('#share-expiry', String(7 * 86400));
    await page.getByRole('button', { name: 'Create link' }).click();
    await page.waitForFunction(() => document.querySelector('#share-url')?.value.startsWith('http'));
    const url = await page.inputValue('#share-url');
    await shot('05-share');
    await page.getByRole('button', { name: 'Copy' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
    const u = new URL(url);
    assert.equal(u.host, host);
    assert.equal(u.searchParams.get('X-Amz-Expires'), '604800');
    assert.ok(!url.includes(SECRET_KEY));
    const res = await fetch(url); // no cookie, no session: only the signature
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(big));
    await page.keyboard.press('Escape');
  });

  await t.test('object details show metadata, checksum and ACL', async () => {
    await sdk.send(
      new PutObjectCommand({
        Bucket: 'photos',
        Key: 'report.csv',
        Body: 'a,b\n1,2\n',
        ContentType: 'text/csv',
        Metadata: { department: 'finance' },
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    await page.getByRole('button', { name: 'Refresh' }).click();
    await rowOf('report.csv').getByRole('button', { name: 'Details report.csv' }).click();
    const dlg = page.locator('dialog');
    await dlg.locator('h3', { hasText: 'Access control list' }).waitFor();
    const text = (await dlg.textContent()) ?? '';
    for (const want of ['text/csv', 'department', 'finance', 'SHA256', 'FULL_CONTROL', 'bleepstore'])
      assert.ok(text.includes(want), `details show ${want}`);
    await shot('06-details');
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
  });

  await t.test('deleting one object, a selection, and a whole prefix after confirmation', async () => {
    await rowOf('report.csv').getByRole('button', { name: 'Delete report.csv' }).click();
    await confirm('Delete');
    await rowOf('report.csv').waitFor({ state: 'detached' });
    await rowOf('one.txt').locator('input[type=checkbox]').check();
    await rowOf('two.txt').locator('input[type=checkbox]').check();
    await page.getByRole('button', { name: 'Delete selected (2)' }).click();
    await confirm('Delete');
    await rowOf('two.txt').waitFor({ state: 'detached' });
    await page.click('tr[data-prefix="docs/"] a');
    await rowOf('docs/a.txt').waitFor();
    await page.getByRole('button', { name: 'Delete folder' }).first().click();
    await shot('07-confirm-delete-prefix');
    await confirm('Delete everything');
    await page.waitForFunction(() => location.hash === '#/b/photos/');
    const left = (await sdk.send(new ListObjectsV2Command({ Bucket: 'photos' }))).Contents?.map((o) => o.Key).sort();
    assert.deepEqual(left, ['big.bin', 'three.txt', 'top.txt']);
  });

  await t.test('a folder of 1005 keys pages by 1000 with continuation tokens', async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `many/k${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(
        keys.slice(i, i + 50).map((k) => sdk.send(new PutObjectCommand({ Bucket: 'photos', Key: k, Body: 'x' }))),
      );
    await resetShift();
    await page.goto(`${s.url}/ui/#/b/photos/many%2F`);
    await rowOf('many/k0999').waitFor();
    assert.ok(
      (await layoutShift()) < 0.01,
      `loading 1000 rows shifts nothing already shown (CLS ${await layoutShift()}: ${await shifted()})`,
    );
    assert.equal(await page.locator('.objects-table tbody tr[data-key]').count(), 1000);
    await page.getByRole('button', { name: 'Next ›' }).click();
    await rowOf('many/k1004').waitFor();
    assert.equal(await page.locator('.objects-table tbody tr[data-key]').count(), 5);
    assert.ok(await page.getByRole('button', { name: 'Next ›' }).isDisabled());
    await page.getByRole('button', { name: '‹ Previous' }).click();
    await rowOf('many/k0000').waitFor();
    await page.fill('#filter', 'k100');
    await page.waitForFunction(() => document.querySelectorAll('.objects-table tbody tr[data-key]').length === 5); // k1000 to k1004
  });

  await t.test('a bucket is made public-read and private again', async () => {
    await page.click('nav a:text-is("Buckets")');
    await page.locator('tr[data-bucket="photos"] .badge').waitFor();
    await page.reload(); // a fresh load: login check, top bar, rows, then each row's totals
    const row = page.locator('tr[data-bucket="photos"]');
    await row.locator('.badge').waitFor();
    assert.ok(
      (await layoutShift()) < 0.01,
      `the bucket list fills in without moving (CLS ${await layoutShift()}: ${await shifted()})`,
    );
    await row.getByRole('button', { name: 'Make public' }).click();
    await confirm('Make public');
    await row.locator('.badge', { hasText: 'Public read' }).waitFor();
    assert.equal((await fetch(`${s.url}/photos?list-type=2`)).status, 200, 'anonymous listing works');
    await row.getByRole('button', { name: 'Make private' }).click();
    await row.locator('.badge', { hasText: 'Private' }).waitFor();
    assert.equal((await fetch(`${s.url}/photos?list-type=2`)).status, 403, 'anonymous listing is refused again');
  });

  await t.test('a bucket is created and deleted', async () => {
    await page.fill('#new-bucket', 'scratch-bucket');
    await page.keyboard.press('Enter');
    const row = page.locator('tr[data-bucket="scratch-bucket"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Delete bucket scratch-bucket' }).click();
    await confirm('Delete');
    await row.waitFor({ state: 'detached' });
    await assert.rejects(sdk.send(new HeadBucketCommand({ Bucket: 'scratch-bucket' })), { name: 'NotFound' });
  });

  await t.test('the admin page shows status and live metrics, and creates, rotates and deletes keys', async () => {
    await page.click('nav a:text-is("Admin")');
    await page.locator('.status-item', { hasText: `BleepStore ${version}` }).waitFor();
    for (const want of ['Uptime', 'Durability', 'Disk free', s.dataDir, 'Start-up recovery'])
      assert.ok((await page.locator('.status-grid').textContent())?.includes(want), want);
    await page.waitForFunction(
      () => document.querySelector('.chart path.line-req')?.getAttribute('d')?.includes('L'),
      null,
      { timeout: 15_000 },
    );

    await page.fill('#key-name', 'alice');
    await page.getByRole('button', { name: 'Create key' }).click();
    const id = await page.inputValue('#new-access-key');
    const secret1 = await page.inputValue('#new-secret-key');
    await shot('08-admin-key-created');
    await confirm('I have saved it');
    const as = (secret: string) =>
      new S3Client({
        endpoint: s.url,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: id, secretAccessKey: secret },
      });
    await as(secret1).send(new ListBucketsCommand({}));
    assert.equal(await page.locator('#new-secret-key').count(), 0, 'the secret is not on the page any more');

    await page
      .locator(`tr[data-key="${id}"]`)
      .getByRole('button', { name: `Rotate ${id}` })
      .click();
    await confirm('Rotate');
    const secret2 = await page.inputValue('#new-secret-key');
    assert.notEqual(secret2, secret1);
    await confirm('I have saved it');
    await assert.rejects(as(secret1).send(new ListBucketsCommand({})), { name: 'SignatureDoesNotMatch' });
    await as(secret2).send(new ListBucketsCommand({}));

    await page
      .locator(`tr[data-key="${id}"]`)
      .getByRole('button', { name: `Delete ${id}` })
      .click();
    await confirm('Delete');
    await page.locator(`tr[data-key="${id}"]`).waitFor({ state: 'detached' });
    await assert.rejects(as(secret2).send(new ListBucketsCommand({})), { name: 'InvalidAccessKeyId' });
    // Some traffic, a few of it failing, so the chart has something to draw.
    for (let i = 0; i < 40; i++) {
      await sdk.send(new ListObjectsV2Command({ Bucket: 'photos', MaxKeys: 10 }));
      if (i % 8 === 0) await fetch(`${s.url}/photos/top.txt`); // anonymous: 403
      await page.waitForTimeout(75);
    }
    await page.waitForTimeout(2100);
    assert.notEqual(await page.locator('.stat-value').first().textContent(), '—');
    await page.evaluate(() => document.defaultView.scrollTo(0, 0));
    await page.screenshot({ path: path.join(b.dir, '09-admin.png'), fullPage: true });
  });

  await t.test('the console is usable on a narrow screen and by keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('nav a:text-is("Buckets")');
    await page.locator('tr[data-bucket="photos"]').waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px too wide)`);
    await shot('10-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
    // Tab from the top of a freshly loaded page reaches the skip link first.
    await page.reload();
    await page.locator('tr[data-bucket="photos"]').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.locator('a[href="#/b/photos/"]').focus();
    await page.keyboard.press('Enter');
    await rowOf('top.txt').waitFor();
  });

  await t.test('logging out ends the session', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('#login-key').waitFor();
    await page.reload();
    await page.locator('#login-key').waitFor();
  });

  assert.deepEqual(b.offHost(host), [], 'every request went to the test server');
  assert.deepEqual(b.problems, []);
  t.diagnostic(`screenshots: ${b.dir}`);
});

test('the console works behind a reverse proxy that serves it under a base path', {
  skip: SKIP_BROWSER,
  timeout: 120_000,
}, async (t) => {
  const s = await startServer({ durability: 'off' });
  t.after(() => s.stop());
  const sdk = s.client();
  await sdk.send(new CreateBucketCommand({ Bucket: 'behind-proxy' }));
  await sdk.send(
    new PutObjectCommand({ Bucket: 'behind-proxy', Key: 'dir/hello.txt', Body: 'hello through the proxy' }),
  );
  // A proxy as nginx's `location /store/ { proxy_pass http://backend/; proxy_set_header Host $host; }`.
  const target = new URL(s.url);
  const proxy = http.createServer((req, res) => {
    if (!req.url?.startsWith('/store/')) {
      res.writeHead(404).end();
      return;
    }
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url.slice('/store'.length),
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  );
  const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/store/`;

  const b = await launchBrowser(t, { expectHttpErrors: true });
  const { page, context } = b;
  await page.goto(base);
  assert.equal(page.url(), `${base}ui/`, 'the redirect stays under the base path');
  await page.fill('#login-key', ACCESS_KEY);
  await page.fill('#login-secret', SECRET_KEY);
  await page.click('button[type=submit]');
  await page.click('a[href="#/b/behind-proxy/"]');
  await page.click('tr[data-prefix="dir/"] a');
  await page.locator('tr[data-key="dir/hello.txt"]').waitFor();
  assert.deepEqual(
    (await context.cookies(base)).map((c) => c.path),
    ['/store/'],
    'the cookie is scoped to the base path',
  );
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download hello.txt' }).click(),
  ]);
  assert.equal(await readFile(await download.path(), 'utf8'), 'hello through the proxy');
  assert.ok(
    b.urls.every((u) => u.startsWith(base)),
    `every request went through the base path: ${b.urls.filter((u) => !u.startsWith(base)).join(', ')}`,
  );
  assert.deepEqual(b.problems, []);
});
