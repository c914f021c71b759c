// A leader applies (and so answers) a committed batch before it saves the next one: the
// answers do not wait for the next batch's fsync (lib/cluster/ready-order.ts appliesDurable). Seen
// from inside the leader's state machine: at some apply the Raft log on disk is behind the log
// in memory, and never behind what is applied. Every write is still applied once, in the same
// order, on every node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ClusterNode } from '../../lib/cluster/node.ts';
import type { Entry, NodeId } from '../../lib/cluster/raft/index.ts';
import { ListMachine, startProxiedCluster, until } from './helpers/cluster-nodes.ts';

const ids: NodeId[] = [1, 2, 3];

/** Notes, at each apply, the last index in the node's memory and in its Raft log on disk. */
class WatchingMachine extends ListMachine {
  seen: Array<{ index: number; inMemory: number; onDisk: number }> = [];
  watch: { node: ClusterNode; log: DatabaseSync } | undefined;
  override apply(e: Entry): unknown {
    if (this.watch) {
      const disk = this.watch.log.prepare('SELECT MAX(idx) AS m FROM raft_entries').get() as { m: number };
      this.seen.push({ index: e.index, inMemory: this.watch.node.status().lastIndex, onDisk: Number(disk.m) });
    }
    return super.apply(e);
  }
}

test('a leader answers a committed batch before it saves the next one, and every write commits in order everywhere', async () => {
  const machines = new Map<NodeId, WatchingMachine>(ids.map((id) => [id, new WatchingMachine()]));
  const { leader, proxies, dir } = await startProxiedCluster('apply-order', machines);
  await leader.propose(Buffer.from('warm-up'));

  // Appends take 20 ms to arrive, so new proposals wait while the last batch commits.
  for (const f of ids.filter((id) => id !== leader.id))
    proxies.get(`${leader.id}>${f}`)!.set({ kind: 'delay', ms: 20 });
  const log = new DatabaseSync(path.join(dir, `raft-${leader.id}.db`), { readOnly: true });
  const sm = machines.get(leader.id)!;
  sm.watch = { node: leader, log };
  // A steady stream of writes, one every millisecond or so: while both followers have appends
  // in flight the newest are held, and leave with the next acknowledgement, so one Ready both
  // commits a batch and appends the next.
  const writes: Array<Promise<unknown>> = [];
  const end = Date.now() + 300;
  while (Date.now() < end) {
    writes.push(leader.propose(Buffer.from(`w${writes.length}`)));
    await new Promise((r) => setTimeout(r, 1));
  }
  const done = writes.map((_, i) => `w${i}`);
  const results = (await Promise.all(writes)) as number[];
  assert.deepEqual(
    results,
    done.map((_, i) => i + 2),
  );
  sm.watch = undefined;
  log.close();
  const ahead = sm.seen.filter((s) => s.onDisk < s.inMemory);
  console.log(
    `# ${done.length} writes, ${sm.seen.length} applies on the leader, ${ahead.length} before the next batch was on disk`,
  );
  assert.ok(ahead.length > 0, 'every apply waited for the next batch to be saved');
  // What is applied was on disk before: the apply never runs ahead of the leader's own log.
  for (const s of sm.seen) assert.ok(s.index <= s.onDisk, `entry ${s.index} applied with the log at ${s.onDisk}`);
  await until('every node applied every write', () =>
    ids.every((id) => machines.get(id)!.items.length === done.length + 1),
  );
  const order = machines.get(leader.id)!.items;
  assert.deepEqual(new Set(order), new Set(['warm-up', ...done]));
  for (const id of ids) assert.deepEqual(machines.get(id)!.items, order);
});
