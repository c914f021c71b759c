// The structured logger (lib/ops/log.ts): redaction on both JSON paths, and standard output
// written once per event-loop turn, in order, and completely at exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../lib/ops/log.ts';

const LOG = fileURLToPath(new URL('../../lib/ops/log.ts', import.meta.url));

test('credential-like fields are redacted whether the line takes the plain or the replacer path', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) });
  log.info('flat', { secret_key: 'S3CR3T', bucket: 'b' });
  log.info('nested', { detail: { session_token: 'T0K3N', ok: 1 }, size: 10n });
  log.info('plain', { bucket: 'b', status: 200, aborted: undefined });
  const [flat, nested, plain] = lines.map((l) => JSON.parse(l));
  assert.equal(flat.secret_key, '[redacted]');
  assert.equal(flat.bucket, 'b');
  assert.deepEqual(nested.detail, { session_token: '[redacted]', ok: 1 });
  assert.equal(nested.size, '10');
  assert.deepEqual([plain.bucket, plain.status, 'aborted' in plain], ['b', 200, false]);
  assert.ok(!lines.join('').includes('S3CR3T') && !lines.join('').includes('T0K3N'));
});

test('info lines of one event-loop turn reach stdout in one write; a warning goes out at once, in order; exit writes what is pending', () => {
  // A child process, so its stdout is a real pipe: count the writes it makes.
  const script = `
    import { createLogger } from ${JSON.stringify(LOG)};
    const writes = [];
    const real = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk, ...rest) => { writes.push(String(chunk)); return real(chunk, ...rest); };
    const log = createLogger({ level: 'info', format: 'json' });
    for (let i = 0; i < 100; i++) log.info('request completed', { i });
    const afterInfo = writes.length;
    setImmediate(() => {
      const afterTurn = writes.length;
      log.info('before the warning');
      log.warn('disk nearly full');
      const afterWarn = writes.length;
      log.info('pending at exit');
      process.stderr.write(JSON.stringify({ afterInfo, afterTurn, afterWarn }));
      process.exit(0);
    });
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stderr), { afterInfo: 0, afterTurn: 1, afterWarn: 2 });
  const msgs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).msg);
  assert.equal(msgs.length, 103);
  assert.deepEqual(msgs.slice(-3), ['before the warning', 'disk nearly full', 'pending at exit']);
});
