// What `cluster.read_consistency` promises, checked on histories of real bin/bleepstore
// processes: with `linearizable` every read from any node, through partitions of the leader
// and of a follower, one-way cuts and kill -9 of the leader and of a follower, is one a single
// copy of the data could have given (register-check.ts); with `local` (the default) a follower
// cut off from the leader answers from its own replica, and the same check finds those reads
// stale, which shows the check can fail.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { S3Cluster, type ClusterNodeProc, until } from './helpers/s3-cluster.ts';
import { RegisterWorkload } from './helpers/register-workload.ts';
import { partitionFaults } from './helpers/partition-faults.ts';
import { checkRegisters } from './helpers/register-check.ts';

const BUCKET = 'register-bucket';
const FAULT_MS = Number(process.env.CLUSTER_FAULT_MS ?? 3000);
const NODES = Number(process.env.CLUSTER_NODES ?? 3);

let cluster: S3Cluster | undefined;
afterEach(() => cluster?.stop());

function summary(w: RegisterWorkload): string {
  const perNode = new Map<string, number>();
  for (const r of w.reads) perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
  return (
    `writes acknowledged ${w.acked}, unknown outcome ${w.writes.length - w.acked}; reads checked ${w.reads.length} ` +
    `(${[...perNode].map(([n, c]) => `${n} ${c}`).join(', ')}), reads without a value ` +
    `${JSON.stringify(Object.fromEntries(w.readErrors))}`
  );
}

test('linearizable reads from every node stay linearizable through partitions and kill -9 of the leader and a follower', {
  timeout: 300_000,
}, async () => {
  cluster = await S3Cluster.create(NODES, { proxied: true, clusterYaml: '  read_consistency: linearizable\n' });
  const c = cluster;
  await c.startAll();
  await c.client(await c.waitStable()).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const w = new RegisterWorkload(c, BUCKET);
  // Three readers per node, so a node that holds its reads (it cannot confirm it is current)
  // does not starve the others of readers.
  w.start(4, 3 * NODES, (i) => (c.nodes[i % NODES]!.proc ? c.nodes[i % NODES] : undefined));
  const follower = async () => {
    const l = await c.waitStable(30_000);
    return c.nodes.find((n) => n !== l)!;
  };
  const restartAfter = (n: ClusterNodeProc) => async () => {
    await new Promise((r) => setTimeout(r, FAULT_MS));
    await c.start(n);
  };
  const faults: Array<[string, () => Promise<(() => Promise<void>) | void>]> = [
    ...partitionFaults(c, 30_000),
    [
      'kill -9 of the leader',
      async () => {
        const l = await c.waitStable(30_000);
        await c.kill9(l);
        return restartAfter(l);
      },
    ],
    [
      'kill -9 of a follower',
      async () => {
        const f = await follower();
        await c.kill9(f);
        return restartAfter(f);
      },
    ],
  ];
  const lines: string[] = [];
  try {
    for (const [name, inject] of faults) {
      const before = { acked: w.acked, reads: w.reads.length };
      const heal = await inject();
      if (heal) await heal();
      else await new Promise((r) => setTimeout(r, FAULT_MS));
      c.healAll();
      await c.waitStable(30_000);
      lines.push(`${name}: writes acknowledged ${w.acked - before.acked}, reads ${w.reads.length - before.reads}`);
    }
  } finally {
    await w.stop();
  }
  await c.waitStable(30_000);
  await c.waitConverged(30_000);
  await w.readAll();
  const bad = checkRegisters(w.writes, w.reads);
  console.log(
    `linearizable reads: faults ${faults.length}\n  ${lines.join('\n  ')}\n  ${summary(w)}; violations ${bad.length}`,
  );
  assert.deepEqual(bad.slice(0, 5), [], 'reads with no linearization');
  assert.ok(w.acked > 50, `only ${w.acked} writes were acknowledged`);
  assert.ok(w.reads.length > 200, `only ${w.reads.length} reads were answered`);
});

test('local reads from a cut-off follower are stale, and the register check finds them (the check can fail)', {
  timeout: 120_000,
}, async () => {
  cluster = await S3Cluster.create(3, { proxied: true });
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  await c.client(leader).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const cutOff = c.nodes.find((n) => n !== leader)!;
  let readFrom: ClusterNodeProc = leader;
  const w = new RegisterWorkload(c, BUCKET);
  // Writes go through the leader; reads come from the leader until the cut, then from the
  // cut-off follower alone, until writes it cannot have seen were acknowledged.
  w.start(
    2,
    2,
    () => readFrom,
    () => leader,
  );
  await new Promise((r) => setTimeout(r, 1000));
  c.cut(cutOff, { kind: 'drop' });
  readFrom = cutOff;
  const cutAt = performance.now();
  const ackedAfterCut = () => w.writes.filter((x) => x.acked && x.start > cutAt).length;
  await until(() => ackedAfterCut() >= 20 && performance.now() - cutAt > 1000, 30_000);
  await w.stop();
  c.healAll();
  const bad = checkRegisters(w.writes, w.reads);
  const stale = bad.filter((v) => v.kind === 'stale');
  console.log(`local reads from a cut-off follower: ${summary(w)}; stale reads found ${stale.length}`);
  assert.ok(stale.length > 0, 'the check found no stale read from a follower cut off from every write');
  assert.deepEqual(
    bad.filter((v) => v.kind !== 'stale' && v.kind !== 'non-monotonic'),
    [],
    'only stale (and so non-monotonic) reads',
  );
});
