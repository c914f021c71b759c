// The package as a consumer gets it: `npm pack`, publint, and the tarball installed into an
// empty project, where its dependencies are counted, its types are compiled under three
// module resolutions, and the README's embedding example runs with node:test.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'node_modules/.bin');
let work = '';
let tarball = '';
let project = '';

function sh(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(
    // NODE_V8_COVERAGE (set by `test:coverage`) would make the child collect coverage too and
    // inflate the import's CPU time (CI read 89 ms against the 80 ms budget under coverage).
    Object.entries(env).filter(
      ([k]) => !k.startsWith('NODE_TEST') && !k.startsWith('npm_') && k !== 'NODE_V8_COVERAGE',
    ),
  );
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, env: { ...clean, PATH: `${BIN}:${process.env.PATH}` }, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** The README's node:test embedding example, verbatim. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- embedding-example[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README has the marked embedding example');
  return m[1]!;
}

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'bleepstore-pack-'));
  const packed = await sh('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  assert.equal(packed.code, 0, packed.stderr);
  const jsonStart = packed.stdout.indexOf('[');
  const [info] = JSON.parse(packed.stdout.slice(jsonStart)) as Array<{ filename: string }>;
  tarball = path.join(work, info!.filename);
  project = path.join(work, 'consumer');
  await mkdir(project);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  const installed = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  assert.equal(installed.code, 0, installed.stderr);
});
after(() => rm(work, { recursive: true, force: true }));

test('publint finds no problem in the package', async () => {
  // publint checks what a registry consumer resolves: exports/types/main/files agree with the tarball.
  const r = await sh('publint', ['run', '--strict', '--pack', 'npm'], ROOT);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('installing the tarball brings at most 9 packages besides bleepstore, runs no install script, and no cloud SDK or swagger-ui', async () => {
  const lock = JSON.parse(await readFile(path.join(project, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean }>;
  };
  const names = Object.keys(lock.packages)
    .filter((p) => p.startsWith('node_modules/'))
    .map((p) => p.slice('node_modules/'.length));
  const deps = names.filter((n) => n !== 'bleepstore');
  assert.ok(deps.length <= 9, `${deps.length} packages: ${deps.join(', ')}`);
  for (const heavy of ['@aws-sdk/client-s3', '@azure/storage-blob', '@google-cloud/storage', 'swagger-ui-dist'])
    assert.ok(!names.includes(heavy), heavy);
  assert.deepEqual(
    Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([n]) => n),
    [],
  );
  const pkg = JSON.parse(await readFile(path.join(project, 'node_modules/bleepstore/package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[s], undefined, s);
  console.log(`# ${deps.length} dependencies: ${deps.join(', ')}`);
  // The bin runs from the built dist/ (the tarball carries no lib/ sources).
  const v = await sh(path.join(project, 'node_modules/.bin/bleepstore'), ['--version'], project);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')).version);
});

test("importing the package loads no npm package but sax, no cloud SDK, prom-client or yaml, and not Node's bundled undici", async () => {
  // What the import loads is asserted, not how long it takes: speed is for benchmarks, and a
  // CPU budget failed on a loaded CI machine (89 ms vs 80). Every npm package the import
  // resolves is recorded by a module hook; the CPU figure is printed for the record.
  const probe = `import { registerHooks } from 'node:module';
const pkgs = new Set();
registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx);
  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(r.url); if (m && m[1] !== 'bleepstore') pkgs.add(m[1]); return r; } });
const c = process.cpuUsage(); const m = await import('bleepstore'); const u = process.cpuUsage(c);
const undici = process.moduleLoadList.some((x) => x.includes('undici'));
console.log(JSON.stringify({ cpu: (u.user + u.system) / 1000, pkgs: [...pkgs].sort(), undici, api: typeof m.createBleepStore }));`;
  await writeFile(path.join(project, 'probe.mjs'), probe);
  const r = await sh(process.execPath, ['probe.mjs'], project);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { cpu: number; pkgs: string[]; undici: boolean; api: string };
  console.log(`# import: ${out.cpu.toFixed(1)} ms CPU; packages ${out.pkgs.join(', ')}; Node's undici ${out.undici}`);
  assert.equal(out.api, 'function');
  assert.deepEqual(out.pkgs, ['sax']);
  // An ES module import of node:http builds its facade, whose lazy WebSocket getter loads
  // Node's bundled undici (~20 ms of CPU); lib/node-http.ts avoids the facade.
  assert.equal(out.undici, false, "Node's bundled undici is not loaded at import");
});

test('the types compile for a consumer under node16, nodenext and bundler resolution', async () => {
  await writeFile(
    path.join(project, 'use.ts'),
    `import { createBleepStore, type BleepStore, type ClientConfig } from 'bleepstore';
const store: BleepStore = await createBleepStore({ storage: 'memory', buckets: ['a'], logWrite: (l: string) => void l });
const c: ClientConfig = store.clientConfig();
export const endpoint: string = c.endpoint;
`,
  );
  for (const [mod, res] of [
    ['node16', 'node16'],
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ] as const) {
    const tsconfig = {
      compilerOptions: {
        module: mod,
        moduleResolution: res,
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
        lib: ['es2022', 'esnext.disposable'],
      },
      files: ['use.ts'],
    };
    await writeFile(path.join(project, `tsconfig.${res}.json`), JSON.stringify(tsconfig));
    const r = await sh(path.join(BIN, 'tsc'), ['-p', `tsconfig.${res}.json`], project);
    assert.equal(r.code, 0, `${res}: ${r.stdout}${r.stderr}`);
  }
});

test("the README's embedding example runs from the tarball with node:test, on no fixed port, writing nothing outside its temp dir", async () => {
  const example = await readmeExample();
  assert.doesNotMatch(example, /port\s*:\s*[1-9]/, 'no fixed port in the example');
  // The example's own test dependency, as a user would add it.
  const sdk = await sh(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '@aws-sdk/client-s3'],
    project,
  );
  assert.equal(sdk.code, 0, sdk.stderr);
  await writeFile(path.join(project, 's3.test.mjs'), example);
  const home = path.join(work, 'home');
  const tmp = path.join(work, 'tmp');
  await mkdir(home);
  await mkdir(tmp);
  const before = new Set(await readdir(project));
  const r = await sh(process.execPath, ['--test', 's3.test.mjs'], project, { ...process.env, HOME: home, TMPDIR: tmp });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /pass 1/);
  assert.deepEqual(
    (await readdir(project)).filter((f) => !before.has(f)),
    [],
    'nothing new in the project directory (no ./data)',
  );
  assert.deepEqual(await readdir(home), [], 'nothing written to HOME');
  assert.deepEqual(await readdir(tmp), [], 'nothing left in TMPDIR');
});
