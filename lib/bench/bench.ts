// A benchmark run: every selected workload against each endpoint in turn, then ratios
// against the baseline. Progress goes to the `progress` callback (stderr in the CLI).
import { randomBytes } from 'node:crypto';
import { catalog, selectWorkloads, type Workload } from './catalog.ts';
import { BenchClient } from './http.ts';
import { KeyLedger, removeAll } from './keys.ts';
import { machineInfo, probeServer } from './machine.ts';
import type { BenchOptions, EndpointSpec } from './options.ts';
import { randomPayload } from './payload.ts';
import { computeRatios, failedRow, type BenchReport, type EndpointReport, type ResultRow } from './report.ts';
import { RssSampler } from './rss.ts';
import { createBucket, putObject } from './s3.ts';
import { Signer } from './sigv4.ts';
import { version } from '../version.ts';
import { runWorkload, type RunContext } from './workloads.ts';
import { formatRow } from './format.ts';

export type ProgressSink = (line: string, transient?: boolean) => void;

const baseOf = (w: Workload) => ({ workload: w.name, group: w.group, description: w.description, sizeBytes: w.sizeBytes, concurrency: w.concurrency });

/** Options worth recording beside the results (never the secret key). */
function settingsOf(o: BenchOptions, selected: readonly Workload[]): Record<string, unknown> {
  const { secretKey: _secret, endpoints: _e, ...rest } = o;
  return { ...rest, workloads: selected.map((w) => w.name) };
}

async function benchEndpoint(ep: EndpointSpec, o: BenchOptions, selected: readonly Workload[], progress: ProgressSink): Promise<EndpointReport> {
  const maxSockets = Math.max(o.seedConcurrency, o.mixedConcurrency, o.partParallelism, ...selected.map((w) => w.concurrency));
  const signer = new Signer({ accessKey: o.accessKey, secretKey: o.secretKey, region: o.region });
  const client = new BenchClient({ endpoint: new URL(ep.url), pathStyle: o.pathStyle, signer, maxSockets });
  const bucket = o.bucket ?? `bench-${randomBytes(4).toString('hex')}`;
  const report: EndpointReport = {
    name: ep.name, url: ep.url, durability: 'unknown', durabilitySource: 'unknown', server: '', serverVersion: '', bucket, results: [],
  };
  const failAll = (why: string): EndpointReport => {
    report.failure = why;
    report.results = selected.map((w) => failedRow(baseOf(w), 'error', why));
    progress(`[${ep.name}] ${why}`);
    return report;
  };
  const keys = new KeyLedger();
  let sampler: RssSampler | undefined;
  try {
    progress(`[${ep.name}] ${ep.url}`);
    const probe = await probeServer(client);
    if (!probe.reachable) return failAll(`cannot reach ${ep.url}: ${probe.error}`);
    report.server = probe.server;
    report.serverVersion = probe.version;
    if (probe.durability) Object.assign(report, { durability: probe.durability, durabilitySource: 'server' });
    else if (ep.durabilityLabel) Object.assign(report, { durability: ep.durabilityLabel, durabilitySource: 'flag' });

    let ownBucket = false;
    try {
      await createBucket(client, bucket);
      ownBucket = o.bucket === undefined;
    } catch (err) {
      // Some endpoints need no bucket (or refuse to make one): go on if an object can be written.
      progress(`[${ep.name}] CreateBucket ${bucket} failed (${(err as Error).message}); trying a PUT without it`);
      try {
        await putObject(client, bucket, 'bench-probe', randomPayload(16), true);
        keys.single('bench-probe');
      } catch (err2) {
        return failAll(`cannot write to bucket ${bucket}: ${(err as Error).message}; then ${(err2 as Error).message}`);
      }
    }

    if (ep.serverPid !== undefined) sampler = new RssSampler(ep.serverPid);
    const ctx: RunContext = { client, bucket, opts: o, keys, seeded: new Set(), progress: (l, t) => progress(`[${ep.name}] ${l.trimStart()}`, t) };
    for (const w of selected) {
      progress(`[${ep.name}] ${w.name}: ${w.description}`);
      await sampler?.mark();
      let rows: ResultRow[];
      try {
        rows = await runWorkload(w, ctx);
      } catch (err) {
        rows = [failedRow(baseOf(w), 'error', (err as Error).message)];
      }
      const rss = await sampler?.mark();
      for (const r of rows) {
        if (rss) r.maxRssBytes = rss;
        progress(`[${ep.name}] ${formatRow(r)}`);
      }
      report.results.push(...rows);
    }
    if (sampler) report.maxRssBytes = sampler.max;

    if (!o.keep) {
      progress(`[${ep.name}] removing what the bench wrote${ownBucket ? ` and the bucket ${bucket}` : ''}`);
      for (const p of await removeAll(client, bucket, keys, ownBucket)) progress(`[${ep.name}] cleanup: ${p}`);
    }
    return report;
  } finally {
    sampler?.stop();
    client.close();
  }
}

export async function runBench(o: BenchOptions, progress: ProgressSink = () => {}): Promise<BenchReport> {
  const selected = selectWorkloads(catalog(o), o.workloads);
  const startedAt = new Date().toISOString();
  const endpoints: EndpointReport[] = [];
  for (const ep of o.endpoints) endpoints.push(await benchEndpoint(ep, o, selected, progress));
  return {
    tool: 'bleepstore bench',
    version,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo(),
    settings: settingsOf(o, selected),
    baseline: o.baseline,
    endpoints,
    ratios: computeRatios(endpoints, o.baseline),
  };
}
