// Checks on the test files themselves, for mistakes that lose results without failing a test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { glob, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TEST_DIR = fileURLToPath(new URL('..', import.meta.url));

test('no test file replaces process.stdout.write, which carries its results to the runner', async () => {
  // Under `node --test` each file runs in a child whose reports go to the parent on stdout
  // (https://nodejs.org/api/test.html#process-based-test-isolation): a replaced write
  // swallowed an earlier test's report, and the run counted 6 of 7 tests, all passing.
  const offenders: string[] = [];
  for await (const file of glob('**/*.ts', { cwd: TEST_DIR })) {
    // Template literals hold scripts for child processes, whose stdout is theirs to replace.
    const src = (await readFile(path.join(TEST_DIR, file), 'utf8')).replace(/`[^`]*`/g, '``');
    if (/process\.stdout\.write\s*=[^=]/.test(src)) offenders.push(file);
  }
  assert.deepEqual(offenders, [], 'write results elsewhere (a child process, logWrite) instead');
});
