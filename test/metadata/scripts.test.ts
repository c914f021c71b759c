// Every script under test/metadata/scripts/ (see script-runner.ts for the format).
// Regenerate the expected outputs after a deliberate change with REWRITE=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runScript } from './script-runner.ts';

const dir = path.join(import.meta.dirname, 'scripts');

for (const name of readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()) {
  test(`metadata script ${name} gives the recorded results and state`, async () => {
    const { expected, actual } = await runScript(path.join(dir, name));
    assert.equal(actual, expected);
  });
}

test('a store commits what was submitted before close, and refuses submits after it', async () => {
  const { MetadataStore } = await import('../../lib/metadata/sqlite.ts');
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'bleepstore-close-')), 'm.db');
  const store = new MetadataStore({ path: file, durability: 'off' });
  const created = store.submit({
    type: 'bucket.create',
    bucket: {
      name: 'kept',
      region: 'us-east-1',
      ownerId: 'o',
      ownerDisplay: 'o',
      acl: { owner: { id: 'o', display_name: 'o' }, grants: [] },
      createdAt: '2026-01-01T00:00:00.000Z',
    },
  });
  store.close();
  assert.deepEqual(await created, { created: true });
  await assert.rejects(store.submit({ type: 'gc.done', fileIds: ['x'] }), /closed/);
  const again = new MetadataStore({ path: file, durability: 'off' });
  assert.equal(again.getBucket('kept')?.name, 'kept');
  again.close();
});

test('submits wait while an atomic session is open, and commit after it rolls back', async () => {
  const { MetadataStore } = await import('../../lib/metadata/sqlite.ts');
  const store = new MetadataStore({ path: ':memory:', durability: 'off' });
  const bucket = (name: string) => ({
    type: 'bucket.create' as const,
    bucket: {
      name,
      region: 'us-east-1',
      ownerId: 'o',
      ownerDisplay: 'o',
      acl: { owner: { id: 'o', display_name: 'o' }, grants: [] },
      createdAt: '2026-01-01T00:00:00.000Z',
    },
  });
  let waiting: Promise<unknown> | undefined;
  let settledDuringSession = false;
  await assert.rejects(
    store.atomically(async (s) => {
      s.apply(bucket('inside'));
      waiting = store.submit(bucket('outside')).finally(() => void (settledDuringSession = true));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(settledDuringSession, false);
      throw new Error('abandon the session');
    }),
    /abandon/,
  );
  assert.deepEqual(await waiting, { created: true });
  assert.deepEqual(
    store.listBuckets().map((b) => b.name),
    ['outside'],
  );
  assert.deepEqual(
    store.bucketStats().map((r) => r.bucket),
    ['outside'],
  );
  store.close();
});
