// The project's external-safe S3 e2e suites (the ones run_e2e.sh runs) against a three-node
// cluster of bin/bleepstore processes: once through a follower (writes forwarded to the
// leader, reads from the follower's replica) and once through the leader.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { S3Cluster } from './helpers/s3-cluster.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SUITES = [
  'test/e2e/objects.test.ts',
  'test/e2e/list-copy-delete.test.ts',
  'test/e2e/multipart.test.ts',
  'test/e2e/raw-auth.test.ts',
  'test/e2e/inline.test.ts',
];

// A fresh cluster per run: the suites expect buckets they create to start empty.
let cluster: S3Cluster | undefined;
afterEach(() => cluster?.stop());

function runSuites(endpoint: string): Promise<{ code: number; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BLEEPSTORE_ENDPOINT: endpoint };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--test', '--test-concurrency=1', '--test-reporter=tap', ...SUITES],
      { cwd: ROOT, env, timeout: 300_000, maxBuffer: 64 << 20 },
      (err, stdout) => resolve({ code: err ? 1 : 0, out: stdout }),
    );
  });
}

/** Each `not ok` line with the error lines of its TAP YAML block (what failed and why). */
function failures(out: string): string {
  const lines = out.split('\n');
  const picked: string[] = [];
  for (let i = 0; i < lines.length && picked.length < 60; i++) {
    if (!/^\s*not ok /.test(lines[i]!)) continue;
    picked.push(lines[i]!);
    for (let j = i + 1; j < lines.length && j < i + 40 && !/^\s*(not )?ok /.test(lines[j]!); j++)
      if (/error:|code:|failureType:|expected:|actual:/.test(lines[j]!)) picked.push(lines[j]!.slice(0, 300));
  }
  return picked.join('\n');
}

for (const role of ['follower', 'leader'] as const) {
  test(`the S3 e2e suites pass against a cluster ${role}`, { timeout: 320_000 }, async () => {
    cluster = await S3Cluster.create(3);
    await cluster.startAll();
    const leader = await cluster.waitStable();
    const node = role === 'leader' ? leader : cluster.nodes.find((n) => n !== leader)!;
    const r = await runSuites(cluster.url(node));
    const pass = /^# pass (\d+)/m.exec(r.out)?.[1];
    assert.equal(
      r.code,
      0,
      `failed tests:\n${failures(r.out)}\n${cluster.nodes.map((n) => `${n.name} said: ${n.proc?.troubles().slice(-8).join(' | ')}`).join('\n')}`,
    );
    assert.ok(Number(pass) > 20, `only ${pass} tests ran`);
    const h = await fetch(`${cluster.url(node)}/health`);
    assert.equal(h.headers.get('x-bleepstore-leader'), leader.name);
  });
}
