// run_e2e.sh starts a real server, runs a suite against it, stops it, and passes the suite's status on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(import.meta.dirname, '../../run_e2e.sh');

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, ...args], { timeout: 60_000 }, (err, _out, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }),
    );
  });
}

const SUITE = (expectOk: boolean) => `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
test('the server run_e2e.sh started answers', async () => {
  const url = process.env.BLEEPSTORE_ENDPOINT;
  writeFileSync(process.env.URL_FILE, url);
  const h = await fetch(url + '/health');
  assert.equal(h.status, 200);
  assert.equal(process.env.AWS_ACCESS_KEY_ID, 'bleepstore');
  assert.ok(${expectOk});
});
`;

test('run_e2e.sh runs a suite against a fresh server on a free port and exits with its status', {
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-rune2e-'));
  process.env.URL_FILE = path.join(dir, 'url');
  try {
    await writeFile(path.join(dir, 'pass.test.mjs'), SUITE(true));
    await writeFile(path.join(dir, 'fail.test.mjs'), SUITE(false));
    const ok = await run([path.join(dir, 'pass.test.mjs')]);
    assert.equal(ok.code, 0, ok.stderr);
    const { readFile } = await import('node:fs/promises');
    const url = await readFile(process.env.URL_FILE, 'utf8');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(url).port, '9010');
    await assert.rejects(fetch(`${url}/healthz`), 'the server is stopped afterwards');
    const bad = await run([path.join(dir, 'fail.test.mjs')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /suite exited with status 1/);
  } finally {
    delete process.env.URL_FILE;
    await rm(dir, { recursive: true, force: true });
  }
});
