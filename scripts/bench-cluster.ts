// Cluster cost (issue #13), not a timed test: one single-node bin/bleepstore and a 3-node
// cluster of bin/bleepstore processes on this machine, all with the same storage settings,
// measured in the same `bleepstore bench` run (interleaved): PUT and GET of 1 KiB and 64 KiB
// at 16 in flight against the single node, the cluster's leader and one follower. Prints the
// medians over ROUNDS runs and each endpoint's ratio to the single node. A cluster endpoint's
// "server CPU/op" is the CPU of all three nodes per operation.
//   npm run bench:cluster                  (DURATION=5 ROUNDS=1 for a quicker run)
//   PROFILE=/tmp/prof npm run bench:cluster (every server writes a --cpu-prof file there)
//   SERVER_BIN=/other/checkout/bin/bleepstore npm run bench:cluster (A/B: servers from there)
//   INLINE_MAX=1024 npm run bench:cluster   (storage.inline_max_bytes on every server)
//   KEEP=1 npm run bench:cluster            (keep the servers' logs and data directories)
//   SERVER_NODE_ARGS='--trace-deopt' npm run bench:cluster (node flags for every server)
//   CONCURRENCY=64 npm run bench:cluster   (requests in flight; default 16)
//   ENDPOINTS=leader npm run bench:cluster  (cluster endpoints to measure; default leader,follower)
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { procCpuUs } from '../lib/bench/cpu.ts';
import { deadPort } from '../test/helpers/net.ts';

const DURATION = Number(process.env.DURATION ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
/** Requests in flight per workload (the issue's figures are at 16); names end in -c<n>. */
const CONCURRENCY = process.env.CONCURRENCY ?? '16';
const WORKLOADS =
  process.env.WORKLOADS ??
  ['put-1KiB', 'put-64KiB', 'get-1KiB', 'get-64KiB'].map((w) => `${w}-c${CONCURRENCY}`).join(',');
const PROFILE = process.env.PROFILE;
const ENDPOINTS = (process.env.ENDPOINTS ?? 'leader,follower').split(',');
/** storage.inline_max_bytes for every server (default: the product's, 64 KiB). */
const INLINE_MAX = process.env.INLINE_MAX;
const BIN = fileURLToPath(new URL('../bin/bleepstore', import.meta.url));
const SERVER_BIN = process.env.SERVER_BIN ?? BIN;
const MEDIAN = fileURLToPath(new URL('./bench-median.ts', import.meta.url));
const SECRET = 'bench-cluster-secret-0123456789';

interface Server {
  name: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts bin/bleepstore with `config` (its log lines go to `log`, a file: a pipe would make
 *  this process read every access-log line on the cores the servers need); resolves once
 *  /health answers. */
async function startServer(name: string, config: string, url: string, log: string): Promise<Server> {
  const prof = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const out = openSync(log, 'a');
  const extra = process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...prof, ...extra, SERVER_BIN, '--config', config], {
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  for (let t = 0; ; t++) {
    if (gone) throw new Error(`${name} exited before it was ready (log: ${log})`);
    if (t > 300) throw new Error(`${name} did not answer /health in 30 s (log: ${log})`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    pid: proc.pid!,
    url,
    // SIGTERM: a clean exit, so --cpu-prof writes its file.
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

async function run(cmd: string[]): Promise<number> {
  const p = spawn(process.execPath, cmd, { stdio: 'inherit' });
  return new Promise((resolve) => p.once('exit', (code) => resolve(code ?? 1)));
}

async function health(url: string): Promise<{ role?: string; ready?: boolean }> {
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return ((await r.json()) as { cluster?: { role: string; ready: boolean } }).cluster ?? {};
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-bench-cluster-'));
  if (PROFILE) mkdirSync(PROFILE, { recursive: true });
  const servers: Server[] = [];
  try {
    const inline = INLINE_MAX ? `  inline_max_bytes: ${INLINE_MAX}\n` : '';
    const storage = (d: string) =>
      `storage:\n  backend: local\n${inline}  local:\n    root_dir: ${path.join(d, 'objects')}\n`;
    const single = path.join(dir, 'single.yaml');
    const port = await deadPort();
    writeFileSync(
      single,
      `data_dir: ${path.join(dir, 'single')}\nserver:\n  host: 127.0.0.1\n  port: ${port}\n${storage(path.join(dir, 'single'))}`,
    );
    const nodes = [];
    for (let i = 1; i <= 3; i++) nodes.push({ name: `n${i}`, s3: await deadPort(), raft: await deadPort() });
    const peers = nodes.map((n) => `    - id: ${n.name}\n      addr: 127.0.0.1:${n.raft}`).join('\n');
    const configs = nodes.map((n) => {
      const d = path.join(dir, n.name);
      const file = path.join(dir, `${n.name}.yaml`);
      writeFileSync(
        file,
        `data_dir: ${d}\nserver:\n  host: 127.0.0.1\n  port: ${n.s3}\n${storage(d)}` +
          `cluster:\n  enabled: true\n  node_id: ${n.name}\n  bind_addr: 127.0.0.1:${n.raft}\n  secret: ${SECRET}\n  peers:\n${peers}\n`,
      );
      return file;
    });
    servers.push(await startServer('single', single, `http://127.0.0.1:${port}`, path.join(dir, 'single.log')));
    servers.push(
      ...(await Promise.all(
        nodes.map((n, i) =>
          startServer(n.name, configs[i]!, `http://127.0.0.1:${n.s3}`, path.join(dir, `${n.name}.log`)),
        ),
      )),
    );
    const cluster = servers.slice(1);
    let leader: Server | undefined;
    for (let t = 0; t < 300 && !leader; t++) {
      const hs = await Promise.all(cluster.map((s) => health(s.url)));
      if (hs.every((h) => h.ready)) leader = cluster.find((_, i) => hs[i]!.role === 'leader');
      if (!leader) await new Promise((r) => setTimeout(r, 100));
    }
    if (!leader) throw new Error('the cluster elected no leader in 30 s');
    const follower = cluster.find((s) => s !== leader)!;
    console.error(
      `single ${servers[0]!.url}, leader ${leader.name} ${leader.url}, follower ${follower.name} ${follower.url}`,
    );
    const rounds: string[] = [];
    const cpu0 = servers.map((s) => procCpuUs(s.pid) ?? 0);
    for (let r = 1; r <= ROUNDS; r++) {
      const out = path.join(dir, `round${r}`);
      const code = await run([
        BIN,
        'bench',
        '--endpoint',
        `single=${servers[0]!.url}`,
        '--compare',
        ...(ENDPOINTS.includes('leader') ? [`cluster-leader=${leader.url}`] : []),
        ...(ENDPOINTS.includes('follower') ? [`cluster-follower=${follower.url}`] : []),
        '--workloads',
        WORKLOADS,
        '--sizes',
        '1KiB,64KiB',
        '--concurrency',
        CONCURRENCY,
        '--duration',
        String(DURATION),
        '--server-pid',
        String(servers[0]!.pid),
        // The cluster's CPU per operation is all three nodes' (RSS is the endpoint's own).
        ...[leader, follower].flatMap((first) =>
          ENDPOINTS.includes(first === leader ? 'leader' : 'follower')
            ? ['--server-pid', [first, ...cluster.filter((s) => s !== first)].map((s) => s.pid).join('+')]
            : [],
        ),
        '--out',
        out,
      ]);
      if (code !== 0) process.exitCode = code;
      rounds.push(out);
    }
    // Which node pays for the cluster's work (all rounds and workloads together).
    const spent = servers.map(
      (s, i) =>
        `${s.name}${s === leader ? ' (leader)' : ''} ${(((procCpuUs(s.pid) ?? 0) - cpu0[i]!) / 1e6).toFixed(1)} s`,
    );
    console.log(`\nCPU time of each server over the whole run: ${spent.join(', ')}`);
    console.log(`\nMedians of ${ROUNDS} round(s), ${DURATION} s per workload; ratios are to the single node:\n`);
    await run([MEDIAN, ...rounds]);
    const order = (first: Server) => [first, ...cluster.filter((s) => s !== first)].map((s) => s.name);
    printPerNode(rounds, { 'cluster-leader': order(leader), 'cluster-follower': order(follower) });
  } finally {
    for (const s of servers) await s.stop();
    if (process.env.KEEP) console.log(`kept ${dir} (servers' logs and data)`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

interface Row {
  workload: string;
  serverCpuUsPerOp?: number;
  serverCpuUsPerOpEach?: number[];
}

const median = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

/**
 * Each node's CPU per operation (medians over rounds), and what it implies where each
 * process has a core of its own and the client runs elsewhere: if CPU-bound, a cluster serves
 * at most single CPU/op ÷ the busiest node's CPU/op of one node's rate. Here three nodes and
 * the client share the cores, so the measured ratio is lower; this is the bound to check on
 * three machines.
 */
function printPerNode(rounds: string[], names: Record<string, string[]>): void {
  const reports = rounds.map(
    (r) =>
      JSON.parse(readFileSync(path.join(r, 'report.json'), 'utf8')) as {
        endpoints: Array<{ name: string; results: Row[] }>;
      },
  );
  const rowsOf = (endpoint: string, workload: string): Row[] =>
    reports.flatMap(
      (rep) => rep.endpoints.find((e) => e.name === endpoint)?.results.filter((r) => r.workload === workload) ?? [],
    );
  const workloads = [...new Set(reports.flatMap((rep) => rep.endpoints[0]?.results.map((r) => r.workload) ?? []))];
  console.log('\nCPU per operation of each node (medians), and the bound it implies with a core per node:');
  for (const w of workloads) {
    const single = median(
      rowsOf('single', w).flatMap((r) => (r.serverCpuUsPerOp === undefined ? [] : [r.serverCpuUsPerOp])),
    );
    for (const [endpoint, nodes] of Object.entries(names)) {
      const each = nodes.map((_, i) => median(rowsOf(endpoint, w).flatMap((r) => r.serverCpuUsPerOpEach?.[i] ?? [])));
      if (!each.length || each.some((x) => !Number.isFinite(x)) || !single) continue;
      const busiest = Math.max(...each);
      console.log(
        `  ${w} ${endpoint}: ${nodes.map((n, i) => `${n}${i === 0 ? '*' : ''} ${Math.round(each[i]!)} µs`).join(', ')}; ` +
          `single ${Math.round(single)} µs; bound ${(single / busiest).toFixed(2)}x`,
      );
    }
  }
  console.log('  (* the node the client talks to)');
}

await main();
