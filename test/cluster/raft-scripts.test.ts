/**
 * Data-driven interaction scripts (etcd-io/raft rafttest style): each file under testdata/
 * is a sequence of commands with the output Raft must produce. REWRITE=1 rewrites the
 * expectations from what the core does; read every rewritten block before committing it.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Interaction } from './harness/interaction.ts';
import { formatScript, parseScript } from './harness/script-file.ts';

const dir = join(import.meta.dirname, 'testdata');
const rewrite = process.env.REWRITE === '1';

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()) {
  test(`interaction script ${file} produces its expected output`, () => {
    const path = join(dir, file);
    const blocks = parseScript(readFileSync(path, 'utf8'), file);
    const env = new Interaction();
    const outputs: string[] = [];
    for (const b of blocks) {
      let actual: string;
      try {
        actual = env.run(b);
      } catch (err) {
        throw new Error(`${file}:${b.line}: "${b.text}" failed: ${(err as Error).stack}`);
      }
      outputs.push(actual);
      if (!rewrite) assert.equal(actual, b.expected, `${file}:${b.line}: output of "${b.text}" differs`);
    }
    if (rewrite) writeFileSync(path, formatScript(blocks, outputs));
  });
}
