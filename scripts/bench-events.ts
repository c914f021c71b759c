// The cost of events on the write path (issue #14), not a timed test: three real servers on
// one machine, the same 1 KiB PUT at 16 in flight against each in turn: no event target, a
// Redis target, a RabbitMQ target (real brokers from Debian). Rounds take turns none → redis →
// rabbitmq, so all three share each minute's background load; the medians are printed.
// Besides ops/s it reports where the CPU goes: the server's CPU per PUT during the run and
// including the outbox drain after it, and the broker's own CPU per event it received (its
// whole process group, from /proc), since on a small machine the broker competes for the cores.
//   npm run bench:events                  ROUNDS=3 DURATION=10 by default
//   PIN=1 npm run bench:events            brokers on CPU 0, servers on CPU 1 (taskset)
//   BASE=/path/to/checkout npm run bench:events   the same three servers of that checkout too,
//                                         interleaved with these (a same-run A/B of a change)
//   PROFILE=/tmp/prof npm run bench:events        --cpu-prof files in a directory per server (one per thread)
//   WORKER=1 npm run bench:events         also servers with events.dispatcher: worker (of BASE too)
//   TARGETS=rabbitmq npm run bench:events  only these targets (comma-separated) besides none
//   WARMUP=2                              seconds of uncounted load per server before round 1
// Every PUT's event must reach its broker and the outboxes must drain, or it fails.
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mainThreadCpuUs, procCpuUs } from '../lib/bench/cpu.ts';
import { type Broker, startRabbit, startRedis } from '../test/helpers/brokers.ts';
import { spawnServer, type ServerProcess } from '../test/helpers/process.ts';

const DURATION = Number(process.env.DURATION ?? 10);
const WARMUP = Number(process.env.WARMUP ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PIN = process.env.PIN === '1';
const BASE = process.env.BASE;
const WORKER = process.env.WORKER === '1';
const PROFILE = process.env.PROFILE;
const TARGETS = process.env.TARGETS?.split(',');
const BIN = fileURLToPath(new URL('../bin/bleepstore', import.meta.url));
const TICK_US = 10_000;

/** User + system CPU µs of every process in a process group (a broker and its helpers). */
function groupCpuUs(pgid: number): number {
  let ticks = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // The process ended between readdir and read.
    }
  }
  return ticks * TICK_US;
}

function pin(pids: number[], cpu: number): void {
  for (const pid of pids) spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

function groupPids(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function run(args: string[]): Promise<number> {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => p.once('exit', (code) => resolve(code ?? 1)));
}

async function counter(url: string, re: RegExp): Promise<number> {
  return Number(re.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
}
const PUBLISHED = /^bleepstore_queue_published_total\{target="[^"]+"\} (\d+)/m;
const PUTS = /^bleepstore_s3_operations_total\{operation="PutObject",status="success"\} (\d+)/m;

async function drained(url: string): Promise<boolean> {
  for (let t = 0; t < 600; t++) {
    const h = (await (await fetch(`${url}/health`)).json()) as { queue?: { pending_tasks: number } };
    if (!h.queue || h.queue.pending_tasks === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

interface Sample {
  opsPerSec: number;
  /** Server CPU per PUT while the bench ran (the bench's own figure). */
  serverUs: number;
  /** Server CPU per PUT from the bench's start until the outbox drained. */
  serverDrainUs: number;
  /** The same for the server's main thread alone (its event loop). */
  mainDrainUs: number;
  /** Broker CPU per event it received, same window. */
  brokerUs: number | undefined;
  puts: number;
  events: number;
  /** 1-minute load average when the phase began. */
  load: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function phase(
  name: string,
  srv: ServerProcess,
  broker: Broker | undefined,
  out: string,
  duration = DURATION,
): Promise<Sample> {
  const [puts0, events0] = [await counter(srv.url, PUTS), await counter(srv.url, PUBLISHED)];
  const pg = broker?.pgid();
  const b0 = pg === undefined ? 0 : groupCpuUs(pg);
  const s0 = procCpuUs(srv.pid) ?? 0;
  const m0 = mainThreadCpuUs(srv.pid) ?? 0;
  // --keep: no clean-up deletes, so the events counted are this run's PUTs (and its bucket).
  const code = await run([
    'bench',
    '--endpoint',
    `${name}=${srv.url}`,
    '--workloads',
    'put-1KiB-c16',
    '--sizes',
    '1KiB',
    '--concurrency',
    '16',
    '--duration',
    String(duration),
    '--server-pid',
    String(srv.pid),
    '--keep',
    '--out',
    out,
  ]);
  if (code !== 0) throw new Error(`bench against ${name} exited ${code}`);
  if (!(await drained(srv.url))) throw new Error(`${name}: the outbox did not drain within 60 s`);
  const s1 = procCpuUs(srv.pid) ?? 0;
  const m1 = mainThreadCpuUs(srv.pid) ?? 0;
  const b1 = pg === undefined ? 0 : groupCpuUs(pg);
  const [puts1, events1] = [await counter(srv.url, PUTS), await counter(srv.url, PUBLISHED)];
  const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as {
    endpoints: Array<{
      results: Array<{ opsPerSec: number; serverCpuUsPerOp?: number; loadAvg?: { start: number } }>;
    }>;
  };
  const r = report.endpoints[0]!.results[0]!;
  const puts = puts1 - puts0;
  const events = events1 - events0;
  if (broker && events < puts) throw new Error(`${name}: ${puts} PUTs but only ${events} events confirmed`);
  return {
    opsPerSec: r.opsPerSec,
    serverUs: r.serverCpuUsPerOp ?? Number.NaN,
    serverDrainUs: (s1 - s0) / puts,
    mainDrainUs: (m1 - m0) / puts,
    brokerUs: broker ? (b1 - b0) / events : undefined,
    puts,
    events,
    load: r.loadAvg?.start ?? Number.NaN,
  };
}

async function main(): Promise<void> {
  if (PROFILE) await mkdir(PROFILE, { recursive: true });
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-bench-events-'));
  const [redis, rabbit] = await Promise.all([startRedis(), startRabbit()]);
  const servers: ServerProcess[] = [];
  try {
    const kinds: Array<[string, string, Broker | undefined]> = [
      ['none', '', undefined],
      ['redis', `queue:\n  enabled: true\n  backend: redis\n  redis:\n    url: ${redis.url}\n`, redis],
      ['rabbitmq', `queue:\n  enabled: true\n  backend: rabbitmq\n  rabbitmq:\n    url: ${rabbit.url}\n`, rabbit],
    ];
    const worker = 'events:\n  dispatcher: worker\n';
    const bins: Array<[string, string | undefined, string?]> = [['', undefined]];
    if (BASE) bins.push(['-base', path.join(path.resolve(BASE), 'bin/bleepstore')]);
    if (WORKER) for (const [suffix, bin] of [...bins]) bins.push([`${suffix}-worker`, bin, worker]);
    const configs: Array<[string, string, Broker | undefined, string]> = [];
    for (const [suffix, bin, extra] of bins)
      for (const [kind, yaml, broker] of kinds.filter(([k]) => k === 'none' || !TARGETS || TARGETS.includes(k))) {
        const name = `${kind}${suffix}`;
        const file = path.join(dir, `${name}.yaml`);
        await writeFile(file, (yaml && extra ? extra : '') + yaml);
        // A directory per server: its main thread and the dispatcher's worker write a file each.
        const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, name)}`] : [];
        servers.push(
          await spawnServer(path.join(dir, name), ['--config', file, '--log-level', 'info'], undefined, undefined, {
            ...(bin ? { bin } : {}),
            nodeArgs,
          }),
        );
        configs.push([name, yaml, broker, suffix]);
      }
    if (PIN) {
      for (const b of [redis, rabbit]) pin(groupPids(b.pgid()!), 0);
      pin(
        servers.map((s) => s.pid),
        1,
      );
    }
    console.log(
      `1 KiB PUT, 16 in flight, ${DURATION} s per phase, ${ROUNDS} rounds${PIN ? ', brokers pinned to CPU 0 and servers to CPU 1' : ''}${BASE ? `, base ${BASE}` : ''}`,
    );
    // A short uncounted phase per server first: round 1 otherwise paid for the JIT and a cold
    // page cache (its CPU per PUT ran 20-40% above the later rounds').
    if (WARMUP > 0)
      for (const [i, [name, , broker]] of configs.entries())
        await phase(name, servers[i]!, broker, path.join(dir, `warm-${name}`), WARMUP);
    const samples = new Map<string, Sample[]>(configs.map(([n]) => [n, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Every other round in reverse, so no server always runs first or last in a round.
      const order = [...configs.entries()];
      if (round % 2 === 0) order.reverse();
      for (const [i, [name, , broker]] of order) {
        const s = await phase(name, servers[i]!, broker, path.join(dir, `report-${round}-${name}`));
        samples.get(name)!.push(s);
        console.log(
          `round ${round} ${name.padEnd(13)} ${s.opsPerSec.toFixed(0).padStart(6)} ops/s  server ${s.serverUs.toFixed(0)} µs/PUT (${s.serverDrainUs.toFixed(0)} with the drain, main thread ${s.mainDrainUs.toFixed(0)})` +
            (s.brokerUs === undefined
              ? ''
              : `  broker ${s.brokerUs.toFixed(0)} µs/event  ${s.puts} PUTs → ${s.events} events`) +
            `  load ${s.load.toFixed(1)}`,
        );
      }
    }
    console.log(
      '\nmedians                ops/s  vs none  server µs/PUT  (with drain)  CPU/PUT vs none  main µs/PUT  vs none  broker µs/event  load',
    );
    for (const [name, list] of samples) {
      const none = samples.get(`none${configs.find(([n]) => n === name)![3]}`)!;
      const ratio = median(list.map((s, i) => s.opsPerSec / none[i]!.opsPerSec));
      const cpuRatio = median(list.map((s, i) => s.serverDrainUs / none[i]!.serverDrainUs));
      const mainRatio = median(list.map((s, i) => s.mainDrainUs / none[i]!.mainDrainUs));
      const broker = list[0]!.brokerUs === undefined ? '-' : median(list.map((s) => s.brokerUs!)).toFixed(0);
      console.log(
        `${name.padEnd(20)} ${median(list.map((s) => s.opsPerSec))
          .toFixed(0)
          .padStart(7)}  ${ratio.toFixed(2).padStart(6)}x  ${median(list.map((s) => s.serverUs))
          .toFixed(0)
          .padStart(13)}  ${median(list.map((s) => s.serverDrainUs))
          .toFixed(0)
          .padStart(12)}  ${cpuRatio.toFixed(2).padStart(14)}x  ${median(list.map((s) => s.mainDrainUs))
          .toFixed(0)
          .padStart(
            11,
          )}  ${mainRatio.toFixed(2).padStart(6)}x  ${broker.padStart(15)}  ${median(list.map((s) => s.load)).toFixed(1)}`,
      );
    }
  } finally {
    // SIGTERM when profiling: a clean exit, so --cpu-prof writes its file.
    for (const s of servers)
      if (PROFILE) {
        s.proc.kill('SIGTERM');
        await s.exited;
      } else await s.kill9();
    await Promise.all([redis.destroy(), rabbit.destroy()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
