// The commands a real run of the S3 suites applied, replayed in order onto an empty
// database, give exactly the metadata the run ended with (`meta export`, secrets included):
// apply() depends on nothing but the database and the command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetadataStore } from '../../lib/metadata/sqlite.ts';
import { exportTo } from '../../lib/metadata/recording.ts';
import { replay } from './replay.ts';

const SUITES = [
  'test/e2e/buckets.test.ts',
  'test/e2e/objects.test.ts',
  'test/e2e/multipart.test.ts',
  'test/e2e/list-copy-delete.test.ts',
];

function runSuites(dir: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BLEEPSTORE_RECORD_COMMANDS: dir, BLEEPSTORE_TEST_BACKEND: 'local' };
  delete env.NODE_TEST_CONTEXT; // run as a test runner of its own, not as our child
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...SUITES], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

test('replaying the commands recorded from the S3 suites onto an empty database gives an identical meta export', {
  timeout: 240_000,
}, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-recording-'));
  try {
    const run = await runSuites(dir);
    assert.equal(run.code, 0, run.output.slice(-3000));
    const recordings = (await readdir(dir)).filter((f) => f.endsWith('.commands.jsonl')).sort();
    let compared = 0;
    let commands = 0;
    for (const rec of recordings) {
      const base = rec.slice(0, -'.commands.jsonl'.length);
      const original = await readFile(path.join(dir, `${base}.export.json`), 'utf8').catch(() => undefined);
      if (original === undefined) continue; // a store the suite never closed
      const store = new MetadataStore({ path: path.join(dir, `${base}.replay.db`), durability: 'off' });
      try {
        commands += await replay(store, path.join(dir, rec));
        await exportTo(store, path.join(dir, `${base}.replay.json`));
      } finally {
        store.close();
      }
      const replayed = await readFile(path.join(dir, `${base}.replay.json`), 'utf8');
      assert.equal(replayed, original, `replay of ${rec} differs`);
      compared++;
    }
    assert.ok(compared >= SUITES.length, `compared ${compared} recordings`);
    assert.ok(commands > 300, `only ${commands} commands recorded`);
    console.log(`# determinism: ${compared} stores, ${commands} commands replayed, exports identical`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
