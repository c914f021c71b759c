// Loaded into every test file's process by `npm run test:coverage` (`--import`). The runner sets
// NODE_V8_COVERAGE, child processes inherit it, and every node process writes its coverage file
// when it exits, and also when it execve()s: bin/bleepstore re-executes itself at start, so a
// server writes one within its first ~100 ms. A child killed with SIGKILL while writing (the
// crash tests kill servers during their start) leaves a cut-short file, and one such file fails
// the runner's whole report ("Could not report code coverage ... Unexpected end of JSON
// input"; it failed the CI run of session 11's stop with 0 tests failing). So this process's
// children write into a directory of their own, and a file joins the runner's directory only
// once it parses, when this process exits (by then every child it waited for has written).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

const shared = process.env.NODE_V8_COVERAGE;
if (shared && process.env.NODE_TEST_CONTEXT) {
  // Beside the runner's directory, not in it: the runner reads every entry there as a file.
  const own = `${shared}-children-${process.pid}`;
  mkdirSync(own, { recursive: true });
  process.env.NODE_V8_COVERAGE = own;
  process.on('exit', () => {
    let dropped = 0;
    for (const name of readdirSync(own)) {
      const file = path.join(own, name);
      try {
        JSON.parse(readFileSync(file, 'utf8'));
        renameSync(file, path.join(shared, name));
      } catch {
        dropped++;
      }
    }
    rmSync(own, { recursive: true, force: true });
    if (dropped)
      process.stderr.write(`child-coverage: ${dropped} child coverage file(s) cut short by a kill, left out\n`);
  });
}
