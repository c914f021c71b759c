// swagger-ui-dist is an optional peer dependency: without it /docs says what to install
// instead of failing with 500. The child Node's module resolution is hooked to act as if
// the package were not installed (as in test/storage/cloud-sdk-missing.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const INDEX = new URL('../../lib/index.ts', import.meta.url).href;
const CHILD = `
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'swagger-ui-dist' || specifier.startsWith('swagger-ui-dist/')) {
      throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: 'MODULE_NOT_FOUND' });
    }
    return next(specifier, context);
  },
});
const { createBleepStore } = await import(${JSON.stringify(INDEX)});
await using store = await createBleepStore();
const { url } = await store.listen();
const out = [];
for (const p of ['/docs', '/docs/swagger-ui-bundle.js', '/openapi.json']) {
  const r = await fetch(url + p);
  out.push({ path: p, status: r.status, text: (await r.text()).slice(0, 200) });
}
console.log(JSON.stringify(out));
`;

test('without swagger-ui-dist, /docs answers 501 naming the package to install, and /openapi.json still works', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', CHILD]);
  const out = JSON.parse(stdout.trim().split('\n').pop()!) as Array<{ path: string; status: number; text: string }>;
  for (const r of out.slice(0, 2)) {
    assert.equal(r.status, 501, r.path);
    assert.match(r.text, /npm install swagger-ui-dist/);
  }
  assert.equal(out[2]!.status, 200);
});
