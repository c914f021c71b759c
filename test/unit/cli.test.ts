// bin/bleepstore refuses bad start-ups with one sentence and exit status 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/bleepstore', import.meta.url));

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (err, _stdout, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }));
  });
}

test('a bad flag value stops start-up with one sentence naming the key', async () => {
  const r = await run(['--port', 'abc']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /"server\.port"/);
});

test('an unreachable storage backend stops start-up with one sentence, not a stack trace', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-cli-'));
  const config = path.join(dir, 'c.yaml');
  await writeFile(config, 'storage:\n  backend: aws\n  aws:\n    bucket: nope\n    endpoint_url: http://127.0.0.1:1\n    use_path_style: true\n    access_key_id: a\n    secret_access_key: b\n');
  const r = await run(['--config', config, '--port', '0', '--data-dir', path.join(dir, 'data'), '--log-level', 'silent']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /aws storage backend is not usable/);
  await rm(dir, { recursive: true, force: true });
});
