// A cloud SDK is an optional dependency: without it, choosing its backend stops start-up with
// one sentence saying what to install. Each case runs in a fresh Node whose module
// resolution is hooked to act as if the package were not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const INDEX = new URL('../../lib/index.ts', import.meta.url).href;

const CHILD = `
import { registerHooks } from 'node:module';
const [hiddenList, storage, dataDir] = process.argv.slice(1);
const hidden = hiddenList.split(',');
registerHooks({
  resolve(specifier, context, next) {
    if (hidden.some((h) => specifier === h || specifier.startsWith(h + '/'))) {
      throw Object.assign(new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    return next(specifier, context);
  },
});
const { createBleepStore } = await import(${JSON.stringify(INDEX)});
try {
  const store = await createBleepStore({ overrides: { data_dir: dataDir, logging: { level: 'silent' }, storage: JSON.parse(storage) } });
  await store.close();
  console.log(JSON.stringify({ started: true }));
} catch (err) {
  console.log(JSON.stringify({ name: err.name, message: err.message }));
}
`;

async function startWithout(
  pkgs: string[],
  storage: object,
): Promise<{ name?: string; message?: string; started?: boolean }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-nosdk-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      CHILD,
      pkgs.join(','),
      JSON.stringify(storage),
      dataDir,
    ]);
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

test('the azure backend without @azure/storage-blob stops start-up with one sentence naming the package', async () => {
  const r = await startWithout(['@azure/storage-blob'], {
    backend: 'azure',
    azure: { container: 'c', account: 'a', account_key: 'a2V5' },
  });
  assert.equal(r.name, 'ConfigError');
  assert.equal(
    r.message,
    'storage.backend "azure" needs the optional package @azure/storage-blob; install it with: npm install @azure/storage-blob',
  );
});

test('the gcp backend without @google-cloud/storage stops start-up with one sentence naming the package', async () => {
  const r = await startWithout(['@google-cloud/storage'], { backend: 'gcp', gcp: { bucket: 'b' } });
  assert.equal(r.name, 'ConfigError');
  assert.equal(
    r.message,
    'storage.backend "gcp" needs the optional package @google-cloud/storage; install it with: npm install @google-cloud/storage',
  );
});

test('the local backend starts with every cloud SDK hidden, so it never loads one', async () => {
  const r = await startWithout(['@aws-sdk/client-s3', '@azure/storage-blob', '@google-cloud/storage'], {
    backend: 'local',
  });
  assert.deepEqual(r, { started: true });
});
