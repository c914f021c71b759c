// The crash test kills the server on purpose; these check it would notice a server that
// died on its own or reported a failure before the kill, instead of counting it as a kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertRanCleanly, spawnServer } from '../helpers/process.ts';

test('assertRanCleanly passes a running server and refuses one that already exited by itself', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-proc-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const srv = await spawnServer(dataDir);
  assertRanCleanly(srv, 'running');
  // Not the test's kill -9: the server stops on its own account (here: asked to shut down).
  srv.proc.kill('SIGTERM');
  await srv.exited;
  assert.throws(() => assertRanCleanly(srv, 'after exit'), /exited by itself/);
});

test('assertRanCleanly refuses a server whose log has an error line', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-proc-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const srv = await spawnServer(dataDir);
  t.after(() => srv.kill9());
  srv.logs.push({ level: 'error', msg: 'unhandled request failure' });
  assert.throws(() => assertRanCleanly(srv, 'after an error'), /reported failures: .*unhandled request failure/);
});
