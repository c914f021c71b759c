// Every script under test/metadata/scripts/ (see script-runner.ts for the format).
// Regenerate the expected outputs after a deliberate change with REWRITE=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { runScript } from './script-runner.ts';

const dir = path.join(import.meta.dirname, 'scripts');

for (const name of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`metadata script ${name} gives the recorded results and state`, async () => {
    const { expected, actual } = await runScript(path.join(dir, name));
    assert.equal(actual, expected);
  });
}
