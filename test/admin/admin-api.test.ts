// The admin API (../shared/specs/admin-api.openapi.yaml) of a single bin/bleepstore process,
// over HTTP with its bearer token, and `bleepstore keys` going through it while it runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { deadPort } from '../helpers/net.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import { cli } from './run-cli.ts';

const TOKEN = 'single-node-admin-token-0123456789';
const SECRET = 'bootstrap-secret-not-for-json-0123';

// Every path and method in the spec (cluster paths answer 404 on a single node).
const SPEC_ROUTES: Array<[string, string]> = [
  ['GET', '/admin/status'],
  ['GET', '/admin/metrics'],
  ['GET', '/admin/cluster/status'],
  ['GET', '/admin/cluster/nodes'],
  ['POST', '/admin/cluster/nodes'],
  ['DELETE', '/admin/cluster/nodes/n9'],
  ['GET', '/admin/cluster/raft/stats'],
  ['POST', '/admin/cluster/raft/snapshot'],
  ['GET', '/admin/storage/status'],
  ['GET', '/admin/storage/stats'],
  ['GET', '/admin/credentials'],
  ['POST', '/admin/credentials'],
  ['DELETE', '/admin/credentials/AKBS00000001'],
  ['PUT', '/admin/credentials/AKBS00000001/status'],
  ['GET', '/admin/config'],
];

describe('the admin API on a single node', () => {
  let srv: ServerProcess;
  let admin: string;
  let root: string;
  let config: string;

  const call = async (method: string, p: string, body?: unknown, token = TOKEN) => {
    const r = await fetch(`${admin}${p}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await r.text();
    return {
      status: r.status,
      headers: r.headers,
      text,
      json: text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined,
    };
  };
  const s3With = (id: string, secret: string) =>
    new S3Client({
      endpoint: srv.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: id, secretAccessKey: secret },
      maxAttempts: 1,
    });

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'bleepstore-admin-api-'));
    const adminPort = await deadPort();
    config = path.join(root, 'bleepstore.yaml');
    writeFileSync(
      config,
      `data_dir: ${path.join(root, 'data')}\nserver:\n  host: 127.0.0.1\n  admin_port: ${adminPort}\n  admin_token: ${TOKEN}\n` +
        `auth:\n  access_key: boot\n  secret_key: ${SECRET}\n`,
    );
    srv = await spawnServer(path.join(root, 'data'), ['--config', config]);
    admin = `http://127.0.0.1:${adminPort}`;
  });
  after(async () => {
    await srv?.kill9();
    rmSync(root, { recursive: true, force: true });
  });

  test("the server's listening log line names where the admin API listens", () => {
    const listening = srv.logs.find((l) => l.msg === 'listening');
    assert.equal(listening?.admin_url, admin);
  });

  test('every spec route refuses a missing or wrong bearer token with 401 {error, message}', async () => {
    for (const [method, p] of SPEC_ROUTES)
      for (const token of ['', `${TOKEN}x`]) {
        const r = await call(method, p, undefined, token);
        assert.equal(r.status, 401, `${method} ${p}`);
        assert.deepEqual(r.json, { error: 'unauthorized', message: 'Missing or invalid admin bearer token.' });
      }
  });

  test('status, metrics, storage status and stats answer in the spec shapes', async () => {
    const s = await call('GET', '/admin/status');
    assert.equal(s.status, 200);
    assert.equal(s.json.mode, 'embedded');
    assert.equal(s.json.healthy, true);
    assert.match(s.json.version, /^\d+\.\d+\.\d+/);
    assert.ok(Number.isInteger(s.json.uptime_seconds) && s.json.uptime_seconds >= 0);
    assert.ok(Date.parse(s.json.started_at) <= Date.now());

    const m = await call('GET', '/admin/metrics');
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(m.text, /^bleepstore_\w+/m);

    const st = await call('GET', '/admin/storage/status');
    assert.equal(st.status, 200);
    assert.equal(st.json.backend, 'filesystem');
    assert.equal(st.json.state, 'healthy');
    assert.equal(st.json.read_only, false);
    assert.equal(typeof st.json.data_directory, 'string');

    const s3 = s3With('boot', SECRET);
    await s3.send(new CreateBucketCommand({ Bucket: 'stats' }));
    await s3.send(new PutObjectCommand({ Bucket: 'stats', Key: 'a', Body: 'x'.repeat(100) }));
    await s3.send(new PutObjectCommand({ Bucket: 'stats', Key: 'b', Body: 'y'.repeat(23) }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'stats', Key: 'mp' }));
    s3.destroy();
    const stats = await call('GET', '/admin/storage/stats');
    assert.deepEqual(stats.json, {
      total_objects: 2,
      total_size_bytes: 123,
      total_buckets: 1,
      total_multipart_uploads: 1,
    });
  });

  test('credentials: create (secret once), list, disable, enable, delete, with SigV4 following each change', async () => {
    const c = await call('POST', '/admin/credentials', { description: 'Backup service key' });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.json.status, 'active');
    assert.equal(c.json.description, 'Backup service key');
    assert.ok(c.json.secret_access_key.length >= 30);
    const id = c.json.access_key_id as string;
    const s3 = s3With(id, c.json.secret_access_key);
    await s3.send(new ListBucketsCommand({}));

    const list = await call('GET', '/admin/credentials');
    const mine = list.json.credentials.find((k: { access_key_id: string }) => k.access_key_id === id);
    assert.equal(mine.status, 'active');
    assert.ok(!list.text.includes(c.json.secret_access_key), 'the list never carries a secret');

    const off = await call('PUT', `/admin/credentials/${id}/status`, { status: 'disabled' });
    assert.equal(off.status, 200);
    assert.equal(off.json.status, 'disabled');
    assert.equal((await sdkError(s3.send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId');
    assert.equal((await call('PUT', `/admin/credentials/${id}/status`, { status: 'active' })).json.status, 'active');
    await s3.send(new ListBucketsCommand({}));

    assert.equal((await call('DELETE', `/admin/credentials/${id}`)).status, 204);
    assert.equal((await sdkError(s3.send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId');
    s3.destroy();
    const again = await call('DELETE', `/admin/credentials/${id}`);
    assert.equal(again.status, 404);
    assert.equal(again.json.error, 'not_found');
  });

  test('bad input answers 400, a taken id 409, an unknown path 404, each as {error, message}', async () => {
    const bad = await call('PUT', '/admin/credentials/boot/status', { status: 'maybe' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'bad_request');
    const notJson = await fetch(`${admin}/admin/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '[1,2',
    });
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { error: string }).error, 'bad_request');
    const taken = await call('POST', '/admin/credentials', { access_key_id: 'boot', display_name: 'x' });
    assert.equal(taken.status, 409);
    assert.equal(taken.json.error, 'conflict');
    for (const p of ['/admin/nothing', '/admin/cluster/status', '/admin/cluster/raft/stats']) {
      const r = await call('GET', p);
      assert.equal(r.status, 404, p);
      assert.equal(r.json.error, 'not_found');
      assert.equal(typeof r.json.message, 'string');
    }
  });

  test('config is served with every secret redacted', async () => {
    const r = await call('GET', '/admin/config');
    assert.equal(r.status, 200);
    assert.equal(r.json.mode, 'embedded');
    assert.equal(r.json.admin_token, '**REDACTED**');
    assert.equal(r.json.settings.auth.secret_key, '**REDACTED**');
    assert.equal(r.json.settings.server.admin_token, '**REDACTED**');
    assert.equal(r.json.storage.backend, 'filesystem');
    assert.match(r.json.listen_addr, new RegExp(`:${srv.port}$`));
    assert.ok(!r.text.includes(TOKEN) && !r.text.includes(SECRET), 'no secret in the body');
  });

  test('`bleepstore keys` goes through the running server, and opens the file once it is stopped', async () => {
    const made = await cli(['keys', 'create', '--display-name', 'erin', '--json', '--config', config]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /through the running server's admin API at http:\/\/127\.0\.0\.1:\d+/);
    const k = JSON.parse(made.stdout) as { access_key_id: string; secret_key: string; display_name: string };
    assert.equal(k.display_name, 'erin');
    const s3 = s3With(k.access_key_id, k.secret_key);
    await s3.send(new ListBucketsCommand({}));
    const listed = await cli(['keys', 'list', '--json', '--config', config]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(
      (JSON.parse(listed.stdout) as Array<{ access_key_id: string }>).some((x) => x.access_key_id === k.access_key_id),
    );
    const rotated = await cli(['keys', 'rotate', k.access_key_id, '--json', '--config', config]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal((await sdkError(s3.send(new ListBucketsCommand({})))).name, 'SignatureDoesNotMatch');
    s3.destroy();
    const gone = await cli(['keys', 'delete', k.access_key_id, '--config', config]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, new RegExp(`Deleted access key ${k.access_key_id} \\(erin\\)`));
    const missing = await cli(['keys', 'delete', k.access_key_id, '--config', config]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404/);
    const wrong = await cli(['keys', 'list', '--config', config, '--token', 'not-the-token-at-all']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /refuses the admin token/);

    await srv.kill9();
    const offline = await cli(['keys', 'list', '--json', '--config', config]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.doesNotMatch(offline.stderr, /admin API/);
    assert.ok((JSON.parse(offline.stdout) as Array<{ access_key_id: string }>).some((x) => x.access_key_id === 'boot'));
  });
});
