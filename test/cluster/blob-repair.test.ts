// The cluster's background blob repair (lib/cluster/blob-repair.ts) over a real LocalStorage:
// the periodic pass is paced so a large store does not keep the thread pool busy, and a pass
// asked for by an event hurries one already under way.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { blobRepair } from '../../lib/cluster/blob-repair.ts';
import type { BlobSync } from '../../lib/cluster/blob-sync.ts';
import { createLogger } from '../../lib/ops/log.ts';
import { LocalStorage } from '../../lib/storage/local.ts';

test('the periodic repair pass pauses between pages; a pass asked for meanwhile makes it hurry', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'blob-repair-'));
  try {
    const ids = Array.from({ length: 64 }, (_, i) => `f${String(i).padStart(4, '0')}`);
    // The metadata's referenced ids, paged as MetadataReads.referencedFileIds pages them.
    const metadata = {
      referencedFileIds: (after: string, limit: number) => ids.filter((id) => id > after).slice(0, limit),
      isFileReferenced: (id: string) => ids.includes(id),
    };
    const storage = new LocalStorage(root);
    const checked: number[] = [];
    const exists = storage.exists.bind(storage);
    storage.exists = (id: string) => {
      checked.push(Date.now());
      return exists(id);
    };
    // No peer has the blobs: each one ends up counted missing.
    const blobs = { fetch: async () => false } as unknown as BlobSync;
    const repair = blobRepair(metadata, storage, blobs, createLogger({ level: 'silent', format: 'json' }), {
      caughtUp: () => false,
      ageMs: () => undefined,
      graceMs: 0,
      pageSize: 16,
      paceMs: 300,
    });

    let t0 = Date.now();
    assert.equal(await repair.run({ paced: true }), 64);
    const paced = Date.now() - t0;
    assert.ok(paced >= 3 * 300, `4 pages paced by 300 ms took ${paced} ms`);
    // A second periodic request while one runs is not queued behind it.
    checked.length = 0;
    t0 = Date.now();
    const first = repair.run({ paced: true });
    assert.equal(repair.run({ paced: true }), first);
    // An event asks for a pass: the paced one stops pausing, and one more full pass follows.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await repair.run(), 64);
    const hurried = Date.now() - t0;
    for (let i = 0; i < 100 && checked.length < 128; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(hurried < paced, `hurried pass took ${hurried} ms, paced ${paced} ms`);
    assert.equal(checked.length, 128, 'the hurried pass and the one asked for checked every id once each');
    repair.stop();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
