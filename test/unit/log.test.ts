// The structured logger (lib/ops/log.ts): redaction on both JSON paths, the access log line
// built as one string, and standard output written at most every 50 ms, in order, and
// completely at exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../lib/ops/log.ts';
import { accessLogFields, createRequestObserver, type RequestRecord } from '../../lib/ops/observe.ts';

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

test('info lines reach stdout together within 50 ms, not one write each; a warning goes out at once, in order; exit writes what is pending', () => {
  // A child process, so its stdout is a real pipe: count the writes it makes.
  const script = `
    import { createLogger } from ${JSON.stringify(LOG)};
    const writes = [];
    const real = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk, ...rest) => { writes.push(String(chunk)); return real(chunk, ...rest); };
    const log = createLogger({ level: 'info', format: 'json' });
    for (let i = 0; i < 50; i++) log.info('request completed', { i });
    const afterInfo = writes.length;
    setImmediate(() => {
      for (let i = 50; i < 100; i++) log.info('request completed', { i });
      const afterTurn = writes.length;
      setTimeout(() => {
        const afterDelay = writes.length;
        log.info('before the warning');
        log.warn('disk nearly full');
        const afterWarn = writes.length;
        log.info('pending at exit');
        process.stderr.write(JSON.stringify({ afterInfo, afterTurn, afterDelay, afterWarn }));
        process.exit(0);
      }, 60);
    });
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stderr), { afterInfo: 0, afterTurn: 0, afterDelay: 1, afterWarn: 2 });
  const msgs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).msg);
  assert.equal(msgs.length, 103);
  assert.deepEqual(msgs.slice(-3), ['before the warning', 'disk nearly full', 'pending at exit']);
});

test('the access log line built as one string equals JSON.stringify of its fields, for every kind of value', () => {
  const lines: string[] = [];
  const json = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
  const observe = createRequestObserver(json, undefined);
  const records: RequestRecord[] = [
    {
      requestId: 'A1',
      method: 'GET',
      route: 'GetObject',
      ops: false,
      bucket: 'b',
      key: 'k',
      status: 200,
      bytesIn: 0,
      bytesOut: 5,
      durationMs: 0.1234567,
      aborted: false,
      clientAddress: '127.0.0.1',
      userAgent: 'aws-sdk-js/3 "quoted" \\ back',
      accessKeyId: 'bleepstore',
    },
    {
      requestId: 'A2',
      method: 'PUT',
      route: 'PutObject',
      ops: false,
      bucket: 'b',
      key: 'ключ/emoji 😀\n\ttab\u2028\u0000\ud800',
      status: 500,
      bytesIn: 7,
      bytesOut: 0,
      durationMs: 12,
      aborted: true,
    },
    {
      requestId: 'A3',
      method: 'GET',
      route: '/health',
      ops: true,
      status: 0,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 1e-9,
      aborted: false,
    },
  ];
  for (const r of records) {
    lines.length = 0;
    observe(r);
    const { time: _t, level, msg, ...fields } = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(level, r.ops ? 'debug' : 'info');
    assert.equal(msg, 'request completed');
    const expected = JSON.parse(JSON.stringify(accessLogFields(r))) as Record<string, unknown>;
    assert.deepEqual(fields, expected);
    assert.deepEqual(Object.keys(fields), Object.keys(expected), 'same members in the same order');
    assert.equal(
      lines[0]!.slice(lines[0]!.indexOf('"request_id"')),
      `${JSON.stringify(expected).slice(1, -1)}}\n`,
      'byte for byte',
    );
  }
});
