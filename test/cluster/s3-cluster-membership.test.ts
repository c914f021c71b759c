// Membership at runtime on bin/bleepstore processes: a 4th node started with an empty data
// directory and cluster.join joins through `bleepstore cluster add`, writes go on, another node
// is removed with `bleepstore cluster remove`, and every acknowledged write is on the rest.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { assertVerdict, verifyAndStop } from './helpers/checker.ts';
import { S3Cluster, until } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/bleepstore');
let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, 'cluster', ...args], { timeout: 60_000 }, (e, out, err) =>
      resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }),
    ),
  );
}

interface Member {
  id: string;
  learner?: boolean;
}

test('a node joins with `bleepstore cluster add`, another leaves with `remove`, and every acknowledged write is on the rest', {
  timeout: 300_000,
}, async () => {
  cluster = await S3Cluster.create(4);
  const c = cluster;
  const [n1, n2, n3, n4] = c.nodes as [
    (typeof c.nodes)[0],
    (typeof c.nodes)[0],
    (typeof c.nodes)[0],
    (typeof c.nodes)[0],
  ];
  // The first three know only each other; n4 knows all four and joins.
  for (const n of c.nodes) {
    let yaml = readFileSync(n.config, 'utf8').replace('replicas: 4', 'replicas: 3');
    if (n === n4) yaml += '  join: true\n';
    else yaml = yaml.replace(/ {4}- id: n4\n {6}addr: [^\n]+\n/, '');
    writeFileSync(n.config, yaml);
  }
  await Promise.all([n1, n2, n3].map((n) => c.start(n)));
  let leader = await c.waitStable();
  await c.client(leader).send(new CreateBucketCommand({ Bucket: 'members' }));
  const w = new Workload(c, 'members');
  w.start(4);
  await until(() => w.ackedWrites >= 40, 60_000);

  await c.start(n4);
  const added = await cli(['add', 'n4', `127.0.0.1:${n4.clusterPort}`, '--config', leader.config]);
  assert.equal(added.code, 0, added.err);
  const nodes = async () => {
    const r = await cli(['nodes', '--json', '--config', (await c.leader())?.config ?? leader.config]);
    return r.code === 0 ? ((JSON.parse(r.out) as { nodes: Member[] }).nodes ?? []) : [];
  };
  const promoted = await until(async () => (await nodes()).some((m) => m.id === 'n4' && !m.learner), 60_000);
  assert.ok(promoted, `n4 promoted to voter: ${JSON.stringify(await nodes())}`);
  const before = w.ackedWrites;
  await until(() => w.ackedWrites >= before + 40, 60_000);

  // Remove a follower that is not n4, then stop it: writes go on with n1..n4 minus it.
  leader = await c.waitStable(60_000);
  const gone = [n1, n2, n3].find((n) => n !== leader)!;
  const removed = await cli(['remove', gone.name, '--config', leader.config]);
  assert.equal(removed.code, 0, removed.err);
  await c.kill9(gone);
  c.nodes.splice(c.nodes.indexOf(gone), 1);
  assert.ok(!(await nodes()).some((m) => m.id === gone.name), 'the removed node is no member');
  const mid = w.ackedWrites;
  await until(() => w.ackedWrites >= mid + 40, 60_000);
  await w.stop();

  const v = await verifyAndStop(c, 'members', w);
  console.log(
    `membership: n4 joined, ${gone.name} removed; acknowledged writes ${w.ackedWrites}, reads checked ${v.checked} (${v.retried} after a transport retry) ` +
      `on ${c.nodes.length} nodes, lost ${v.lost.length}, blobs missing ${v.missing.join('/')}`,
  );
  assertVerdict(v, c.nodes.length);
});
