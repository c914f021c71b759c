// Loaded into every test file's process (`--import`): once the file's tests are done, a
// leaked handle (a browser, a socket) gets 60 s before the process exits anyway, so it can
// neither hold CI nor hide a result. Node's `--test-force-exit` would do this, but in the
// parent it also ended runs before every file had reported (154 of 205 unit tests ran).
import { after } from 'node:test';

if (process.env.NODE_TEST_CONTEXT) {
  after(() => {
    setTimeout(() => {
      process.stderr.write('exit-when-done: a handle kept this test file alive for 60 s after its tests; exiting\n');
      process.exit(process.exitCode ?? 0);
    }, 60_000).unref();
  });
}
