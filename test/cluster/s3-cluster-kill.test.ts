// kill -9 of the leader of a bin/bleepstore cluster under concurrent S3 writes, again and
// again, each time restarted. Then the checker: every acknowledged PUT readable from every
// node with its exact bytes and ETag, no acknowledged DELETE back, and every node's
// metadata export identical at the same applied index.
// CLUSTER_NODES / CLUSTER_KILLS / CLUSTER_WRITERS make it longer (npm run test:cluster-soak).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { S3Cluster } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';
import { assertVerdict, verifyAndStop } from './helpers/checker.ts';

const NODES = Number(process.env.CLUSTER_NODES ?? 3);
const KILLS = Number(process.env.CLUSTER_KILLS ?? 20);
const WRITERS = Number(process.env.CLUSTER_WRITERS ?? 6);
const BUCKET = 'kill-bucket';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

test(`${KILLS} kill -9s of the leader of a ${NODES}-node cluster under concurrent writes lose no acknowledged write`, {
  timeout: 600_000,
}, async () => {
  // Compaction every 200 entries: kills land before, during and after it.
  cluster = await S3Cluster.create(NODES, { clusterYaml: '  snapshot_interval: 200\n  snapshot_threshold: 50\n' });
  const c = cluster;
  await c.startAll();
  let leader = await c.waitStable();
  await c.client(leader).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const w = new Workload(c, BUCKET);
  w.start(WRITERS);
  const failovers: number[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 300));
      leader = await c.waitStable();
      const t0 = performance.now();
      await c.kill9(leader);
      // Failover: the kill until a surviving node reports itself leader.
      for (;;) {
        const l = await c.leader();
        if (l) break;
        assert.ok(performance.now() - t0 < 30_000, 'no new leader within 30 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      failovers.push(performance.now() - t0);
      await c.start(leader);
    }
  } finally {
    await w.stop();
  }
  const v = await verifyAndStop(c, BUCKET, w);
  console.log(
    `kills: ${KILLS}, acknowledged writes: ${w.ackedWrites} (failed/unknown: ${w.failed}), ` +
      `errors: ${JSON.stringify(Object.fromEntries(w.errors))}, reads checked: ${v.checked} (${w.live.size} keys x ${NODES} nodes), deletes checked: ${w.deleted.size}, ` +
      `lost: ${v.lost.length}, resurrected: ${v.resurrected.length}, ` +
      `failover median ${Math.round(median(failovers))} ms, max ${Math.round(Math.max(...failovers))} ms, ` +
      `applied index ${v.applied}, blobs missing per node: ${v.missing.join('/')}, orphaned: ${v.orphans.join('/')}`,
  );
  const odd = [...w.firstMessage].filter(([name]) => name !== 'ServiceUnavailable');
  if (odd.length) console.log(`  first message of each other error: ${JSON.stringify(Object.fromEntries(odd))}`);
  assertVerdict(v, NODES);
  assert.ok(w.ackedWrites > KILLS * 5, `only ${w.ackedWrites} writes were acknowledged`);
});
