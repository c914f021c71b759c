// The console's security model over plain HTTP against a real server: logging in, what a
// session may do (exactly what its key may do through S3), and that a request without the
// session cookie, with a forged one, or without the CSRF header is anonymous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, ACCESS_KEY, SECRET_KEY, type TestServer } from '../helpers/server.ts';
import { SessionStore, IDLE_MS, MAX_AGE_MS } from '../../lib/ui/sessions.ts';

const CSRF = 'x-bleepstore-csrf';

interface Login {
  cookie: string;
  csrf: string;
  setCookie: string;
}

async function login(s: TestServer, accessKeyId: string, secretKey: string): Promise<Login> {
  const res = await fetch(`${s.url}/ui/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId, secretKey }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const setCookie = res.headers.get('set-cookie') ?? '';
  const { csrf } = (await res.json()) as { csrf: string };
  return { cookie: setCookie.split(';')[0]!, csrf, setCookie };
}

/** An S3 request as the console page makes it: unsigned, with the cookie and the CSRF header. */
function asPage(
  s: TestServer,
  l: Partial<Login>,
  method: string,
  path: string,
  body?: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...extra };
  if (l.cookie !== undefined) headers.cookie = l.cookie;
  if (l.csrf !== undefined) headers[CSRF] = l.csrf;
  return fetch(`${s.url}${path}`, { method, headers, body, redirect: 'manual' });
}

async function code(res: Response): Promise<string> {
  return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] ?? `HTTP ${res.status}`;
}

test('console login sets an HttpOnly SameSite=Strict cookie and refuses a wrong secret', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const wrong = await fetch(`${s.url}/ui/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId: ACCESS_KEY, secretKey: 'nope' }),
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('set-cookie'), null);
  const unknown = await fetch(`${s.url}/ui/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId: 'nobody', secretKey: SECRET_KEY }),
  });
  assert.equal(unknown.status, 401);
  const form = await fetch(`${s.url}/ui/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `accessKeyId=${ACCESS_KEY}&secretKey=${SECRET_KEY}`,
  });
  assert.equal(form.status, 415, 'a form post (what a cross-site page could send) is refused');
  const crossSite = await fetch(`${s.url}/ui/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
    body: JSON.stringify({ accessKeyId: ACCESS_KEY, secretKey: SECRET_KEY }),
  });
  assert.equal(crossSite.status, 403);

  const l = await login(s, ACCESS_KEY, SECRET_KEY);
  assert.match(l.setCookie, /^bleepstore_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
  assert.ok(!l.setCookie.includes(SECRET_KEY) && !l.csrf.includes(SECRET_KEY));
  const session = await fetch(`${s.url}/ui/api/session`, { headers: { cookie: l.cookie } });
  assert.equal(session.status, 200);
  const body = (await session.json()) as { user: { accessKeyId: string; admin: boolean }; csrf: string };
  assert.equal(body.user.accessKeyId, ACCESS_KEY);
  assert.equal(body.user.admin, true);
  assert.equal(body.csrf, l.csrf);
  assert.ok(!JSON.stringify(body).includes(SECRET_KEY), 'the secret never comes back');
});

test('a request without the session cookie, with a forged one, or without the CSRF header is anonymous', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const sdk = s.client();
  await sdk.send(new CreateBucketCommand({ Bucket: 'private-one' }));
  await sdk.send(new PutObjectCommand({ Bucket: 'private-one', Key: 'secret.txt', Body: 'top secret' }));
  const l = await login(s, ACCESS_KEY, SECRET_KEY);

  // The positive control: cookie and header together act as the key.
  assert.equal((await asPage(s, l, 'GET', '/')).status, 200);
  assert.equal(await (await asPage(s, l, 'GET', '/private-one/secret.txt')).text(), 'top secret');

  const cases: Array<[string, Partial<Login>]> = [
    ['no cookie, a CSRF header', { csrf: l.csrf }],
    ['the cookie without the CSRF header', { cookie: l.cookie }],
    ['the cookie with a wrong CSRF header', { cookie: l.cookie, csrf: 'x'.repeat(43) }],
    ['a forged cookie with the real CSRF header', { cookie: `bleepstore_session=${'A'.repeat(43)}`, csrf: l.csrf }],
    ['the CSRF token used as the cookie', { cookie: `bleepstore_session=${l.csrf}`, csrf: l.csrf }],
  ];
  for (const [what, creds] of cases) {
    assert.equal(
      await code(await asPage(s, creds, 'GET', '/', undefined, { accept: 'application/xml' })),
      'AccessDenied',
      `ListBuckets with ${what}`,
    );
    assert.equal(
      await code(await asPage(s, creds, 'GET', '/private-one?list-type=2')),
      'AccessDenied',
      `ListObjectsV2 with ${what}`,
    );
    assert.equal(
      await code(await asPage(s, creds, 'GET', '/private-one/secret.txt')),
      'AccessDenied',
      `GetObject with ${what}`,
    );
    assert.equal(
      await code(await asPage(s, creds, 'PUT', '/private-one/new.txt', 'x')),
      'AccessDenied',
      `PutObject with ${what}`,
    );
    assert.equal(
      await code(await asPage(s, creds, 'DELETE', '/private-one/secret.txt')),
      'AccessDenied',
      `DeleteObject with ${what}`,
    );
    assert.equal(
      await code(await asPage(s, creds, 'PUT', '/new-bucket-x')),
      'AccessDenied',
      `CreateBucket with ${what}`,
    );
    for (const [method, path, body] of [
      ['POST', 'presign', { bucket: 'private-one', key: 'secret.txt', expiresSeconds: 60 }],
      ['GET', 'bucket-stats?bucket=private-one'],
      ['GET', 'admin/keys'],
      ['GET', 'admin/status'],
      ['POST', 'admin/keys', { displayName: 'mallory' }],
    ] as const) {
      const res = await asPage(
        s,
        creds,
        method,
        `/ui/api/${path}`,
        body && JSON.stringify(body),
        body ? { 'content-type': 'application/json' } : {},
      );
      assert.equal(res.status, 401, `${method} /ui/api/${path} with ${what}`);
    }
  }
  assert.equal(
    await (await asPage(s, l, 'GET', '/private-one/secret.txt')).text(),
    'top secret',
    'the object is still there',
  );
  assert.equal(s.store.credentials.list().length, 1, 'no key was created');

  // Logout ends the session for good.
  const out = await asPage(s, l, 'POST', '/ui/api/logout', '{}', { 'content-type': 'application/json' });
  assert.equal(out.status, 200);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.equal(await code(await asPage(s, l, 'GET', '/private-one/secret.txt')), 'AccessDenied');
  assert.deepEqual(await (await fetch(`${s.url}/ui/api/session`, { headers: { cookie: l.cookie } })).json(), {
    user: null,
    csrf: null,
  });
});

test("a second owner's console session can neither see nor touch the first owner's private bucket", async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const alice = s.client();
  await alice.send(new CreateBucketCommand({ Bucket: 'alice-private' }));
  await alice.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'diary.txt', Body: 'dear diary' }));
  const bobKey = await s.store.credentials.create({ displayName: 'bob' });
  const bob = await login(s, bobKey.accessKeyId, bobKey.secretKey);

  // Bob's own things work: the session is a real principal.
  assert.equal((await asPage(s, bob, 'PUT', '/bob-bucket')).status, 200);
  assert.equal((await asPage(s, bob, 'PUT', '/bob-bucket/note.txt', 'hi bob')).status, 200);
  const list = await (await asPage(s, bob, 'GET', '/')).text();
  assert.match(list, /<Name>bob-bucket<\/Name>/);
  assert.doesNotMatch(list, /alice-private/, "ListBuckets shows only Bob's buckets");

  const denied: Array<[string, string, string?, Record<string, string>?]> = [
    ['GET', '/alice-private?list-type=2'],
    ['HEAD', '/alice-private'],
    ['GET', '/alice-private?acl'],
    ['GET', '/alice-private/diary.txt'],
    ['HEAD', '/alice-private/diary.txt'],
    ['GET', '/alice-private/diary.txt?acl'],
    ['PUT', '/alice-private/diary.txt', 'overwritten'],
    ['DELETE', '/alice-private/diary.txt'],
    ['PUT', '/alice-private?acl', undefined, { 'x-amz-acl': 'public-read' }],
    ['PUT', '/alice-private/diary.txt?acl', undefined, { 'x-amz-acl': 'public-read' }],
    ['DELETE', '/alice-private'],
    ['POST', '/alice-private/big.bin?uploads'],
  ];
  for (const [method, path, body, headers] of denied) {
    const res = await asPage(s, bob, method, path, body, headers);
    assert.equal(res.status, 403, `${method} ${path}`);
  }
  const del = await asPage(
    s,
    bob,
    'POST',
    '/alice-private?delete',
    '<Delete><Object><Key>diary.txt</Key></Object></Delete>',
    { 'content-md5': 'dvBOzwHPFqaKtSj3rlJVTQ==' },
  );
  assert.equal(del.status, 403, 'DeleteObjects');
  const stats = await asPage(s, bob, 'GET', '/ui/api/bucket-stats?bucket=alice-private');
  assert.equal(stats.status, 403);
  assert.equal((await asPage(s, bob, 'GET', '/ui/api/admin/keys')).status, 403, 'Bob is not the admin');
  assert.equal(
    (
      await asPage(s, bob, 'POST', '/ui/api/admin/keys/rotate', JSON.stringify({ accessKeyId: ACCESS_KEY }), {
        'content-type': 'application/json',
      })
    ).status,
    403,
  );

  // A link Bob presigns for Alice's object is signed with Bob's key: it gets Bob's answer.
  const signed = await asPage(
    s,
    bob,
    'POST',
    '/ui/api/presign',
    JSON.stringify({ bucket: 'alice-private', key: 'diary.txt', expiresSeconds: 600 }),
    { 'content-type': 'application/json' },
  );
  assert.equal(signed.status, 200);
  const { path, query } = (await signed.json()) as { path: string; query: string };
  assert.equal(await code(await fetch(`${s.url}${path}?${query}`)), 'AccessDenied');
  // ... while a link for his own object works from outside the session.
  const own = (await (
    await asPage(
      s,
      bob,
      'POST',
      '/ui/api/presign',
      JSON.stringify({ bucket: 'bob-bucket', key: 'note.txt', expiresSeconds: 600 }),
      { 'content-type': 'application/json' },
    )
  ).json()) as { path: string; query: string };
  assert.equal(await (await fetch(`${s.url}${own.path}?${own.query}`)).text(), 'hi bob');

  // Alice's object is untouched and still private.
  const aliceSession = await login(s, ACCESS_KEY, SECRET_KEY);
  assert.equal(await (await asPage(s, aliceSession, 'GET', '/alice-private/diary.txt')).text(), 'dear diary');
  assert.doesNotMatch(await (await asPage(s, aliceSession, 'GET', '/alice-private?acl')).text(), /AllUsers/);
});

test('presigned links survive keys with dot segments, spaces and non-ASCII, as browsers resolve URLs', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const sdk = s.client();
  await sdk.send(new CreateBucketCommand({ Bucket: 'odd-keys' }));
  const l = await login(s, ACCESS_KEY, SECRET_KEY);
  for (const key of ['a/../b.txt', './x/./y', 'sp ace/plus+sign/ünï©ode.txt', 'trailing/']) {
    await sdk.send(new PutObjectCommand({ Bucket: 'odd-keys', Key: key, Body: `body of ${key}` }));
    const res = await asPage(
      s,
      l,
      'POST',
      '/ui/api/presign',
      JSON.stringify({ bucket: 'odd-keys', key, expiresSeconds: 60, download: true }),
      { 'content-type': 'application/json' },
    );
    const { path, query } = (await res.json()) as { path: string; query: string };
    const url = new URL(`.${path}?${query}`, `${s.url}/`); // as the page builds it
    const got = await fetch(url);
    assert.equal(got.status, 200, `${key}: ${await got.clone().text()}`);
    assert.equal(await got.text(), `body of ${key}`);
    assert.match(got.headers.get('content-disposition') ?? '', /^attachment; filename="/);
  }
});

test('rotating or deleting a key ends its console sessions at once', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const k = await s.store.credentials.create({ displayName: 'carol' });
  const l = await login(s, k.accessKeyId, k.secretKey);
  assert.equal((await asPage(s, l, 'GET', '/')).status, 200);
  const rotated = await s.store.credentials.rotate(k.accessKeyId);
  assert.equal(await code(await asPage(s, l, 'GET', '/')), 'AccessDenied');
  const again = await login(s, k.accessKeyId, rotated.secretKey);
  assert.equal((await asPage(s, again, 'GET', '/')).status, 200);
  await s.store.credentials.delete(k.accessKeyId);
  assert.equal(await code(await asPage(s, again, 'GET', '/')), 'AccessDenied');
});

test('a browser opening / is sent to /ui/; S3 clients and signed requests are not', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const html = await fetch(`${s.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
  assert.equal(html.status, 302);
  assert.equal(html.headers.get('location'), 'ui/', 'relative, so it works under a proxy base path');
  const ui = await fetch(`${s.url}/ui`, { redirect: 'manual' });
  assert.equal(ui.headers.get('location'), 'ui/');
  const page = await fetch(`${s.url}/ui/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
  assert.match(await page.text(), /<script type="module" src="js\/main.js">/);
  assert.equal(
    await code(await fetch(`${s.url}/`)),
    'AccessDenied',
    'an unsigned S3 request for / is still ListBuckets',
  );
  assert.equal((await fetch(`${s.url}/ui/../lib/ui/console.ts`)).status !== 200, true);
  assert.equal((await fetch(`${s.url}/ui/js/nope.js`)).status, 404);
  // With the console session header, /metrics is a bucket named "metrics", as for a signed request.
  const l = await login(s, ACCESS_KEY, SECRET_KEY);
  assert.equal(await code(await asPage(s, l, 'GET', '/metrics?list-type=2')), 'NoSuchBucket');
});

test('observability.ui: false turns the console off', async (t) => {
  const s = await startServer({ observability: { ui: false } });
  t.after(() => s.stop());
  const html = await fetch(`${s.url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  assert.equal(await code(html), 'AccessDenied');
  assert.equal(await code(await fetch(`${s.url}/ui/`)), 'NoSuchBucket', '/ui/ is S3 again: bucket "ui"');
  const login = await fetch(`${s.url}/ui/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId: ACCESS_KEY, secretKey: SECRET_KEY }),
  });
  assert.notEqual(login.status, 200);
  assert.equal(login.headers.get('set-cookie'), null);
});

test('sessions expire when idle or old, and their number is bounded', () => {
  let now = 1_000_000;
  const cred = { accessKeyId: 'k1', secretKey: 's1', ownerId: 'o', displayName: 'k' };
  const store = new SessionStore((id) => (id === 'k1' ? cred : undefined), { now: () => now, max: 3 });
  assert.equal(store.login('k1', 'wrong'), undefined);
  assert.equal(store.login('k2', 's1'), undefined);
  const a = store.login('k1', 's1')!;
  assert.ok(store.get(a.id, a.csrf)?.csrfOk);
  assert.equal(store.get(a.id, 'other')?.csrfOk, false);
  now += IDLE_MS - 1;
  assert.ok(store.get(a.id), 'still alive just before the idle timeout');
  now += IDLE_MS + 1;
  assert.equal(store.get(a.id), undefined, 'idle too long');

  const b = store.login('k1', 's1')!;
  for (let i = 0; i <= MAX_AGE_MS / (IDLE_MS / 2); i++) {
    now += IDLE_MS / 2;
    store.get(b.id);
  }
  assert.equal(store.get(b.id), undefined, 'past the absolute lifetime even when used');

  const ids = Array.from({ length: 5 }, () => store.login('k1', 's1')!.id);
  assert.equal(store.size, 3);
  assert.equal(store.get(ids[0]), undefined, 'the oldest made room');
  assert.ok(store.get(ids[4]));
});
