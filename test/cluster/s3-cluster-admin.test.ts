// What an operator sees of a running 3-node bin/bleepstore cluster: /health's cluster block,
// /readyz, the x-bleepstore-leader header, and `bleepstore cluster status|nodes` through the
// admin port with its bearer token.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ADMIN_TOKEN, S3Cluster, type NodeHealth } from './helpers/s3-cluster.ts';
import { CLUSTER_PROTOCOL, MAC_HEADER, PROTOCOL_HEADER, TIME_HEADER } from '../../lib/cluster/peer-auth.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/bleepstore');
let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (e, out, err) =>
      resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }),
    ),
  );
}

test('health, readiness and `bleepstore cluster status|nodes` show the role, leader, term and indexes', {
  timeout: 90_000,
}, async () => {
  cluster = await S3Cluster.create(3);
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  const follower = c.nodes.find((n) => n !== leader)!;
  const h = (await (await fetch(`${c.url(follower)}/health`)).json()) as { cluster: NodeHealth };
  assert.equal(h.cluster.role, 'follower');
  assert.equal(h.cluster.leader, leader.name);
  assert.ok(h.cluster.term >= 1 && h.cluster.commit >= 1 && h.cluster.applied === h.cluster.commit, JSON.stringify(h));
  const ready = await fetch(`${c.url(follower)}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(ready.headers.get('x-bleepstore-leader'), leader.name);

  const status = await cli(['cluster', 'status', '--config', follower.config]);
  assert.equal(status.code, 0, status.err);
  assert.match(
    status.out,
    new RegExp(`node ${follower.name}: follower, leader ${leader.name}, term \\d+, commit \\d+, applied \\d+, healthy`),
  );
  const nodes = await cli(['cluster', 'nodes', '--config', leader.config, '--json']);
  assert.equal(nodes.code, 0, nodes.err);
  const members = JSON.parse(nodes.out).nodes as Array<{ id: string; healthy: boolean; state: string }>;
  assert.deepEqual(members.map((m) => m.id).sort(), ['n1', 'n2', 'n3']);
  assert.ok(
    members.every((m) => m.healthy),
    nodes.out,
  );
  const wrong = await cli(['cluster', 'status', '--config', follower.config, '--token', `${ADMIN_TOKEN}x`]);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.err, /401/);

  // A peer of another cluster protocol version is refused, and the node says so in its log
  // (once a minute per reason), naming both versions.
  const other = await fetch(`http://127.0.0.1:${follower.clusterPort}/raft/messages?from=1`, {
    method: 'POST',
    headers: {
      [PROTOCOL_HEADER]: String(CLUSTER_PROTOCOL + 1),
      [TIME_HEADER]: String(Date.now()),
      [MAC_HEADER]: 'a'.repeat(64),
    },
    body: 'x',
  });
  assert.equal(other.status, 401);
  assert.match(
    await other.text(),
    new RegExp(`cluster protocol ${CLUSTER_PROTOCOL + 1} and this node ${CLUSTER_PROTOCOL}`),
  );
  // The node's log reaches this process through a pipe, possibly after the answer.
  const refusal = () => follower.proc!.logs.find((e) => e.msg === 'refused a request on the cluster port');
  for (const end = Date.now() + 5000; !refusal() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  const logged = refusal();
  assert.equal(logged?.reason, 'protocol', JSON.stringify(logged));
  assert.equal(logged?.level, 'error');

  // A node that lost its majority is not ready: /readyz 503 once it has no leader.
  await c.kill9(leader);
  await c.kill9(c.nodes.find((n) => n !== leader && n !== follower)!);
  const end = Date.now() + 10_000;
  let code = 200;
  while (code === 200 && Date.now() < end) {
    code = (await fetch(`${c.url(follower)}/readyz`)).status;
    if (code === 200) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(code, 503);
});
