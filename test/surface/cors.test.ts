// CORS, following https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html and
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html ("How does Amazon S3
// evaluate the CORS configuration on a bucket?").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { send, signed } from '../helpers/raw.ts';
import { presignUrl } from '../helpers/signer.ts';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';
import { NO_CHROMIUM, launchChromium, servePage } from '../helpers/chromium-origin.ts';

const BUCKET = 'cors-bucket';
const RULES: Array<{
  ID?: string;
  AllowedOrigins: string[];
  AllowedMethods: string[];
  AllowedHeaders?: string[];
  ExposeHeaders?: string[];
  MaxAgeSeconds?: number;
}> = [
  {
    ID: 'app',
    AllowedOrigins: ['http://app.example'],
    AllowedMethods: ['GET', 'PUT'],
    AllowedHeaders: ['content-type', 'x-amz-*'],
    ExposeHeaders: ['ETag'],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ['https://*.example.org'], AllowedMethods: ['GET'] },
];

describe('CORS', () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'public.txt', Body: 'hello from s3', ACL: 'public-read' }),
    );
  });
  after(() => srv.stop());

  test('GetBucketCors answers NoSuchCORSConfiguration until rules are put, then returns them; DeleteBucketCors removes them', async () => {
    const none = await sdkError(s3.send(new GetBucketCorsCommand({ Bucket: BUCKET })));
    assert.equal(none.name, 'NoSuchCORSConfiguration');
    assert.equal(none.$metadata.httpStatusCode, 404);
    await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }));
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }));
    assert.deepEqual(
      got.CORSRules,
      [RULES[0], { ...RULES[1], AllowedHeaders: undefined, ExposeHeaders: undefined }].map((r) =>
        JSON.parse(JSON.stringify(r)),
      ),
    );
    await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    assert.equal(
      (await sdkError(s3.send(new GetBucketCorsCommand({ Bucket: BUCKET })))).name,
      'NoSuchCORSConfiguration',
    );
  });

  test('PutBucketCors refuses an unknown method, more than 100 rules, two wildcards, and a rule without origin', async () => {
    const bad = async (rules: object[]) =>
      (
        await sdkError(
          s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: rules as never } })),
        )
      ).name;
    assert.equal(await bad([{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }]), 'InvalidRequest');
    assert.equal(
      await bad(Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }))),
      'InvalidRequest',
    );
    assert.equal(await bad([{ AllowedOrigins: ['http://*.*.example'], AllowedMethods: ['GET'] }]), 'InvalidRequest');
    const raw = await signed('PUT', `${srv.url}/${BUCKET}?cors`, {
      body: '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
    });
    assert.equal(raw.code, 'MalformedXML');
    // 100 rules are fine.
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: Array.from({ length: 100 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] })),
        },
      }),
    );
    await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
  });

  test('only the bucket owner may read or change the CORS rules', async () => {
    const anon = await send('GET', `${srv.url}/${BUCKET}?cors`, {});
    assert.equal(anon.code, 'AccessDenied');
  });

  test('preflight OPTIONS is answered per rule: first match wins, 403 CORSResponse when none matches or no rules exist', async () => {
    const pre = (origin: string, method: string, headers?: string) =>
      send('OPTIONS', `${srv.url}/${BUCKET}/some/key`, {
        origin,
        'access-control-request-method': method,
        ...(headers ? { 'access-control-request-headers': headers } : {}),
      });
    const off = await pre('http://app.example', 'GET');
    assert.equal(off.status, 403);
    assert.equal(off.code, 'CORSResponse');

    await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }));
    const ok = await pre('http://app.example', 'PUT', 'Content-Type, X-Amz-Meta-Colour');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], 'http://app.example');
    assert.equal(ok.headers['access-control-allow-methods'], 'GET, PUT');
    assert.equal(ok.headers['access-control-allow-headers'], 'content-type, x-amz-meta-colour');
    assert.equal(ok.headers['access-control-expose-headers'], 'ETag');
    assert.equal(ok.headers['access-control-max-age'], '600');
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    assert.match(String(ok.headers.vary), /Origin/);

    const wildcard = await pre('https://cdn.example.org', 'GET');
    assert.equal(wildcard.status, 200);
    assert.equal(wildcard.headers['access-control-allow-methods'], 'GET');

    for (const [origin, method, headers] of [
      ['http://evil.example', 'GET'],
      ['https://cdn.example.org', 'PUT'],
      ['http://app.example', 'GET', 'authorization-x'],
    ] as const) {
      const no = await pre(origin, method, headers);
      assert.equal(no.status, 403, `${origin} ${method} ${headers ?? ''}`);
      assert.equal(no.code, 'CORSResponse');
      assert.match(no.text, /This CORS request is not allowed/);
    }
    const noOrigin = await send('OPTIONS', `${srv.url}/${BUCKET}`, { 'access-control-request-method': 'GET' });
    assert.equal(noOrigin.status, 400);
  });

  test('actual requests with a matching Origin get Access-Control-Allow-Origin, also on errors; others only Vary', async () => {
    await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }));
    const get = await send('GET', `${srv.url}/${BUCKET}/public.txt`, { origin: 'http://app.example' });
    assert.equal(get.status, 200);
    assert.equal(get.headers['access-control-allow-origin'], 'http://app.example');
    assert.equal(get.headers['access-control-expose-headers'], 'ETag');
    const missing = await send('GET', `${srv.url}/${BUCKET}/nope.txt`, { origin: 'http://app.example' });
    assert.equal(missing.code, 'AccessDenied');
    assert.equal(missing.headers['access-control-allow-origin'], 'http://app.example');
    const other = await send('GET', `${srv.url}/${BUCKET}/public.txt`, { origin: 'http://evil.example' });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    assert.match(String(other.headers.vary), /Origin/);
  });

  test('a page on another port reads and writes the bucket with cross-origin fetch in Chromium only when a rule allows it', {
    skip: NO_CHROMIUM,
    timeout: 60_000,
  }, async (t) => {
    const pageServer = await servePage(() => '<!doctype html><title>app</title><p>cross-origin app</p>');
    t.after(() => pageServer.close());
    const browser = await launchChromium();
    t.after(() => browser.close());
    const { page } = browser;
    await page.goto(pageServer.origin + '/');
    const objectUrl = `${srv.url}/${BUCKET}/public.txt`;
    const putUrl = presignUrl({
      method: 'PUT',
      url: `${srv.url}/${BUCKET}/from-browser.json`,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      headers: { 'content-type': 'application/json' },
    });
    const tryFetch = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) =>
      page.evaluate(
        async ([u, i]) => {
          try {
            const r = await fetch(u, i);
            return { ok: true, status: r.status, body: await r.text(), etag: r.headers.get('etag') };
          } catch (e) {
            return { ok: false, error: String(e) };
          }
        },
        [url, init] as const,
      );

    await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    const blocked = await tryFetch(objectUrl, {});
    assert.equal(blocked.ok, false, 'without rules the browser refuses the response');

    await s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: { CORSRules: [{ ...RULES[0]!, AllowedOrigins: [pageServer.origin] }] },
      }),
    );
    const read = await tryFetch(objectUrl, {});
    assert.deepEqual([read.ok, read.status, read.body], [true, 200, 'hello from s3']);
    assert.match(String(read.etag), /^"[0-9a-f]{32}"$/, 'ETag is exposed');
    // application/json makes the PUT non-simple: Chromium sends a preflight first.
    const put = await tryFetch(putUrl, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"from":"browser"}',
    });
    assert.deepEqual([put.ok, put.status], [true, 200], JSON.stringify(put));
    const stored = await signed('GET', `${srv.url}/${BUCKET}/from-browser.json`);
    assert.equal(stored.text, '{"from":"browser"}');
    const del = await tryFetch(objectUrl, { method: 'DELETE' });
    assert.equal(del.ok, false, 'DELETE is not an allowed method: the preflight fails');
  });
});
