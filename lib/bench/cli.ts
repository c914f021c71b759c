// `bleepstore bench`: parse the flags, run, print the tables on stdout (progress on stderr),
// write report.json / chart.svg / table.txt / report.md. Exit 1 when any workload had errors.
import { parseArgs } from 'node:util';
import type { ProcessHooks } from '../process-hooks.ts';
import { runBench } from './bench.ts';
import { catalog, GROUPS } from './catalog.ts';
import { type Ceiling, startCeiling } from './ceiling.ts';
import { defaultOutDir, writeReport } from './files.ts';
import { formatReport } from './format.ts';
import { type BenchOptions, DEFAULTS, type EndpointSpec, parseSize, QUICK } from './options.ts';

const USAGE = `Usage: bleepstore bench [options]

Drives any S3 endpoint with its own SigV4 client and reports ops/s, MiB/s, p50 and p99.

  --endpoint [NAME=]URL    endpoint to measure (default http://127.0.0.1:9010)
  --compare [NAME=]URL...  also measure these, in turn, and print ratios
  --baseline NAME|URL      the endpoint ratios are relative to (default the first)
  --access-key KEY         (default $AWS_ACCESS_KEY_ID, else bleepstore)
  --secret-key KEY         (default $AWS_SECRET_ACCESS_KEY, else bleepstore-secret)
  --region REGION          (default $AWS_REGION, else us-east-1)
  --path-style             http://host/bucket/key (default)
  --virtual-style          http://bucket.host/key (the endpoint must be a host name)
  --bucket NAME            use this bucket (default: create bench-<random> and remove it after)
  --duration SECONDS       per workload (default 10, at most 600)
  --workloads LIST         comma-separated names, prefixes (put, get-64KiB) or groups
                           (${GROUPS.join(', ')}); default all; see --show-workloads
  --out DIR                report directory (default ./bench-results/<timestamp>)
  --quick                  smoke run: 1 s per workload, concurrency 16, 16MiB large objects,
                           5MiB parts, 2000 listed keys
  --sizes LIST             small object sizes (default 1KiB,64KiB)
  --concurrency LIST       small object concurrencies (default 1,16,64)
  --large-size SIZE        single PUT/GET and multipart object size (default 256MiB)
  --part-size SIZE         multipart part size (default 16MiB)
  --part-parallelism N     parts in flight (default 4)
  --list-keys N            keys the listing walks (default 20000)
  --server-pid PID[+PID..] sample this server's VmRSS and CPU from /proc (repeat: one per endpoint, in
                           order); PIDs joined by + (a cluster's nodes) add up for CPU, RSS is the first's
  --durability-label TEXT  durability mode to print when the server does not report one
                           (repeat: one per endpoint, in order)
  --ceiling PATH           also start PATH (../shared/bench/ceiling.mjs) on a free port, measure it
                           in the same run as endpoint "ceiling" and make it the baseline
  --client raw|node        raw (default): small-object and mixed workloads replay pre-signed
                           requests over raw keep-alive sockets (a client far cheaper than any
                           server); node: node:http for everything
  --order ORDER            interleaved (default): endpoints take turns workload by workload;
                           sequential: every workload against one endpoint, then the next
  --keep                   leave the objects and the bucket in place
  --show-workloads         list the workloads this configuration has, then exit
  --help                   print this help

Exit status: 0 when every workload ran without errors ("unsupported" is not an error), 1 when
some failed, 2 for bad flags.

Example: bleepstore bench --endpoint bleepstore=http://127.0.0.1:9010 --compare ceiling=http://127.0.0.1:9100 --baseline ceiling`;

const OPTIONS = {
  endpoint: { type: 'string' },
  compare: { type: 'string', multiple: true },
  baseline: { type: 'string' },
  'access-key': { type: 'string' },
  'secret-key': { type: 'string' },
  region: { type: 'string' },
  'path-style': { type: 'boolean' },
  'virtual-style': { type: 'boolean' },
  bucket: { type: 'string' },
  duration: { type: 'string' },
  workloads: { type: 'string' },
  out: { type: 'string' },
  quick: { type: 'boolean' },
  sizes: { type: 'string' },
  concurrency: { type: 'string' },
  'large-size': { type: 'string' },
  'part-size': { type: 'string' },
  'part-parallelism': { type: 'string' },
  'list-keys': { type: 'string' },
  'server-pid': { type: 'string', multiple: true },
  'durability-label': { type: 'string', multiple: true },
  order: { type: 'string' },
  ceiling: { type: 'string' },
  client: { type: 'string' },
  keep: { type: 'boolean' },
  'show-workloads': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function count(flag: string, s: string, min: number, max: number): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${flag} "${s}" must be a number from ${min} to ${max}`);
  return n;
}

function parseEndpoint(spec: string): { name: string | undefined; url: string } {
  const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(spec);
  const raw = m ? m[2]! : spec;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`"${raw}" is not a URL (example: http://127.0.0.1:9010)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${raw}" is not an http or https URL`);
  return { name: m?.[1], url: url.origin };
}

/** Turns the flags into options: defaults < --quick < explicit flags. */
export function optionsFromFlags(v: Values, positionals: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  if (positionals.length && !v.compare) throw new Error(`unexpected argument "${positionals[0]}"`);
  const specs = [...(v.endpoint ? [v.endpoint] : []), ...(v.compare ?? []), ...positionals];
  if (!specs.length) specs.push('http://127.0.0.1:9010');
  const pids = v['server-pid'] ?? [];
  const labels = v['durability-label'] ?? [];
  if (pids.length > specs.length) throw new Error(`${pids.length} --server-pid flags for ${specs.length} endpoints`);
  if (labels.length > specs.length)
    throw new Error(`${labels.length} --durability-label flags for ${specs.length} endpoints`);
  const used = new Set<string>();
  const endpoints: EndpointSpec[] = specs.map((s, i) => {
    const { name, url } = parseEndpoint(s);
    let n = name ?? new URL(url).host;
    for (let k = 2; used.has(n); k++) n = `${name ?? new URL(url).host}-${k}`;
    used.add(n);
    const ep: EndpointSpec = { name: n, url };
    if (pids[i] !== undefined) {
      const all = pids[i]!.split('+').map((p) => count('server-pid', p, 1, 2 ** 32));
      ep.serverPid = all[0]!;
      if (all.length > 1) ep.cpuPids = all;
    }
    if (labels[i] !== undefined) ep.durabilityLabel = labels[i]!;
    return ep;
  });
  let baseline = endpoints[0]!.name;
  if (v.baseline !== undefined) {
    const b = endpoints.find(
      (e) => e.name === v.baseline || e.url === v.baseline || e.url === v.baseline!.replace(/\/+$/, ''),
    );
    if (!b)
      throw new Error(
        `--baseline "${v.baseline}" is none of the endpoints (${endpoints.map((e) => e.name).join(', ')})`,
      );
    baseline = b.name;
  }
  if (v['path-style'] && v['virtual-style']) throw new Error('--path-style and --virtual-style exclude each other');
  const list = (flag: string, s: string, f: (x: string) => number) =>
    s
      .split(',')
      .filter(Boolean)
      .map((x) => {
        const n = f(x.trim());
        if (!(n > 0)) throw new Error(`--${flag} "${s}" must list positive values`);
        return n;
      });
  const o: BenchOptions = {
    ...DEFAULTS,
    ...(v.quick ? QUICK : {}),
    endpoints,
    baseline,
    accessKey: v['access-key'] ?? env.AWS_ACCESS_KEY_ID ?? DEFAULTS.accessKey,
    secretKey: v['secret-key'] ?? env.AWS_SECRET_ACCESS_KEY ?? DEFAULTS.secretKey,
    region: v.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULTS.region,
    pathStyle: !v['virtual-style'],
    keep: v.keep === true,
  };
  if (v.bucket !== undefined) o.bucket = v.bucket;
  if (v.order !== undefined) {
    if (v.order !== 'interleaved' && v.order !== 'sequential')
      throw new Error(`--order "${v.order}" must be interleaved or sequential`);
    o.order = v.order;
  }
  if (v.client !== undefined) {
    if (v.client !== 'raw' && v.client !== 'node') throw new Error(`--client "${v.client}" must be raw or node`);
    o.client = v.client;
  }
  if (v.duration !== undefined) o.durationSec = count('duration', v.duration, 0.1, 600);
  if (v.workloads !== undefined)
    o.workloads = v.workloads
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (v.sizes !== undefined) o.smallSizes = list('sizes', v.sizes, parseSize);
  if (v.concurrency !== undefined)
    o.concurrencies = list('concurrency', v.concurrency, (x) => count('concurrency', x, 1, 1024));
  if (v['large-size'] !== undefined) o.largeSize = parseSize(v['large-size']);
  if (v['part-size'] !== undefined) o.partSize = parseSize(v['part-size']);
  if (v['part-parallelism'] !== undefined) o.partParallelism = count('part-parallelism', v['part-parallelism'], 1, 64);
  if (v['list-keys'] !== undefined) o.listKeys = count('list-keys', v['list-keys'], 1, 10_000_000);
  if (!(o.largeSize > 0) || !(o.partSize > 0)) throw new Error('--large-size and --part-size must be positive');
  if (Math.ceil(o.largeSize / o.partSize) > 10_000)
    throw new Error('--large-size / --part-size gives more than 10,000 parts');
  return o;
}

export async function run(argv: string[], hooks: ProcessHooks): Promise<void> {
  let o: BenchOptions;
  let out: string;
  let ceilingScript: string | undefined;
  let baselineGiven = false;
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      console.log(USAGE);
      return hooks.exit(0);
    }
    o = optionsFromFlags(values, positionals);
    if (values['show-workloads']) {
      for (const w of catalog(o)) console.log(`${w.name.padEnd(28)} ${w.group.padEnd(10)} ${w.description}`);
      return hooks.exit(0);
    }
    out = values.out ?? defaultOutDir();
    ceilingScript = values.ceiling;
    baselineGiven = values.baseline !== undefined;
    if (ceilingScript !== undefined && o.endpoints.some((e) => e.name === 'ceiling'))
      throw new Error('--ceiling starts an endpoint named "ceiling"; name the others differently');
  } catch (err) {
    console.error(`bleepstore bench: ${(err as Error).message}`);
    console.error('Run "bleepstore bench --help" for the options.');
    return hooks.exit(2);
  }

  const tty = process.stderr.isTTY === true;
  let lastPrinted = 0;
  let transientShown = false;
  const progress = (line: string, transient = false): void => {
    const now = Date.now();
    if (transient) {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
        transientShown = true;
      } else if (now - lastPrinted >= 5000) {
        process.stderr.write(line + '\n');
        lastPrinted = now;
      }
      return;
    }
    process.stderr.write(`${tty && transientShown ? '\r\x1b[2K' : ''}${line}\n`);
    transientShown = false;
    lastPrinted = now;
  };

  let report;
  let ceiling: Ceiling | undefined;
  try {
    if (ceilingScript !== undefined) {
      ceiling = await startCeiling(ceilingScript);
      progress(`started ${ceilingScript} at ${ceiling.url} (pid ${ceiling.pid})`);
      o.endpoints.push({
        name: 'ceiling',
        url: ceiling.url,
        serverPid: ceiling.pid,
        durabilityLabel: 'file fsync only (as shipped)',
      });
      if (!baselineGiven) o.baseline = 'ceiling';
    }
    report = await runBench(o, progress);
  } catch (err) {
    console.error(`bleepstore bench: ${(err as Error).message}`);
    return hooks.exit(2);
  } finally {
    await ceiling?.stop();
  }
  process.stdout.write('\n' + formatReport(report));
  const files = await writeReport(report, out);
  console.error(`\nWrote ${files.json}, ${files.svg}, ${files.text} and ${files.markdown}`);
  const bad = report.endpoints.some((e) => e.results.some((r) => r.status === 'error' || r.errors > 0));
  hooks.exit(bad ? 1 : 0);
}
