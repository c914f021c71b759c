import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createLogger, redactUrl } from '../../lib/ops/log.ts';
import { bodyBytes, startServer } from '../helpers/server.ts';
import { presignUrl, signRequest } from '../helpers/signer.ts';
import { jsonLines, waitFor } from './wait.ts';

const ACCESS = 'LOGTESTACCESSKEY';
const SECRET = 'log-test-secret-7f3c9a1e-do-not-print';

/** Records every Authorization header the SDK sends. */
function recordAuth(client: S3Client, into: string[]): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const auth = (args.request as { headers?: Record<string, string> }).headers?.authorization;
      if (auth) into.push(auth);
      return next(args);
    },
    { step: 'deserialize', name: 'recordAuthorization' },
  );
  return client;
}

function signatureOf(authorization: string): string {
  return /Signature=([0-9a-f]{64})/.exec(authorization)![1]!;
}

test('no log line carries the secret key or a request signature, whether the signature is right or wrong', async (t) => {
  const s = await startServer({
    auth: { access_key: ACCESS, secret_key: SECRET },
    logging: { level: 'debug', format: 'json' },
  });
  t.after(() => s.stop());
  const sent: string[] = [];
  const c = recordAuth(s.client({ credentials: { accessKeyId: ACCESS, secretAccessKey: SECRET } }), sent);

  await c.send(new CreateBucketCommand({ Bucket: 'log-secrets' }));
  await c.send(new PutObjectCommand({ Bucket: 'log-secrets', Key: 'k', Body: 'hello' }));
  assert.equal(
    (await bodyBytes((await c.send(new GetObjectCommand({ Bucket: 'log-secrets', Key: 'k' }))).Body)).toString(),
    'hello',
  );

  const wrong = recordAuth(
    s.client({ credentials: { accessKeyId: ACCESS, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 }),
    sent,
  );
  await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: 'log-secrets', Key: 'k' })), {
    name: 'SignatureDoesNotMatch',
  });

  const raw = signRequest({
    method: 'GET',
    url: `${s.url}/log-secrets/k`,
    accessKey: ACCESS,
    secretKey: SECRET,
    region: 'us-east-1',
  });
  const tampered = raw.authorization!.replace(/Signature=./, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0'));
  sent.push(raw.authorization!, tampered);
  assert.equal((await fetch(`${s.url}/log-secrets/k`, { headers: { ...raw, authorization: tampered } })).status, 403);

  const presigned = presignUrl({
    method: 'GET',
    url: `${s.url}/log-secrets/k`,
    accessKey: ACCESS,
    secretKey: SECRET,
    region: 'us-east-1',
  });
  assert.equal((await fetch(presigned)).status, 200);
  const badPresigned = presigned.replace(
    /X-Amz-Signature=(.)/,
    (_m, ch: string) => `X-Amz-Signature=${ch === '0' ? '1' : '0'}`,
  );
  assert.equal((await fetch(badPresigned)).status, 403);
  const presignedSignatures = [presigned, badPresigned].map((u) => new URL(u).searchParams.get('X-Amz-Signature')!);

  await waitFor(
    () => jsonLines(s.logs).filter((l) => l.msg === 'request completed').length >= 7 || undefined,
    'seven request lines',
  );
  const text = s.logs.join('');
  assert.ok(sent.length >= 5, 'signatures were recorded');
  assert.ok(!text.includes(SECRET), 'the secret key is never logged');
  for (const sig of [...sent.map(signatureOf), ...presignedSignatures])
    assert.ok(!text.includes(sig), `signature ${sig.slice(0, 8)}… is never logged`);
  assert.ok(!/AWS4-HMAC-SHA256 Credential/.test(text), 'no Authorization header is logged');
});

test('each request is one JSON line with id, operation, bucket, key, status, bytes and duration', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const c = s.client();
  await c.send(new CreateBucketCommand({ Bucket: 'log-fields' }));
  const put = await c.send(
    new PutObjectCommand({ Bucket: 'log-fields', Key: 'dir/file.txt', Body: Buffer.alloc(1234, 1) }),
  );
  const line = await waitFor(
    () => jsonLines(s.logs).find((l) => l.msg === 'request completed' && l.op === 'PutObject'),
    'the PutObject line',
  );
  assert.equal(line.level, 'info');
  assert.ok(!Number.isNaN(Date.parse(line.time as string)));
  assert.equal(line.request_id, put.$metadata.requestId, 'the id the client saw in x-amz-request-id');
  assert.equal(line.method, 'PUT');
  assert.equal(line.bucket, 'log-fields');
  assert.equal(line.key, 'dir/file.txt');
  assert.equal(line.status, 200);
  assert.equal(line.bytes_in, 1234);
  assert.equal(line.bytes_out, 0);
  assert.equal(typeof line.duration_ms, 'number');
  for (const l of s.logs) assert.equal(l.endsWith('\n') && l.indexOf('\n'), l.length - 1, 'one line per write');
});

test('the text format is one readable line per event, quoting values that contain spaces', () => {
  const out: string[] = [];
  const log = createLogger({ level: 'info', format: 'text', write: (l) => void out.push(l) });
  log.debug('hidden');
  log.info('request completed', { op: 'GetObject', key: 'a key with spaces', status: 200, aborted: undefined });
  assert.equal(out.length, 1, 'below the level is not written');
  assert.match(
    out[0]!,
    /^\d{4}-\d\d-\d\dT\S+Z INFO {2}request completed op=GetObject key="a key with spaces" status=200\n$/,
  );
});

test('fields named like credentials are redacted, and so are presigned signatures in URLs', () => {
  const out: string[] = [];
  const log = createLogger({ level: 'debug', format: 'json', write: (l) => void out.push(l) });
  log.warn('oops', {
    secret_key: 'abc',
    authorization: 'AWS4-HMAC-SHA256 ...',
    nested: { password: 'p' },
    access_key_id: 'AKID',
  });
  const line = JSON.parse(out[0]!) as Record<string, unknown>;
  assert.equal(line.secret_key, '[redacted]');
  assert.equal(line.authorization, '[redacted]');
  assert.deepEqual(line.nested, { password: '[redacted]' });
  assert.equal(line.access_key_id, 'AKID', 'an access key id is not a secret');
  assert.equal(
    redactUrl('/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20250101&X-Amz-Signature=abcdef&x=1'),
    '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&x=1',
  );
});

test('at debug a SignatureDoesNotMatch is explained (key id, signed headers, canonical-request hash, scope) without the secret', async (t) => {
  const s = await startServer({
    auth: { access_key: ACCESS, secret_key: SECRET },
    logging: { level: 'debug', format: 'json' },
  });
  t.after(() => s.stop());
  const wrong = s.client({ credentials: { accessKeyId: ACCESS, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 });
  await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: 'nope', Key: 'k' })), {
    name: 'SignatureDoesNotMatch',
  });
  const line = await waitFor(
    () => jsonLines(s.logs).find((l) => l.msg === 'signature does not match'),
    'the explanation',
  );
  assert.equal(line.access_key_id, ACCESS);
  assert.match(String(line.signed_headers), /(^|;)host(;|$)/);
  assert.match(String(line.signed_headers), /x-amz-date/);
  assert.match(String(line.canonical_request_sha256), /^[0-9a-f]{64}$/);
  assert.match(String(line.string_to_sign_scope), /^\d{8}\/us-east-1\/s3\/aws4_request$/);
  assert.ok(!s.logs.join('').includes(SECRET) && !s.logs.join('').includes('not-the-secret'));
});

test('request completed names the client address, user agent and access key; health probes log only at debug; fields are snake_case', async (t) => {
  const s = await startServer({
    auth: { access_key: ACCESS, secret_key: SECRET },
    logging: { level: 'info', format: 'json' },
  });
  t.after(() => s.stop());
  const c = s.client({ credentials: { accessKeyId: ACCESS, secretAccessKey: SECRET } });
  await c.send(new CreateBucketCommand({ Bucket: 'log-who' }));
  for (const p of ['/health', '/healthz', '/readyz']) assert.equal((await fetch(s.url + p)).status, 200);
  const line = await waitFor(
    () => jsonLines(s.logs).find((l) => l.msg === 'request completed' && l.op === 'CreateBucket'),
    'the CreateBucket line',
  );
  assert.equal(line.access_key_id, ACCESS);
  assert.match(String(line.client_address), /^(::ffff:)?127\.0\.0\.1$/);
  assert.match(String(line.user_agent), /aws-sdk-js/);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    jsonLines(s.logs)
      .filter((l) => String(l.op).startsWith('/'))
      .map((l) => l.op),
    [],
    'probes are not logged at info',
  );
  for (const l of jsonLines(s.logs))
    for (const k of Object.keys(l)) assert.match(k, /^[a-z0-9_]+$/, `field "${k}" in "${String(l.msg)}"`);
});
