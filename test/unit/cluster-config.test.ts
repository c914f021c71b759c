import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, configWarnings, loadConfig } from '../../lib/config.ts';
import { raftId } from '../../lib/cluster/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-cluster-config-'));
const load = (yaml: string) => {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return loadConfig({ file });
};
const SECRET = 'a-long-shared-cluster-secret';
const three = (extra = '') => `data_dir: /srv/b
cluster:
  enabled: true
  node_id: n1
  bind_addr: 127.0.0.1:9001
  secret: ${SECRET}
  peers:
    - {id: n1, addr: "127.0.0.1:9001"}
    - {id: n2, addr: "127.0.0.1:9002"}
    - {id: n3, addr: "127.0.0.1:9003"}
${extra}`;

/** Asserts that loading fails with one sentence naming `key`. */
function refuses(yaml: string, key: string, pattern?: RegExp): void {
  assert.throws(
    () => load(yaml),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.ok(err.message.includes(`"${key}"`), `message names ${key}: ${err.message}`);
      assert.ok(!err.message.includes('\n'), 'one line');
      if (pattern) assert.match(err.message, pattern);
      return true;
    },
  );
}

test('a three-node cluster section loads with defaults filled in', () => {
  const c = load(three());
  assert.equal(c.cluster.enabled, true);
  assert.equal(c.cluster.advertise_addr, '127.0.0.1:9001');
  assert.equal(c.cluster.data_dir, '/srv/b/raft');
  assert.equal(c.cluster.election_timeout_ms, 1000);
  assert.equal(c.cluster.heartbeat_interval_ms, 150);
  assert.equal(c.cluster.replicas, 3);
  assert.equal(c.cluster.read_consistency, 'local');
  assert.deepEqual(
    c.cluster.peers.map((p) => p.id),
    ['n1', 'n2', 'n3'],
  );
  assert.deepEqual(configWarnings(c), []);
});

test('peers may leave this node out, as in the spec example', () => {
  const c = load(
    `cluster:\n  enabled: true\n  node_id: n1\n  bind_addr: 127.0.0.1:9001\n  secret: ${SECRET}\n  peers:\n    - {id: n2, addr: "127.0.0.1:9002"}\n    - {id: n3, addr: "127.0.0.1:9003"}\n`,
  );
  assert.equal(c.cluster.peers.length, 2);
  assert.deepEqual(configWarnings(c), []);
});

test('a disabled cluster section is accepted and not checked further', () => {
  const c = load('cluster:\n  enabled: false\n  node_id: n1\n');
  assert.equal(c.cluster.enabled, false);
});

test('wrong or inconsistent cluster values stop start-up with one sentence naming the key', () => {
  refuses(three().replace('node_id: n1', 'node_id: ""'), 'cluster.node_id', /must be set/);
  refuses(three().replace(`secret: ${SECRET}`, ''), 'cluster.secret', /must be set/);
  refuses(three().replace(`secret: ${SECRET}`, 'secret: short'), 'cluster.secret', /16/);
  refuses(three().replace('id: n3', 'id: n2'), 'cluster.peers', /"n2" twice/);
  refuses(three().replace('"127.0.0.1:9003"', '"127.0.0.1:9002"'), 'cluster.peers', /same addr/);
  refuses(three().replace('"127.0.0.1:9001"}', '"127.0.0.1:9009"}'), 'cluster.peers', /advertise_addr/);
  refuses(three().replace('"127.0.0.1:9002"', '"nowhere"'), 'cluster.peers', /host:port/);
  refuses(
    three().replace('{id: n2, addr: "127.0.0.1:9002"}', '{id: n2, address: "x:1"}'),
    'cluster.peers',
    /unknown key "address"/,
  );
  refuses(
    three().replace('bind_addr: 127.0.0.1:9001', 'bind_addr: 0.0.0.0:9001'),
    'cluster.advertise_addr',
    /wildcard/,
  );
  refuses(three('  election_timeout_ms: 200\n'), 'cluster.election_timeout_ms', /3 times/);
  refuses(three('  replicas: 0\n'), 'cluster.replicas', /at least 1|0/);
  refuses(three('  read_consistency: strong\n'), 'cluster.read_consistency', /local, linearizable/);
  refuses(three('  election_timeout_ms: soon\n'), 'cluster.election_timeout_ms', /integer/);
  refuses(three('  peer: []\n'), 'cluster.peer', /Unknown/);
  refuses(three().replace('  peers:\n', '  peers: 3\n  old_peers:\n'), 'cluster.peers', /list/);
});

test('an even number of voters loads with a warning naming cluster.peers', () => {
  const c = load(
    three('').replace(
      '    - {id: n3, addr: "127.0.0.1:9003"}\n',
      '    - {id: n3, addr: "127.0.0.1:9003"}\n    - {id: n4, addr: "127.0.0.1:9004"}\n',
    ),
  );
  const w = configWarnings(c);
  assert.equal(w.length, 1);
  assert.match(w[0]!, /4 voters \(cluster\.peers\)/);
});

test('more replicas than listed nodes load with a warning: the copies follow the membership as nodes join', () => {
  const w = configWarnings(load(three('  replicas: 5\n')));
  assert.equal(w.length, 1);
  assert.match(w[0]!, /cluster\.replicas is 5 but cluster\.peers lists 3 node\(s\)/);
});

test('the cluster secret and node id can come from the environment', () => {
  const file = path.join(dir, 'env.yaml');
  writeFileSync(file, three().replace(`  secret: ${SECRET}\n`, ''));
  const c = loadConfig({ file, env: { BLEEPSTORE_CLUSTER_SECRET: SECRET } });
  assert.equal(c.cluster.secret, SECRET);
});

test('string node ids map to stable, distinct, non-zero safe-integer Raft ids', () => {
  const ids = ['n1', 'n2', 'n3', 'node-1', 'node-2'].map(raftId);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.ok(Number.isSafeInteger(id) && id > 0);
  assert.equal(raftId('n1'), raftId('n1'));
});

test('a cluster node refuses the memory backend in one sentence naming storage.backend', async () => {
  const { createBleepStore } = await import('../../lib/index.ts');
  const config = load(
    `${three().replace('data_dir: /srv/b', `data_dir: ${path.join(dir, 'srv')}`)}storage:\n  backend: memory\n`,
  );
  await assert.rejects(
    createBleepStore({ config, logWrite: () => {} }),
    (err: unknown) => err instanceof ConfigError && err.message.includes('"storage.backend"'),
  );
});

test('a data directory holding a single-node store is refused in cluster mode, naming cluster.enabled', {
  timeout: 30_000,
}, async () => {
  const { createBleepStore } = await import('../../lib/index.ts');
  const { MetadataStore } = await import('../../lib/metadata/sqlite.ts');
  const { dataPaths } = await import('../../lib/data-paths.ts');
  const data = path.join(dir, 'single');
  const config = load(three().replace('data_dir: /srv/b', `data_dir: ${data}`));
  mkdirSync(data, { recursive: true });
  const single = new MetadataStore({ path: dataPaths(config).metadata_path, durability: 'full' });
  const owner = { id: 'o'.repeat(64), display_name: 'o' };
  await single.submit({
    type: 'bucket.create',
    bucket: {
      name: 'kept',
      region: 'us-east-1',
      ownerId: owner.id,
      ownerDisplay: owner.display_name,
      acl: { owner, grants: [] },
      createdAt: new Date().toISOString(),
    },
  });
  single.close();
  const refused = async (cfg: typeof config, why: RegExp) =>
    assert.rejects(
      createBleepStore({ config: cfg, logWrite: () => {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes('"cluster.enabled"') &&
        !err.message.includes('\n') &&
        why.test(err.message),
    );
  // Peers listed: promotion is for a node alone in its configuration.
  await refused(config, /lists other nodes \(n2, n3\).*only "n1" in cluster\.peers.*bleepstore cluster add/);
  const alone = (extra = '') =>
    load(
      three(extra)
        .replace('data_dir: /srv/b', `data_dir: ${data}`)
        .replace(/ {4}- \{id: n[23][^\n]+\n/g, '')
        .concat('  replicas: 1\n'),
    );
  await refused(alone('  join: true\n'), /as a joiner \(cluster\.join\)/);
  // Raft state of a cluster that ran: these rows were never part of it.
  const { SqliteRaftStorage } = await import('../../lib/cluster/raft-storage-sqlite.ts');
  mkdirSync(alone().cluster.data_dir, { recursive: true });
  const raft = new SqliteRaftStorage({ path: path.join(alone().cluster.data_dir, 'raft.db'), voters: [raftId('n1')] });
  raft.setHardState({ term: 5, vote: 0, commit: 0 });
  raft.close();
  await refused(alone(), /already holds a cluster's log \(term 5\).*rclone sync/);
});
