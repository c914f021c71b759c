import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { parse as parseYaml } from 'yaml';
import { OPERATIONS, parseEndpoint } from '../../lib/s3/router.ts';
import { S3_OPERATIONS_KEY, type S3Variant } from '../../lib/ops/openapi.ts';
import { startServer } from '../helpers/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: walks an arbitrary JSON document
type Obj = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'head', 'options', 'patch', 'trace'];
const S3_PATHS = ['/', '/{Bucket}', '/{Bucket}/{Key+}'];
const CONTRACT = new URL('../../../shared/specs/s3-api.openapi.yaml', import.meta.url);

async function fetchDoc(url: string): Promise<Obj> {
  const res = await fetch(`${url}/openapi.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  return (await res.json()) as Obj;
}

function operationsOf(doc: Obj): Array<{ path: string; method: string; op: Obj }> {
  return Object.entries(doc.paths as Obj).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as Obj)[m]).map((method) => ({ path, method, op: (item as Obj)[method] as Obj })),
  );
}

function resolve(doc: Obj, p: Obj): Obj {
  return typeof p.$ref === 'string'
    ? (p.$ref as string)
        .slice(2)
        .split('/')
        .reduce((o: Obj, k) => o[k], doc)
    : p;
}

test('/openapi.json is a valid OpenAPI 3 document', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const doc = await fetchDoc(s.url);
  assert.match(doc.openapi, /^3\.\d+\.\d+$/);
  assert.ok(doc.info.title && doc.info.version);
  assert.ok(doc.servers?.length >= 1, 'a server URL');
  // Validates against the official OpenAPI schema and resolves every $ref.
  await SwaggerParser.validate(structuredClone(doc) as never);

  const ids = operationsOf(doc).map((o) => o.op.operationId as string);
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  for (const { path, method, op } of operationsOf(doc)) {
    const params = [...((doc.paths[path] as Obj).parameters ?? []), ...(op.parameters ?? [])].map((p: Obj) =>
      resolve(doc, p),
    );
    const inPath = params
      .filter((p) => p.in === 'path')
      .map((p) => p.name as string)
      .sort();
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).sort();
    assert.deepEqual(inPath, templated, `${method} ${path}: every path template variable is a path parameter`);
    assert.ok(Object.keys(op.responses ?? {}).length > 0, `${method} ${path} has responses`);
  }
});

test('the document covers every operation the router serves, and each documented request routes to it', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const doc = await fetchDoc(s.url);

  const documented = new Map<string, number>();
  for (const { path, method, op } of operationsOf(doc)) {
    const variants = op[S3_OPERATIONS_KEY] as S3Variant[] | undefined;
    if (!S3_PATHS.includes(path)) {
      assert.equal(variants, undefined, `${path} is not an S3 path`);
      continue;
    }
    assert.ok(variants?.length, `${method.toUpperCase()} ${path} lists its S3 operations`);
    for (const v of variants!) {
      documented.set(v.operation, (documented.get(v.operation) ?? 0) + 1);
      const url =
        path.replace('{Bucket}', 'example-bucket').replace('{Key+}', 'photos/2024/cat.jpg') +
        (v.query
          ? '?' +
            Object.entries(v.query)
              .map(([k, val]) => (val === '' ? k : `${k}=${encodeURIComponent(val)}`))
              .join('&')
          : '');
      const headers = Object.fromEntries(Object.entries(v.header ?? {}).map(([k, val]) => [k.toLowerCase(), val]));
      const endpoint = parseEndpoint(
        { method: method.toUpperCase(), url, host: 'localhost:9010', header: (n) => headers[n] },
        { domains: ['localhost'] },
      );
      assert.equal(
        endpoint.op,
        v.operation,
        `${method.toUpperCase()} ${url} ${JSON.stringify(v.header ?? {})} routes to ${v.operation}`,
      );
      // The selecting query parameters and headers are themselves documented parameters.
      const params = [...((doc.paths[path] as Obj).parameters ?? []), ...(op.parameters ?? [])].map((p: Obj) =>
        resolve(doc, p),
      );
      for (const q of Object.keys(v.query ?? {}))
        assert.ok(
          params.some((p) => p.in === 'query' && p.name === q),
          `${v.operation}: query parameter ${q} documented`,
        );
      for (const h of Object.keys(v.header ?? {}))
        assert.ok(
          params.some((p) => p.in === 'header' && p.name.toLowerCase() === h),
          `${v.operation}: header ${h} documented`,
        );
    }
  }
  const missing = OPERATIONS.filter((op) => !documented.has(op));
  assert.deepEqual(missing, [], 'operations the router serves but the document lacks');
  const unknown = [...documented.keys()].filter((op) => !OPERATIONS.includes(op as never));
  assert.deepEqual(unknown, [], 'documented operations the router does not serve');
  for (const [op, n] of documented) assert.equal(n, 1, `${op} is documented once`);
});

test('S3 paths, methods and operation ids follow the shared contract, with its query parameters', {
  skip: !existsSync(CONTRACT) && 'shared/specs is not beside this checkout',
}, async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const doc = await fetchDoc(s.url);
  const contract = parseYaml(readFileSync(CONTRACT, 'utf8')) as Obj;
  const shape = (d: Obj) =>
    operationsOf(d)
      .filter((o) => S3_PATHS.includes(o.path))
      .map((o) => `${o.method} ${o.path} ${o.op.operationId}`)
      .sort();
  // Every operation of the contract is served as it says; the document may add to it (the
  // CORS preflight OPTIONS, for one, is not in the contract).
  const ours = shape(doc);
  assert.deepEqual(
    shape(contract).filter((op) => !ours.includes(op)),
    [],
  );
  for (const { path, method, op } of operationsOf(contract).filter((o) => S3_PATHS.includes(o.path))) {
    const ours = doc.paths[path][method] as Obj;
    const names = (o: Obj, d: Obj) =>
      (o.parameters ?? [])
        .map((p: Obj) => resolve(d, p))
        .filter((p: Obj) => p.in === 'query')
        .map((p: Obj) => p.name as string);
    const missing = names(op, contract).filter((n: string) => !names(ours, doc).includes(n));
    assert.deepEqual(missing, [], `${method} ${path}: query parameters of the contract`);
  }
});

test('the ops endpoints are in the document as configured, and switching OpenAPI off leaves /openapi.json and /docs to S3', async (t) => {
  const s = await startServer({ observability: { metrics: false, health_check: false } });
  t.after(() => s.stop());
  const doc = await fetchDoc(s.url);
  assert.ok(doc.paths['/health'] && doc.paths['/openapi.json'] && doc.paths['/docs']);
  assert.equal(doc.paths['/metrics'], undefined);
  assert.equal(doc.paths['/readyz'], undefined);
  assert.deepEqual(doc.paths['/health'].get.security, [], 'ops endpoints need no signature');

  const off = await startServer({ observability: { openapi: false } });
  t.after(() => off.stop());
  for (const p of ['/openapi.json', '/docs']) {
    const res = await fetch(`${off.url}${p}`);
    assert.equal(res.status, 404, p);
    assert.match(await res.text(), /<Error><Code>NoSuchBucket<\/Code>/, p);
  }
});

test('/docs serves the Swagger UI page and its assets from this host', async (t) => {
  const s = await startServer();
  t.after(() => s.stop());
  const page = await fetch(`${s.url}/docs`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const html = await page.text();
  assert.match(html, /swagger/i);
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(assets.length >= 3);
  for (const a of assets) {
    assert.ok(a.startsWith('/docs/'), `${a} is served from this host`);
    const res = await fetch(`${s.url}${a}`);
    assert.equal(res.status, 200, a);
    assert.ok((await res.arrayBuffer()).byteLength > 0, a);
  }
  const init = await (await fetch(`${s.url}/docs/init.js`)).text();
  assert.match(init, /url: '\/openapi\.json'/);
  assert.match(init, /validatorUrl: null/);
  assert.equal((await fetch(`${s.url}/docs/package.json`)).status, 404, 'only the files the page uses are served');
});
