// `bleepstore cluster …` run as a child process (the CLI an operator types), and membership
// steps built on it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { until, type ClusterNodeProc, type S3Cluster } from './s3-cluster.ts';

const BIN = path.resolve(import.meta.dirname, '../../../bin/bleepstore');

export function clusterCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, 'cluster', ...args], { timeout: 60_000 }, (e, out, err) =>
      resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }),
    ),
  );
}

export interface Membership {
  id: string;
  learner?: boolean;
}

/** The members as the current leader lists them (`cluster nodes --json`), or [] if none answers. */
export async function members(c: S3Cluster, fallback: ClusterNodeProc): Promise<Membership[]> {
  const r = await clusterCli(['nodes', '--json', '--config', (await c.leader())?.config ?? fallback.config]);
  return r.code === 0 ? ((JSON.parse(r.out) as { nodes: Membership[] }).nodes ?? []) : [];
}

/** Runs `bleepstore cluster <args>` against the leader's admin port, again (bounded) if the
 *  leader changed under it (a follower answers 503 naming the leader). */
export async function onLeader(c: S3Cluster, args: string[]): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    const leader = await c.waitLeader(60_000);
    const r = await clusterCli([...args, '--config', leader.config]);
    if (r.code === 0) return;
    if (Date.now() > end) {
      // What the leader said about itself: where its admin API listens, and whether it still runs.
      const p = leader.proc;
      const listening = p?.logs.find((e) => e.msg === 'listening');
      throw new Error(
        `cluster ${args.join(' ')}: ${r.err} (leader ${leader.name}: admin_url ${String(listening?.admin_url)}, ` +
          `running ${p?.alive() ?? false}, troubles ${JSON.stringify(p?.troubles() ?? [])})`,
      );
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** `cluster add` on the leader, then waits (bounded) until the new node is a voter. */
export async function addAndPromote(c: S3Cluster, n: ClusterNodeProc): Promise<void> {
  await onLeader(c, ['add', n.name, `127.0.0.1:${n.clusterPort}`]);
  const fallback = await c.waitLeader(60_000);
  const voter = await until(
    async () => (await members(c, fallback)).some((m) => m.id === n.name && !m.learner),
    60_000,
  );
  if (!voter) throw new Error(`${n.name} was not promoted to voter: ${JSON.stringify(await members(c, fallback))}`);
}
