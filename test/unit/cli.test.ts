// bin/bleepstore refuses bad start-ups with one sentence and exit status 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/bleepstore', import.meta.url));

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (err, _stdout, stderr) =>
      resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
    );
  });
}

test('a bad flag value stops start-up with one sentence naming the flag, not the internal key', async () => {
  const r = await run(['--port', 'abc']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /--port must be an integer/);
  assert.doesNotMatch(r.stderr, /server\.port/);
});

test('an unknown flag names itself and suggests the nearest (--prot: did you mean --port?)', async () => {
  const r = await run(['--prot', '9000']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /unknown option --prot; did you mean --port\?/);
});

test('a data dir that is a file stops start-up with one sentence, not a stack trace', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-cli-'));
  const file = path.join(dir, 'not-a-dir');
  await writeFile(file, 'x');
  const r = await run(['--port', '0', '--data-dir', file, '--log-level', 'silent']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /is a file, but the data directory must be a directory/);
  await rm(dir, { recursive: true, force: true });
});

test('an address this machine does not have stops start-up with one sentence (EADDRNOTAVAIL)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-cli-'));
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a real interface, so bind fails at once.
  const r = await run(['--port', '0', '--host', '192.0.2.1', '--data-dir', dir, '--log-level', 'silent']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /address 192\.0\.2\.1 is not available on this machine/);
  await rm(dir, { recursive: true, force: true });
});

test('a data dir without permission stops start-up with one sentence (EACCES)', {
  skip: process.getuid?.() === 0 ? 'root ignores directory permissions' : false,
}, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-cli-'));
  await chmod(dir, 0o500);
  const r = await run(['--port', '0', '--data-dir', path.join(dir, 'data'), '--log-level', 'silent']);
  await chmod(dir, 0o700);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /permission denied for/);
  await rm(dir, { recursive: true, force: true });
});

test('an unreachable storage backend stops start-up with one sentence, not a stack trace', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-cli-'));
  const config = path.join(dir, 'c.yaml');
  await writeFile(
    config,
    'storage:\n  backend: aws\n  aws:\n    bucket: nope\n    endpoint_url: http://127.0.0.1:1\n    use_path_style: true\n    access_key_id: a\n    secret_access_key: b\n',
  );
  const r = await run([
    '--config',
    config,
    '--port',
    '0',
    '--data-dir',
    path.join(dir, 'data'),
    '--log-level',
    'silent',
  ]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /aws storage backend is not usable/);
  await rm(dir, { recursive: true, force: true });
});

test('an unknown flag of a subcommand also names itself and suggests the nearest (--dat-dir: did you mean --data-dir?)', async () => {
  const r = await run(['bucket', 'list', '--dat-dir', '/nowhere']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /bleepstore bucket: unknown option --dat-dir; did you mean --data-dir\?/);
});

test('a metadata.db that is not a database stops start-up with one sentence naming it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-cli-'));
  await writeFile(
    path.join(dir, 'metadata.db'),
    'this is not an SQLite file, just text that is long enough to have a header'.repeat(20),
  );
  const r = await run(['--port', '0', '--data-dir', dir, '--log-level', 'silent']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /metadata database .*metadata\.db cannot be used/);
  await rm(dir, { recursive: true, force: true });
});
