// Access keys in a running 3-node bin/bleepstore cluster: `bleepstore keys` goes through a
// node's admin API, the change is a Raft entry, and every node signs with the new key at
// once. The admin API's spec routes answer on a follower as on the leader.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { cli } from '../admin/run-cli.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import { ADMIN_TOKEN, S3Cluster, SECRET, type ClusterNodeProc } from './helpers/s3-cluster.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

interface Key {
  access_key_id: string;
  secret_key: string;
}

test('`bleepstore keys` on a follower and on the leader reaches every node; disabling and deleting too', {
  timeout: 120_000,
}, async () => {
  cluster = await S3Cluster.create(3);
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  const follower = c.nodes.find((n) => n !== leader)!;
  const admin = (n: ClusterNodeProc, method: string, p: string, body?: unknown) =>
    fetch(`http://127.0.0.1:${n.adminPort}${p}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(20_000),
    });
  const clients: S3Client[] = [];
  const s3 = (n: ClusterNodeProc, k: Key) => {
    const s = new S3Client({
      endpoint: c.url(n),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: k.access_key_id, secretAccessKey: k.secret_key },
      maxAttempts: 1,
    });
    clients.push(s);
    return s;
  };

  try {
    for (const via of [follower, leader]) {
      const r = await cli(['keys', 'create', '--display-name', `via-${via.name}`, '--json', '--config', via.config]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /through the running server's admin API/);
      const k = JSON.parse(r.stdout) as Key;
      // The node asked answers once it has applied the entry; the others apply it within a heartbeat or two.
      await s3(via, k).send(new ListBucketsCommand({}));
      for (const n of c.nodes) {
        const until = Date.now() + 15_000;
        for (;;) {
          try {
            await s3(n, k).send(new ListBucketsCommand({}));
            break;
          } catch (err) {
            if (Date.now() > until) throw new Error(`key made via ${via.name} never worked on ${n.name}: ${err}`);
            await new Promise((res) => setTimeout(res, 100));
          }
        }
      }
    }

    const listed = await cli(['keys', 'list', '--json', '--config', follower.config]);
    assert.equal(listed.code, 0, listed.stderr);
    const ids = (JSON.parse(listed.stdout) as Array<{ access_key_id: string; display_name: string }>).map(
      (k) => k.display_name,
    );
    assert.ok(ids.includes(`via-${follower.name}`) && ids.includes(`via-${leader.name}`), listed.stdout);

    // Disabled through a follower's admin API: refused on every node.
    const made = await admin(follower, 'POST', '/admin/credentials', { description: 'to disable' });
    assert.equal(made.status, 201);
    const k = (await made.json()) as { access_key_id: string; secret_access_key: string };
    const key = { access_key_id: k.access_key_id, secret_key: k.secret_access_key };
    const off = await admin(follower, 'PUT', `/admin/credentials/${k.access_key_id}/status`, { status: 'disabled' });
    assert.equal(off.status, 200, await off.clone().text());
    await c.waitConverged();
    for (const n of c.nodes)
      assert.equal((await sdkError(s3(n, key).send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId', n.name);
    const missing = await admin(follower, 'DELETE', '/admin/credentials/NOSUCHKEY000');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: string }).error, 'not_found');
    const gone = await cli(['keys', 'delete', k.access_key_id, '--config', follower.config]);
    assert.equal(gone.code, 0, gone.stderr);
    await c.waitConverged();
    const left = (await (await admin(leader, 'GET', '/admin/credentials')).json()) as {
      credentials: Array<{ access_key_id: string }>;
    };
    assert.ok(!left.credentials.some((x) => x.access_key_id === k.access_key_id));

    // `meta import` would write one replica's database: refused in cluster mode.
    const imp = await cli(['meta', 'import', '--config', follower.config]);
    assert.equal(imp.code, 2);
    assert.match(imp.stderr, /cluster mode: an import into this node's database would reach this replica only/);

    // The spec's cluster and status routes on a follower.
    const status = (await (await admin(follower, 'GET', '/admin/status')).json()) as Record<string, unknown>;
    assert.equal(status.mode, 'cluster');
    assert.equal(status.healthy, true);
    const stats = (await (await admin(follower, 'GET', '/admin/cluster/raft/stats')).json()) as Record<string, unknown>;
    for (const f of [
      'state',
      'term',
      'last_log_index',
      'last_log_term',
      'commit_index',
      'applied_index',
      'fsm_pending',
      'last_snapshot_index',
      'last_snapshot_term',
      'num_peers',
      'last_contact',
    ])
      assert.ok(f in stats, `raft stats lacks ${f}`);
    assert.equal(stats.state, 'follower');
    assert.equal(stats.num_peers, 2);
    assert.match(String(stats.last_contact), /^\d+(\.\d+)?(ms|s)$/);
    const snap = await admin(leader, 'POST', '/admin/cluster/raft/snapshot');
    assert.equal(snap.status, 200);
    const s = (await snap.json()) as Record<string, number | boolean | string>;
    assert.equal(s.success, true);
    assert.ok((s.snapshot_index as number) >= 1 && (s.snapshot_term as number) >= 1 && (s.size_bytes as number) > 0);
    assert.ok(Date.parse(String(s.created_at)) > 0);
    const config = await (await admin(follower, 'GET', '/admin/config')).text();
    assert.ok(!config.includes(SECRET) && !config.includes(ADMIN_TOKEN), 'no secret in /admin/config');
    assert.equal((JSON.parse(config) as { cluster: { node_id: string } }).cluster.node_id, follower.name);
  } finally {
    for (const s of clients) s.destroy();
  }
});
