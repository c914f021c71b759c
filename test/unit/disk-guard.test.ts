// The disk guard's free-space measurement (lib/storage/disk-guard.ts) against the real
// filesystem of a temp directory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../lib/ops/log.ts';
import { DiskGuard } from '../../lib/storage/disk-guard.ts';

test('callers asking for free space while a measurement is under way share it (one statfs, not one per PUT)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'disk-guard-'));
  try {
    const g = new DiskGuard([dir], 1, createLogger({ level: 'error', format: 'json', write: () => {} }));
    const asks = Array.from({ length: 16 }, () => g.free());
    assert.equal(new Set(asks).size, 1);
    const [first] = await Promise.all(asks);
    const s = statfsSync(dir);
    assert.ok(Math.abs(first! - s.bavail * s.bsize) < 1 << 30);
    // Once it has answered, the next ask measures again.
    const again = g.free();
    assert.notEqual(again, asks[0]);
    await again;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
