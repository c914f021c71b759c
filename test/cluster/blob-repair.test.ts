// The cluster's background blob repair (lib/cluster/blob-repair.ts) over a real LocalStorage:
// the periodic full pass is paced so a large store does not keep the thread pool busy, a pass
// asked for by an event hurries one already under way, and between full passes the periodic
// check looks only at the blobs of commands applied since the last one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { blobRepair } from '../../lib/cluster/blob-repair.ts';
import type { BlobSync } from '../../lib/cluster/blob-sync.ts';
import { createLogger } from '../../lib/ops/log.ts';
import { LocalStorage } from '../../lib/storage/local.ts';

/** Metadata that references `n` blob ids, paged as MetadataReads.referencedFileIds pages them. */
function referencing(n: number) {
  const ids = Array.from({ length: n }, (_, i) => `f${String(i).padStart(4, '0')}`);
  const metadata = {
    referencedFileIds: (after: string, limit: number) => ids.filter((id) => id > after).slice(0, limit),
    isFileReferenced: (id: string) => ids.includes(id),
  };
  return { ids, metadata };
}

test('the periodic repair pass pauses between pages; a pass asked for meanwhile makes it hurry', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'blob-repair-'));
  try {
    const { metadata } = referencing(64);
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
      fullEveryMs: 60_000,
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

test('between full passes the periodic check stats only the blobs of commands applied since the last one, fetches the missing ones and asks again for one no peer has; a full pass comes when due or after too many notes', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'blob-repair-'));
  try {
    const { ids, metadata } = referencing(64);
    const storage = new LocalStorage(root);
    const statted: string[] = [];
    storage.exists = async (id: string) => {
      statted.push(id);
      return false;
    };
    const fetched: string[] = [];
    const peersHave = new Set(ids.filter((id) => id !== 'f0002'));
    const blobs = {
      fetch: async (id: string) => {
        fetched.push(id);
        return peersHave.has(id);
      },
    } as unknown as BlobSync;
    const opts = { fullEveryMs: 60_000, maxNoted: 3 };
    const repair = blobRepair(metadata, storage, blobs, createLogger({ level: 'silent', format: 'json' }), {
      caughtUp: () => false,
      ageMs: () => undefined,
      graceMs: 0,
      pageSize: 16,
      paceMs: 0,
      get fullEveryMs() {
        return opts.fullEveryMs;
      },
      maxNoted: opts.maxNoted,
    });
    assert.equal(await repair.run(), 1, 'the start-up pass: f0002 is on no peer');
    assert.equal(statted.length, 64);

    statted.length = 0;
    fetched.length = 0;
    repair.noteApplied(['f0001']);
    assert.equal(await repair.tick(), 1, 'f0002 (noted by the full pass) is still missing');
    assert.deepEqual(statted.sort(), ['f0001', 'f0002'], 'only the noted blobs are checked');
    assert.deepEqual(fetched.sort(), ['f0001', 'f0002']);

    statted.length = 0;
    assert.equal(await repair.tick(), 1);
    assert.deepEqual(statted, ['f0002'], 'a blob no peer had is asked for again, and only it');
    peersHave.add('f0002');
    statted.length = 0;
    assert.equal(await repair.tick(), 0);
    assert.deepEqual(statted, ['f0002']);
    statted.length = 0;
    assert.equal(await repair.tick(), 0);
    assert.deepEqual(statted, [], 'nothing noted: nothing checked');

    // More notes than the limit: the next check is a full pass instead.
    repair.noteApplied(['f0010', 'f0011', 'f0012', 'f0013']);
    assert.equal(await repair.tick(), 0);
    assert.equal(statted.length, 64, 'overflow: every referenced blob checked');

    // A full pass is due: the periodic check makes one.
    statted.length = 0;
    repair.noteApplied(['f0020']);
    opts.fullEveryMs = 0;
    assert.equal(await repair.tick(), 0);
    assert.equal(statted.length, 64, 'due: every referenced blob checked');
    repair.stop();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
