// Times the console on one large bucket (STATUS.md "Web console"): a real server, N keys in
// one folder (N=100000 by default; seeding takes a few minutes), Chromium opening the bucket
// list, the folder's first page, three Next pages and a prefix filter. Not part of `npm test`.
//   node test/ui/large-bucket.measure.ts        N=20000 node test/ui/large-bucket.measure.ts
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startServer, ACCESS_KEY, SECRET_KEY } from '../helpers/server.ts';
import { CHROMIUM } from '../helpers/browser.ts';

const N = Number(process.env.N ?? 100_000);
const keyOf = (i: number) => `logs/2026/entry-${String(i).padStart(6, '0')}.json`;

const s = await startServer({ durability: 'off' });
const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-measure-'));
try {
  const sdk = s.client({
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }) }),
  });
  await sdk.send(new CreateBucketCommand({ Bucket: 'huge' }));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 48 }, async () => {
      while (next < N) await sdk.send(new PutObjectCommand({ Bucket: 'huge', Key: keyOf(next++), Body: '{}' }));
    }),
  );
  console.log(`seeded ${N} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const time = async (what: string, act: () => Promise<unknown>, ...waits: Array<[string, string]>) => {
    const t = performance.now();
    await act();
    for (const [label, selector] of waits) {
      await page.waitForSelector(selector);
      console.log(`${what}, ${label}: ${(performance.now() - t).toFixed(0)} ms`);
    }
  };
  await page.goto(`${s.url}/`);
  await page.fill('#login-key', ACCESS_KEY);
  await page.fill('#login-secret', SECRET_KEY);
  await time('bucket list', () => page.click('button[type=submit]'), [
    'with its totals',
    `tr[data-bucket="huge"] td:has-text("${N.toLocaleString('en-US')}")`,
  ]);
  const rows = (first: number) =>
    [
      ['first rows', `tr[data-key="${keyOf(first)}"]`],
      ['all 1000 rows', `tr[data-key="${keyOf(Math.min(N, first + 1000) - 1)}"]`],
    ] as Array<[string, string]>;
  await time('folder page 1', () => page.goto(`${s.url}/ui/#/b/huge/logs%2F2026%2F`), ...rows(0));
  for (let p = 1; p <= 3 && p * 1000 < N; p++)
    await time(`Next to page ${p + 1}`, () => page.click('button:has-text("Next ›")'), ...rows(p * 1000));
  const filter = keyOf(N - 1).slice('logs/2026/'.length, -'00.json'.length);
  await time(`filter "${filter}" (300 ms debounce)`, () => page.fill('#filter', filter), [
    'rows',
    `tr[data-key="${keyOf(N - 1)}"]`,
  ]);
  for (const line of s.logs) {
    const r = JSON.parse(line) as { op?: string; duration_ms?: number };
    if (r.op === 'ListObjectsV2') console.log(`server ListObjectsV2: ${r.duration_ms?.toFixed(1)} ms`);
  }
  await context.close();
} finally {
  await s.stop();
  await rm(dir, { recursive: true, force: true });
}
