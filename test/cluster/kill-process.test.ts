// Three ClusterNode processes (real HTTP transport, SQLite Raft log and state machine) under
// concurrent writes; the leader is killed with SIGKILL again and again and restarted. Every
// acknowledged write must then be on every node with its exact value.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { raftId } from '../../lib/cluster/config.ts';
import type { Member } from '../../lib/cluster/node.ts';
import type { NodeId } from '../../lib/cluster/raft/index.ts';
import { deadPort } from '../helpers/net.ts';
import { until } from './helpers/cluster-nodes.ts';

const KILLS = Number(process.env.CLUSTER_KILLS ?? 20);
const WRITERS = 4;
const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-raft-kill-'));
const script = path.join(import.meta.dirname, 'helpers', 'raft-process.ts');
const procs = new Map<NodeId, ChildProcess>();
after(() => {
  for (const p of procs.values()) p.kill('SIGKILL');
});

interface Status {
  role: string;
  leader: number;
  applied: number;
  commit: number;
}

test(`${KILLS} SIGKILLs of the leader under concurrent writes lose no acknowledged write`, {
  timeout: 120_000,
}, async () => {
  const names = ['k1', 'k2', 'k3'];
  const directory = new Map<NodeId, Member>();
  const control = new Map<NodeId, number>();
  for (const n of names) {
    directory.set(raftId(n), { name: n, addr: `127.0.0.1:${await deadPort()}` });
    control.set(raftId(n), await deadPort());
  }
  const ids = [...directory.keys()];

  async function startProc(id: NodeId): Promise<void> {
    const env = {
      ...process.env,
      RAFT_PROCESS: JSON.stringify({
        id,
        dir: path.join(dir, String(id)),
        port: Number(directory.get(id)!.addr.split(':')[1]),
        controlPort: control.get(id),
        secret: 'kill-test-secret-0123456789abcdef',
        directory: [...directory],
      }),
    };
    const p = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    procs.set(id, p);
    await new Promise<void>((resolve, reject) => {
      p.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      p.once('exit', (code) => reject(new Error(`node ${id} exited with ${code} before ready`)));
    });
  }
  async function get<T>(id: NodeId, p: string): Promise<T | undefined> {
    try {
      const r = await fetch(`http://127.0.0.1:${control.get(id)}${p}`, { signal: AbortSignal.timeout(2000) });
      return (await r.json()) as T;
    } catch {
      return undefined;
    }
  }
  let leader: NodeId = 0;
  async function findLeader(exclude?: NodeId): Promise<NodeId | undefined> {
    for (const id of ids) {
      if (id === exclude || !procs.has(id)) continue;
      const s = await get<Status>(id, '/status');
      if (s?.role === 'leader') return id;
    }
    return undefined;
  }

  await Promise.all(ids.map(startProc));
  leader = await (async () => {
    for (;;) {
      const l = await findLeader();
      if (l) return l;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const acked = new Map<string, string>();
  let stop = false;
  let seq = 0;
  let lastAck = 0;
  const writer = async (w: number): Promise<void> => {
    while (!stop) {
      const k = `w${w}-${seq++}`;
      const v = `${k}:${Math.random().toString(36).slice(2)}`;
      try {
        const r = await fetch(`http://127.0.0.1:${control.get(leader)}/propose`, {
          method: 'POST',
          body: JSON.stringify({ k, v }),
          signal: AbortSignal.timeout(4000),
        });
        if (r.status === 200) {
          acked.set(k, v);
          lastAck = Date.now();
        } else {
          const b = (await r.json()) as { leader: number };
          if (b.leader && procs.has(b.leader)) leader = b.leader;
          else await new Promise((res) => setTimeout(res, 20));
        }
      } catch {
        await new Promise((res) => setTimeout(res, 20));
        const l = await findLeader();
        if (l) leader = l;
      }
    }
  };
  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

  const failovers: number[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    await new Promise((r) => setTimeout(r, 300));
    const victim = leader;
    const before = acked.size;
    const t0 = Date.now();
    procs.get(victim)!.kill('SIGKILL');
    await new Promise((r) => procs.get(victim)!.once('exit', r));
    procs.delete(victim);
    // Failover: the next acknowledged write after the kill, through a new leader.
    await until(
      'a write acknowledged by a new leader',
      () => lastAck > t0 && leader !== victim && acked.size > before,
      15_000,
    );
    failovers.push(lastAck - t0);
    await startProc(victim);
  }
  stop = true;
  await Promise.all(writers);

  // Everyone converges to the same applied state; then every acknowledged write is checked.
  const finalCommit = Math.max(
    ...(await Promise.all(ids.map((id) => get<Status>(id, '/status')))).map((s) => s?.commit ?? 0),
  );
  const end = Date.now() + 20_000;
  for (;;) {
    const st = await Promise.all(ids.map((id) => get<Status>(id, '/status')));
    if (st.every((s) => s && s.applied >= finalCommit)) break;
    if (Date.now() > end) throw new Error(`nodes did not converge: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let lost = 0;
  let checked = 0;
  for (const id of ids) {
    const dump = (await get<{ rows: Array<{ k: string; v: string }> }>(id, '/dump'))!;
    const have = new Map(dump.rows.map((r) => [r.k, r.v]));
    for (const [k, v] of acked) {
      checked++;
      if (have.get(k) !== v) lost++;
    }
  }
  failovers.sort((a, b) => a - b);
  const median = failovers[Math.floor(failovers.length / 2)]!;
  console.log(
    `# kills: ${KILLS}, acknowledged writes: ${acked.size}, checked (× 3 nodes): ${checked}, lost: ${lost}, failover median ${median} ms, max ${failovers.at(-1)} ms`,
  );
  assert.ok(acked.size > KILLS * 10, `enough writes were acknowledged (${acked.size})`);
  assert.equal(lost, 0);
});
