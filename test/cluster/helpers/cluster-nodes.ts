// Helpers for tests that run ClusterNode drivers in one process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { ClusterNode, type ClusterNodeOptions, type StateMachine } from '../../../lib/cluster/node.ts';
import type { Entry, NodeId } from '../../../lib/cluster/raft/index.ts';
import { FaultProxy } from '../../helpers/fault-proxy.ts';
import { deadPort } from '../../helpers/net.ts';

/** An in-memory list of applied strings; it restarts empty and replays from the Raft log. */
export class ListMachine implements StateMachine {
  items: string[] = [];
  at = 0;
  applied(): number {
    return this.at;
  }
  apply(e: Entry): unknown {
    this.items.push(Buffer.from(e.data).toString());
    this.at = e.index;
    return this.items.length;
  }
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify(this.items));
  }
  restore(data: Uint8Array, index: number): void {
    this.items = JSON.parse(Buffer.from(data).toString());
    this.at = index;
  }
}

export async function until<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A node's options on loopback with the tests' timings (heartbeat 50 ms, election 500 ms);
 *  `o` gives the rest and may override those. */
export function loopbackNode(
  o: Omit<ClusterNodeOptions, 'host' | 'heartbeatIntervalMs' | 'electionTimeoutMs'> &
    Partial<Pick<ClusterNodeOptions, 'heartbeatIntervalMs' | 'electionTimeoutMs'>>,
): ClusterNodeOptions {
  return { host: '127.0.0.1', heartbeatIntervalMs: 50, electionTimeoutMs: 500, ...o };
}

/** Nodes on loopback (one per machine), each link behind a FaultProxy of its own (`proxies`
 *  by "from>to"), once they elected a leader that every node follows; stopped and removed
 *  after the test file. */
export async function startProxiedCluster(
  name: string,
  machines: Map<NodeId, StateMachine>,
): Promise<{ leader: ClusterNode; nodes: ClusterNode[]; proxies: Map<string, FaultProxy>; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), `bleepstore-${name}-`));
  const nodes: ClusterNode[] = [];
  const proxies = new Map<string, FaultProxy>();
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const p of proxies.values()) await p.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ids = [...machines.keys()];
  const ports = new Map<NodeId, number>();
  for (const id of ids) ports.set(id, await deadPort());
  for (const from of ids)
    for (const to of ids) if (from !== to) proxies.set(`${from}>${to}`, await new FaultProxy(ports.get(to)!).listen());
  for (const id of ids)
    nodes.push(
      await ClusterNode.start(
        loopbackNode({
          id,
          voters: ids,
          peers: new Map(
            ids.filter((p) => p !== id).map((p) => [p, `127.0.0.1:${proxies.get(`${id}>${p}`)!.port}`] as const),
          ),
          storagePath: path.join(dir, `raft-${id}.db`),
          port: ports.get(id)!,
          secret: `${name}-secret-0123456789abcdef`,
          stateMachine: machines.get(id)!,
          electionTimeoutMs: 1000,
          timeoutMs: 10_000,
        }),
      ),
    );
  const leader = await until('a leader', () => {
    const l = nodes.filter((n) => n.status().role === 'leader');
    return l.length === 1 && nodes.every((n) => n.status().leader === l[0]!.id) ? l[0] : undefined;
  });
  return { leader, nodes, proxies, dir };
}
