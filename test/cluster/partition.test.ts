// Three node drivers whose every link (i → j) goes through its own fault-injecting TCP proxy:
// an isolated leader, a one-way cut and slow links, with every acknowledged write checked on
// every node after the heal.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterNode, ClusterUnavailableError } from '../../lib/cluster/node.ts';
import type { NodeId } from '../../lib/cluster/raft/index.ts';
import { FaultProxy, type LinkMode } from '../helpers/fault-proxy.ts';
import { deadPort } from '../helpers/net.ts';
import { ListMachine, loopbackNode, until } from './helpers/cluster-nodes.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-partition-'));
const closers: Array<() => Promise<void>> = [];
after(() => Promise.all(closers.map((c) => c())));

test('an isolated leader, a one-way cut and slow links lose no acknowledged write and never apply a dropped one', {
  timeout: 60_000,
}, async () => {
  const ids: NodeId[] = [1, 2, 3];
  const ports = new Map<NodeId, number>();
  for (const id of ids) ports.set(id, await deadPort());
  const links = new Map<string, FaultProxy>();
  for (const i of ids)
    for (const j of ids)
      if (i !== j) {
        const p = await new FaultProxy(ports.get(j)!).listen();
        links.set(`${i}>${j}`, p);
        closers.push(() => p.close());
      }
  const machines = new Map<NodeId, ListMachine>();
  const nodes = await Promise.all(
    ids.map(async (id) => {
      const sm = new ListMachine();
      machines.set(id, sm);
      const peers = new Map(
        ids.filter((j) => j !== id).map((j) => [j, `127.0.0.1:${links.get(`${id}>${j}`)!.port}`] as const),
      );
      const n = await ClusterNode.start(
        loopbackNode({
          id,
          voters: ids,
          peers,
          storagePath: path.join(dir, `${id}.db`),
          port: ports.get(id)!,
          secret: 'partition-test-secret-0123456789',
          stateMachine: sm,
          timeoutMs: 3000,
        }),
      );
      closers.push(() => n.stop());
      return n;
    }),
  );
  const setLinks = (pred: (i: NodeId, j: NodeId) => boolean, mode: LinkMode) => {
    for (const [k, p] of links) {
      const [i, j] = k.split('>').map(Number) as [number, number];
      if (pred(i, j)) p.set(mode);
    }
  };
  const heal = () => setLinks(() => true, { kind: 'pass' });
  const leaderNow = () =>
    until(
      'one leader everyone follows',
      () => nodes.find((n) => n.status().role === 'leader' && nodes.every((m) => m.status().leader === n.id)),
      15_000,
    );
  const acked: string[] = [];
  const dropped: string[] = [];
  const write = async (n: ClusterNode, v: string) => {
    try {
      await n.propose(Buffer.from(v));
      acked.push(v);
    } catch (e) {
      assert.ok(e instanceof ClusterUnavailableError && e.retryable);
      if (e.outcome === 'dropped') dropped.push(v);
    }
  };

  let leader = await leaderNow();
  for (let i = 0; i < 10; i++) await write(leader, `a${i}`);

  // 1. The leader is cut off both ways: its own proposal is never acknowledged; the other two
  //    elect a leader and keep acknowledging.
  const old = leader;
  setLinks((i, j) => i === old.id || j === old.id, { kind: 'drop' });
  const stranded = write(old, 'stranded');
  const others = nodes.filter((n) => n !== old);
  const t0 = Date.now();
  const next = await until(
    'a leader among the majority',
    () => others.find((n) => n.status().role === 'leader'),
    15_000,
  );
  console.log(`# isolated leader replaced in ${Date.now() - t0} ms`);
  for (let i = 0; i < 10; i++) await write(next, `b${i}`);
  heal();
  await stranded;
  assert.ok(!acked.includes('stranded'), 'a leader without a quorum acknowledges nothing');
  // Once healed, the old leader learns its entry was overwritten: a definite "not applied".
  assert.deepEqual(dropped, ['stranded']);
  leader = await leaderNow();

  // 2. One-way cut: the leader can hear but not speak; the others take over.
  const mute = leader;
  setLinks((i) => i === mute.id, { kind: 'drop' });
  const replaced = await until(
    'a new leader after a one-way cut',
    () => nodes.find((n) => n !== mute && n.status().role === 'leader'),
    15_000,
  );
  for (let i = 0; i < 10; i++) await write(replaced, `c${i}`);
  heal();
  leader = await leaderNow();

  // 3. Slow links (120 ms each way): writes still commit.
  setLinks(() => true, { kind: 'delay', ms: 120 });
  for (let i = 0; i < 5; i++) await write(leader, `d${i}`);
  heal();

  // Converge, then check: every acknowledged write everywhere, in the same order; no dropped one anywhere.
  leader = await leaderNow();
  await write(leader, 'final');
  const target = leader.status().commit;
  await until('all applied', () => nodes.every((n) => n.status().applied >= target), 15_000);
  const ref = machines.get(leader.id)!.items;
  let lost = 0;
  for (const id of ids) {
    const items = machines.get(id)!.items;
    assert.deepEqual(items, ref, `node ${id} applied the same sequence`);
    for (const v of acked) if (!items.includes(v)) lost++;
    for (const v of dropped) assert.ok(!items.includes(v), `dropped ${v} was never applied`);
  }
  console.log(
    `# partitions: 3 (isolated leader, one-way, delay), acknowledged ${acked.length}, checked ${acked.length * 3}, lost ${lost}, dropped-and-absent ${dropped.length}`,
  );
  assert.equal(lost, 0);
  assert.ok(acked.length >= 35);
});
