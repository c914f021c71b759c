// Partitions of a bin/bleepstore cluster under concurrent S3 writes, through a fault-injecting
// TCP proxy on every node-to-node link (Raft, blob pushes and forwarding lookups alike): an
// isolated leader, a follower cut off, a one-way cut from the leader, slow links. After each
// heal every acknowledged write is read back from every node; at the end the checker also
// compares every node's metadata export at the same applied index.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { S3Cluster } from './helpers/s3-cluster.ts';
import { partitionFaults } from './helpers/partition-faults.ts';
import { Workload } from './helpers/workload.ts';
import { assertVerdict, checkReads, verifyAndStop } from './helpers/checker.ts';

const BUCKET = 'partition-bucket';
const FAULT_MS = Number(process.env.CLUSTER_FAULT_MS ?? 2500);
const NODES = Number(process.env.CLUSTER_NODES ?? 3);

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

test('an isolated leader, a cut-off follower, a one-way cut and slow links lose no acknowledged write', {
  timeout: 300_000,
}, async () => {
  // Compaction every 200 entries: a node cut off for long catches up by snapshot.
  cluster = await S3Cluster.create(NODES, {
    proxied: true,
    clusterYaml: '  snapshot_interval: 200\n  snapshot_threshold: 50\n',
  });
  const c = cluster;
  await c.startAll();
  const first = await c.waitStable();
  await c.client(first).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const w = new Workload(c, BUCKET);
  w.start(6);
  const faults: Array<[string, () => Promise<void>]> = [
    ...partitionFaults(c),
    [
      'slow links (80 ms each way)',
      async () => {
        for (const p of c.links.values()) p.set({ kind: 'delay', ms: 80 });
      },
    ],
  ];
  const lines: string[] = [];
  let checked = 0;
  try {
    for (const [name, inject] of faults) {
      const before = w.ackedWrites;
      await inject();
      await new Promise((r) => setTimeout(r, FAULT_MS));
      c.healAll();
      await w.pause(); // a read check needs writes to stand still (reads are local)
      await c.waitStable(30_000);
      await c.waitConverged(30_000);
      const r = await checkReads(c, BUCKET, w);
      w.resume();
      checked += r.checked;
      lines.push(
        `${name}: acked during fault+heal ${w.ackedWrites - before}, lost ${r.lost.length}, deletes back ${r.resurrected.length}`,
      );
      assert.deepEqual(r.lost, [], `after "${name}": acknowledged writes lost`);
      assert.deepEqual(r.resurrected, [], `after "${name}": acknowledged deletes came back`);
    }
  } finally {
    await w.stop();
  }
  const v = await verifyAndStop(c, BUCKET, w);
  console.log(
    `partitions: ${faults.length}\n  ${lines.join('\n  ')}\n  acknowledged writes: ${w.ackedWrites} (failed/unknown: ${w.failed}, ` +
      `${JSON.stringify(Object.fromEntries(w.errors))}), reads checked: ${checked + v.checked}, lost: ${v.lost.length}, ` +
      `applied index ${v.applied}, blobs missing per node: ${v.missing.join('/')}, orphaned: ${v.orphans.join('/')}`,
  );
  assertVerdict(v, NODES);
  assert.ok(w.ackedWrites > 50, `only ${w.ackedWrites} writes were acknowledged`);
});
