import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../lib/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-config-'));
const yamlFile = (text: string) => {
  const p = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
};

test('defaults serve on 127.0.0.1:9010 with data under ./data and the default key', () => {
  const c = loadConfig();
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.server.port, 9010);
  assert.equal(c.server.region, 'us-east-1');
  assert.equal(c.auth.access_key, 'bleepstore');
  assert.equal(c.auth.secret_key, 'bleepstore-secret');
  assert.equal(c.metadata.sqlite.path, path.join('data', 'metadata.db'));
  assert.equal(c.storage.local.root_dir, path.join('data', 'objects'));
  assert.equal(c.durability, 'full');
});

test('precedence is defaults < YAML < environment < flags', () => {
  const file = yamlFile('server:\n  port: 9100\n  host: 0.0.0.0\n  region: eu-west-1\n');
  const fromFile = loadConfig({ file });
  assert.equal(fromFile.server.port, 9100);
  const fromEnv = loadConfig({ file, env: { BLEEPSTORE_PORT: '9200' } });
  assert.equal(fromEnv.server.port, 9200);
  assert.equal(fromEnv.server.host, '0.0.0.0');
  const fromFlags = loadConfig({ file, env: { BLEEPSTORE_PORT: '9200' }, overrides: { server: { port: 9300 } } });
  assert.equal(fromFlags.server.port, 9300);
  assert.equal(fromFlags.server.region, 'eu-west-1');
});

test('the example config from the repository loads', () => {
  const c = loadConfig({ file: new URL('../../bleepstore.example.yaml', import.meta.url).pathname });
  assert.equal(c.server.port, 9010);
});

test('a bad value is refused with one sentence naming the key', () => {
  assert.throws(
    () => loadConfig({ overrides: { server: { port: 'abc' as never } } }),
    (err: unknown) =>
      err instanceof ConfigError && /"server\.port"/.test(err.message) && /integer from 0 to 65535/.test(err.message),
  );
  assert.throws(
    () => loadConfig({ env: { BLEEPSTORE_DURABILITY: 'sometimes' } }),
    (err: unknown) =>
      err instanceof ConfigError && /"durability"/.test(err.message) && /BLEEPSTORE_DURABILITY/.test(err.message),
  );
});

test('an unknown key in the YAML file is refused, naming it', () => {
  const file = yamlFile('server:\n  prot: 1\n');
  assert.throws(
    () => loadConfig({ file }),
    (err: unknown) => err instanceof ConfigError && /"server\.prot"/.test(err.message),
  );
});

test('invalid YAML is refused with the file name', () => {
  const file = yamlFile('server: [unclosed\n');
  assert.throws(
    () => loadConfig({ file }),
    (err: unknown) => err instanceof ConfigError && err.message.includes(file),
  );
});

test('--data-dir moves both the database and the objects', () => {
  const c = loadConfig({ overrides: { data_dir: '/srv/bleep' } });
  assert.equal(c.metadata.sqlite.path, '/srv/bleep/metadata.db');
  assert.equal(c.storage.local.root_dir, '/srv/bleep/objects');
});

test('relative paths in a config file resolve against the file, not the working directory', () => {
  const sub = mkdtempSync(path.join(dir, 'etc-'));
  const file = path.join(sub, 'bleepstore.yaml');
  writeFileSync(file, 'data_dir: ./store\nstorage:\n  local:\n    root_dir: blobs\n');
  const c = loadConfig({ file });
  assert.equal(c.data_dir, path.join(sub, 'store'));
  assert.equal(c.metadata.sqlite.path, path.join(sub, 'store', 'metadata.db'));
  assert.equal(c.storage.local.root_dir, path.join(sub, 'blobs'));
});

test('the example config sets no explicit paths, so --data-dir moves everything (no silently unused directory)', () => {
  const file = new URL('../../bleepstore.example.yaml', import.meta.url).pathname;
  const c = loadConfig({ file, overrides: { data_dir: '/srv/elsewhere' } });
  assert.equal(c.metadata.sqlite.path, '/srv/elsewhere/metadata.db');
  assert.equal(c.storage.local.root_dir, '/srv/elsewhere/objects');
  assert.equal(c.storage.staging_dir, '/srv/elsewhere/staging');
});

test('the memory backend keeps metadata in memory even with a data dir (no rows that outlive their bytes)', () => {
  const c = loadConfig({ overrides: { data_dir: '/srv/bleep', storage: { backend: 'memory' } } });
  assert.equal(c.metadata.sqlite.path, ':memory:');
  assert.throws(
    () => loadConfig({ overrides: { storage: { backend: 'memory' }, metadata: { sqlite: { path: '/x/m.db' } } } }),
    (err: unknown) => err instanceof ConfigError && /metadata\.sqlite\.path/.test(err.message),
  );
});

test('BLEEPSTORE_SECRET_KEY_FILE reads the secret from a file, and refuses to be set beside BLEEPSTORE_SECRET_KEY', () => {
  const secretFile = path.join(dir, 'secret');
  writeFileSync(secretFile, 's3cr3t-from-file\n');
  const c = loadConfig({ env: { BLEEPSTORE_ACCESS_KEY: 'ops', BLEEPSTORE_SECRET_KEY_FILE: secretFile } });
  assert.equal(c.auth.access_key, 'ops');
  assert.equal(c.auth.secret_key, 's3cr3t-from-file');
  assert.throws(
    () => loadConfig({ env: { BLEEPSTORE_SECRET_KEY: 'a', BLEEPSTORE_SECRET_KEY_FILE: secretFile } }),
    /not both/,
  );
  assert.throws(
    () => loadConfig({ env: { BLEEPSTORE_SECRET_KEY_FILE: path.join(dir, 'missing') } }),
    /Cannot read BLEEPSTORE_SECRET_KEY_FILE/,
  );
});

test('an error from a flag names the flag when the caller maps keys to flags', () => {
  assert.throws(
    () => loadConfig({ overrides: { server: { port: 'x' as never } }, flagNames: { 'server.port': '--port' } }),
    /^ConfigError: --port must be an integer/,
  );
});

test('metadata.raft is refused until it exists, naming the key', () => {
  assert.throws(
    () => loadConfig({ file: yamlFile('metadata:\n  raft:\n    enabled: true\n') }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message.includes('"metadata.raft"') &&
      /not supported/.test(err.message) &&
      !err.message.includes('\n'),
  );
});

test('events and queue sections are read from a YAML file; an unknown key in them names itself', () => {
  const c = loadConfig({
    file: yamlFile('queue:\n  enabled: true\n  backend: rabbitmq\n  rabbitmq:\n    url: amqp://127.0.0.1:5672\n'),
  });
  assert.deepEqual(
    c.events.targets.map((t) => [t.name, t.type, t.all_buckets]),
    [['rabbitmq', 'rabbitmq', true]],
  );
  assert.throws(
    () =>
      loadConfig({
        file: yamlFile(
          'events:\n  targets:\n    - name: a\n      type: redis\n      url: redis://x\n      all_buckets: true\n      colour: red\n',
        ),
      }),
    (err: unknown) => err instanceof ConfigError && err.message.includes('"events.targets[0].colour"'),
  );
});

test('createBleepStore takes onFatal and logWrite beside top-level config keys', async () => {
  const { createBleepStore } = await import('../../lib/index.ts');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bleepstore-embed-'));
  const lines: string[] = [];
  const store = await createBleepStore({
    data_dir: dataDir,
    storage: 'memory',
    onFatal: () => {},
    logWrite: (l) => void lines.push(l),
  });
  assert.equal(store.config.data_dir, dataDir);
  await store.close();
  const bare = await createBleepStore({
    onFatal: () => {},
    overrides: { data_dir: dataDir, logging: { level: 'silent' } },
  });
  await bare.close();
  await assert.rejects(createBleepStore({ data_dir: dataDir, overrides: { data_dir: dataDir } } as never), ConfigError);
});
