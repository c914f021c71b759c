// test/helpers/child-coverage.ts, on a real nested `node --test --experimental-test-coverage`
// run: a test file whose child wrote a coverage file cut short (what a SIGKILL during the
// child's write leaves) fails the whole report without it, and with it the report is made and
// still counts what the child covered.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const HELPER = fileURLToPath(new URL('../helpers/child-coverage.ts', import.meta.url));

function nestedCoverageRun(dir: string, imports: string[]): { status: number | null; out: string } {
  // The nested runner must not report into this run's coverage, nor think it is a test file.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_TEST') && k !== 'NODE_V8_COVERAGE'),
  );
  const r = spawnSync(
    process.execPath,
    [
      ...imports.flatMap((i) => ['--import', i]),
      '--test',
      '--experimental-test-coverage',
      '--test-coverage-include=covered-by-child.cjs',
      'inner.test.mjs',
    ],
    { cwd: dir, env, encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

test('a child coverage file cut short by a kill is left out instead of failing the coverage report', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-child-coverage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'covered-by-child.cjs'), 'exports.f = function f() {\n  return 42;\n};\n');
  // The child covers the module; then a file named as node names them, holding what a write
  // interrupted by SIGKILL leaves.
  writeFileSync(
    path.join(dir, 'inner.test.mjs'),
    `import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
test('a child runs', () => {
  execFileSync(process.execPath, ['-e', 'require("./covered-by-child.cjs").f()']);
  writeFileSync(path.join(process.env.NODE_V8_COVERAGE, 'coverage-1-1796212289068-0.json'), '{"result":[{"scriptId":"');
});
`,
  );
  const without = nestedCoverageRun(dir, []);
  assert.equal(without.status, 1, without.out);
  assert.match(without.out, /Could not report code coverage.*failed to parse coverage file/);

  const withHelper = nestedCoverageRun(dir, [HELPER]);
  assert.equal(withHelper.status, 0, withHelper.out);
  assert.doesNotMatch(withHelper.out, /Could not report code coverage/);
  assert.match(withHelper.out, /child-coverage: 1 child coverage file\(s\) cut short by a kill, left out/);
  assert.match(
    withHelper.out,
    /covered-by-child\.cjs\s+\|\s+100\.00\s+\|/,
    'the complete file of the child still counts',
  );
});
