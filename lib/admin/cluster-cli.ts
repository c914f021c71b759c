// `bleepstore cluster status|nodes|add|remove|leader`: asks a running node's admin API
// (server.admin_port, bearer server.admin_token) how the cluster looks from there, or has the
// leader change its membership or hand its leadership over.
import type { ProcessHooks } from '../process-hooks.ts';
import { AdminError, adminConfig, parseFlags, runAdmin, STORE_OPTIONS, STORE_USAGE } from './open-store.ts';
import { ADMIN_OPTIONS, ADMIN_USAGE, adminApi, adminBase, adminToken } from './admin-client.ts';

const USAGE = `Usage: bleepstore cluster status|nodes|add <id> <addr>|remove <id>|leader [<id>] [options]

status   this node's role, the leader, term, commit and applied index, and every member
nodes    every member: id, cluster address, state, healthy (as the leader sees them)
add      adds a node (started with cluster.join: true) at its cluster address host:port; it
         joins as a learner and is promoted to voter once it has caught up (ask the leader)
remove   removes a node from the cluster (removing the leader hands its leadership over first)
leader   hands leadership to the voter <id> (else to the most caught-up other voter) and
         prints the new leader: before a planned restart of the leader, no election timeout

Options:
${STORE_USAGE}
${ADMIN_USAGE}
  --json              print the JSON the admin API answered`;

interface Member {
  id: string;
  addr: string;
  state: string;
  healthy: boolean;
  learner?: boolean;
}

export async function run(argv: string[], hooks: ProcessHooks): Promise<void> {
  await runAdmin('cluster', hooks, [], async () => {
    const { values, positionals } = parseFlags({
      args: argv,
      options: {
        ...STORE_OPTIONS,
        ...ADMIN_OPTIONS,
        json: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) return console.log(USAGE);
    const what = positionals[0];
    const arity = { status: [1], nodes: [1], add: [3], remove: [2], leader: [1, 2] }[what ?? ''];
    if (!arity?.includes(positionals.length))
      throw new AdminError(
        'say "bleepstore cluster status", "nodes", "add <id> <host:port>", "remove <id>" or "leader [<id>]" (see --help)',
        2,
      );
    const config = adminConfig(values);
    const base = adminBase(config, values);
    if (!base) throw new AdminError('server.admin_port is not set in the config: pass --admin-url or set it', 2);
    const api = adminApi(base, adminToken(config, values));
    const body =
      what === 'add'
        ? await api.call('POST', '/admin/cluster/nodes', { id: positionals[1], addr: positionals[2] })
        : what === 'remove'
          ? await api.call('DELETE', `/admin/cluster/nodes/${encodeURIComponent(positionals[1]!)}`)
          : what === 'leader'
            ? await api.call('POST', '/admin/cluster/leader', positionals[1] ? { id: positionals[1] } : {})
            : await api.call('GET', `/admin/cluster/${what}`, undefined, 5000);
    if (what === 'add') return console.log(`node ${positionals[1]} added as a learner; promoted once caught up`);
    if (what === 'remove') return console.log(`node ${positionals[1]} removed`);
    if (what === 'leader') return console.log(`leader: ${body.leader_id} (term ${body.term})`);
    if (values.json) return console.log(JSON.stringify(body, null, 2));
    if (what === 'status')
      console.log(
        `node ${body.node_id}: ${body.state}, leader ${body.leader_id || '(none)'}, term ${body.term}, ` +
          `commit ${body.commit_index}, applied ${body.applied_index}, ${body.healthy ? 'healthy' : 'NO LEADER'}`,
      );
    for (const m of body.nodes as Member[])
      console.log(
        `${m.id.padEnd(16)} ${m.addr.padEnd(24)} ${(m.learner ? 'learner' : m.state).padEnd(9)} ${m.healthy ? 'healthy' : 'unreachable'}`,
      );
  });
}
