// bin/bleepstore serves with a bounded V8 young generation (RSS, issue #17): it re-executes
// itself with the flag under the same pid, unless the operator chose a young generation; the
// new image also gets MALLOC_ARENA_MAX=2 unless the operator set it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnServer } from '../helpers/process.ts';

const FLAGS = ['--scavenger-max-new-space-capacity-mb=4', '--max-semi-space-size=16'] as const;
const linux = existsSync('/proc/self/cmdline');

async function serverCommandLine(file: 'cmdline' | 'environ' = 'cmdline'): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-young-'));
  const srv = await spawnServer(dir);
  try {
    const health = await fetch(`${srv.url}/health`);
    assert.equal(health.status, 200);
    return readFileSync(`/proc/${srv.pid}/${file}`, 'utf8').split('\0');
  } finally {
    await srv.kill9();
    await rm(dir, { recursive: true, force: true });
  }
}

test('the server started as one pid serves with the bounded young-generation flags', { skip: !linux }, async () => {
  const argv = await serverCommandLine();
  for (const flag of FLAGS) assert.equal(argv.filter((a) => a === flag).length, 1, argv.join(' '));
});

test("an operator's own young-generation size (NODE_OPTIONS) is kept and none is added", { skip: !linux }, async () => {
  const before = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${before ?? ''} --max-semi-space-size=32`.trim();
  try {
    const argv = await serverCommandLine();
    assert.ok(!argv.includes(FLAGS[0]), argv.join(' '));
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
});

test('the served image runs with two malloc arenas, unless the operator set MALLOC_ARENA_MAX', {
  skip: !linux,
}, async () => {
  const before = process.env.MALLOC_ARENA_MAX;
  try {
    delete process.env.MALLOC_ARENA_MAX;
    assert.ok((await serverCommandLine('environ')).includes('MALLOC_ARENA_MAX=2'));
    process.env.MALLOC_ARENA_MAX = '4';
    const env = await serverCommandLine('environ');
    assert.ok(env.includes('MALLOC_ARENA_MAX=4') && !env.includes('MALLOC_ARENA_MAX=2'), env.join(' '));
  } finally {
    if (before === undefined) delete process.env.MALLOC_ARENA_MAX;
    else process.env.MALLOC_ARENA_MAX = before;
  }
});
