// One endpoint for the length of a run: probe it, make the buckets, run workloads on request
// (recording rows, server RSS and machine load), then remove what the bench wrote.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Workload } from './catalog.ts';
import { formatRow } from './format.ts';
import { BenchClient } from './http.ts';
import { KeyLedger, removeAll } from './keys.ts';
import { probeServer } from './machine.ts';
import type { BenchOptions, EndpointSpec } from './options.ts';
import { randomPayload } from './payload.ts';
import { failedRow, rowBase as baseOf, type EndpointReport, type ResultRow } from './report.ts';
import { RawClient } from './raw.ts';
import { RawS3 } from './raw-s3.ts';
import { RssSampler } from './rss.ts';
import { createBucket, putObject } from './s3.ts';
import { Signer } from './sigv4.ts';
import { runWorkload, type RunContext, type Target } from './workloads.ts';

export type ProgressSink = (line: string, transient?: boolean) => void;

export class EndpointSession {
  readonly report: EndpointReport;
  readonly #ep: EndpointSpec;
  readonly #o: BenchOptions;
  readonly #client: BenchClient;
  readonly #raw: RawS3 | undefined;
  readonly #say: ProgressSink;
  readonly #keys = new KeyLedger();
  #ctx: RunContext | undefined;
  #ownBucket = false;
  #sampler: RssSampler | undefined;
  #closed = false;

  constructor(ep: EndpointSpec, o: BenchOptions, selected: readonly Workload[], progress: ProgressSink) {
    this.#ep = ep;
    this.#o = o;
    this.#say = (line, transient) => progress(`[${ep.name}] ${line.trimStart()}`, transient);
    const maxSockets = Math.max(
      o.seedConcurrency,
      o.mixedConcurrency,
      o.partParallelism,
      ...selected.map((w) => w.concurrency),
    );
    const signer = new Signer({ accessKey: o.accessKey, secretKey: o.secretKey, region: o.region });
    const url = new URL(ep.url);
    this.#client = new BenchClient({ endpoint: url, pathStyle: o.pathStyle, signer, maxSockets });
    if (o.client === 'raw' && url.protocol === 'http:')
      this.#raw = new RawS3(new RawClient(url), signer, url, o.pathStyle);
    this.report = {
      name: ep.name,
      url: ep.url,
      durability: 'unknown',
      durabilitySource: 'unknown',
      server: '',
      serverVersion: '',
      bucket: o.bucket ?? `bench-${randomBytes(4).toString('hex')}`,
      results: [],
    };
  }

  /** Probes the server and prepares the buckets; on failure the report says why and run() only records errors. */
  async open(needsListBucket: boolean): Promise<void> {
    const report = this.report;
    const o = this.#o;
    const client = this.#client;
    const bucket = report.bucket;
    this.#say(this.#ep.url);
    const probe = await probeServer(client);
    if (!probe.reachable) return this.#fail(`cannot reach ${this.#ep.url}: ${probe.error}`);
    report.server = probe.server;
    report.serverVersion = probe.version;
    if (probe.durability) Object.assign(report, { durability: probe.durability, durabilitySource: 'server' });
    else if (this.#ep.durabilityLabel)
      Object.assign(report, { durability: this.#ep.durabilityLabel, durabilitySource: 'flag' });

    try {
      await createBucket(client, bucket);
      this.#ownBucket = o.bucket === undefined;
    } catch (err) {
      // Some endpoints need no bucket (or refuse to make one): go on if an object can be written.
      this.#say(`CreateBucket ${bucket} failed (${(err as Error).message}); trying a PUT without it`);
      try {
        await putObject(client, bucket, 'bench-probe', randomPayload(16), true);
        this.#keys.single('bench-probe');
      } catch (err2) {
        return this.#fail(
          `cannot write to bucket ${bucket}: ${(err as Error).message}; then ${(err2 as Error).message}`,
        );
      }
    }

    // The listing gets a bucket holding only its keys, so a server that scans the whole bucket
    // is not also charged for what the other workloads wrote.
    let listTarget: Target = { bucket, keys: this.#keys };
    if (this.#ownBucket && needsListBucket) {
      try {
        await createBucket(client, `${bucket}-list`);
        listTarget = { bucket: `${bucket}-list`, keys: new KeyLedger() };
      } catch (err) {
        this.#say(`CreateBucket ${bucket}-list failed (${(err as Error).message}); listing in ${bucket}`);
      }
    }
    if (this.#ep.serverPid !== undefined) this.#sampler = new RssSampler(this.#ep.serverPid);
    this.#ctx = { client, bucket, opts: o, keys: this.#keys, listTarget, seeded: new Set(), progress: this.#say };
    if (this.#raw) this.#ctx.raw = this.#raw;
    if (this.#ep.serverPid !== undefined) this.#ctx.serverPids = this.#ep.cpuPids ?? [this.#ep.serverPid];
  }

  async run(w: Workload): Promise<void> {
    if (!this.#ctx) {
      this.report.results.push(failedRow(baseOf(w), 'error', this.report.failure ?? 'the endpoint was not opened'));
      return;
    }
    this.#say(`${w.name}: ${w.description}`);
    await this.#sampler?.mark();
    const loadStart = os.loadavg()[0]!;
    let rows: ResultRow[];
    try {
      rows = await runWorkload(w, this.#ctx);
    } catch (err) {
      rows = [failedRow(baseOf(w), 'error', (err as Error).message)];
    }
    const rss = await this.#sampler?.mark();
    const loadAvg = { start: loadStart, end: os.loadavg()[0]! };
    for (const r of rows) {
      if (rss) r.maxRssBytes = rss;
      r.loadAvg = loadAvg;
      this.#say(formatRow(r));
    }
    this.report.results.push(...rows);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#sampler?.stop();
      if (this.#sampler) this.report.maxRssBytes = this.#sampler.max;
      const ctx = this.#ctx;
      if (!ctx || this.#o.keep) return;
      const bucket = this.report.bucket;
      this.#say(`removing what the bench wrote${this.#ownBucket ? ` and the bucket ${bucket}` : ''}`);
      const problems = await removeAll(this.#client, bucket, this.#keys, this.#ownBucket);
      if (ctx.listTarget.bucket !== bucket)
        problems.push(...(await removeAll(this.#client, ctx.listTarget.bucket, ctx.listTarget.keys, true)));
      for (const p of problems) this.#say(`cleanup: ${p}`);
    } finally {
      this.#client.close();
      this.#raw?.close();
    }
  }

  #fail(why: string): void {
    this.report.failure = why;
    this.#say(why);
  }
}
