// Runs one workload against one endpoint: seeds what it reads, drives the closed loop, and
// turns the outcome into report rows.
import type { Workload } from './catalog.ts';
import type { BenchClient } from './http.ts';
import { keyOf, type KeyLedger } from './keys.ts';
import { closedLoop, type LoopResult } from './loop.ts';
import { type BenchOptions, sizeLabel } from './options.ts';
import { largePayload, randomPayload, type Payload } from './payload.ts';
import { ownCpuUs, procCpuUs } from './cpu.ts';
import { Histogram } from './histogram.ts';
import type { RawS3 } from './raw-s3.ts';
import { failedRow, rowBase as baseOf, rowFromLoop, type ResultRow } from './report.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  getObject,
  headObject,
  listPage,
  putObject,
  S3Failure,
  uploadPart,
} from './s3.ts';

export interface Target {
  bucket: string;
  keys: KeyLedger;
}

export interface RunContext {
  client: BenchClient;
  bucket: string;
  opts: BenchOptions;
  keys: KeyLedger;
  /** Where the listing workload writes and lists: a bucket of its own when the bench made one. */
  listTarget: Target;
  /** Seeds already written on this endpoint, by id. */
  seeded: Set<string>;
  /** The light raw-socket client for small-object workloads (http endpoints). */
  raw?: RawS3;
  /** The server's pids (one, or a cluster's nodes), for their CPU time from /proc. */
  serverPids?: number[];
  progress(line: string, transient?: boolean): void;
}

const smallPayloads = new Map<number, Payload>();
/** One random body per size, its SHA-256 computed up front (outside any timing). */
function smallPayload(size: number): Payload {
  let p = smallPayloads.get(size);
  if (!p) {
    p = randomPayload(size);
    p.sha256();
    smallPayloads.set(size, p);
  }
  return p;
}

/** CPU µs of each of `pids`, or undefined when there are none or one cannot be read. */
function cpuOf(pids: number[]): number[] | undefined {
  if (!pids.length) return undefined;
  const each: number[] = [];
  for (const p of pids) {
    const us = procCpuUs(p);
    if (us === undefined) return undefined;
    each.push(us);
  }
  return each;
}

/** The timed loop, with the client's and the server's CPU time and (raw client) time to first byte. */
async function timed(ctx: RunContext, w: Workload, op: (n: number) => Promise<number>): Promise<LoopResult> {
  const raw = w.group === 'small' || w.group === 'mixed' ? ctx.raw : undefined;
  if (raw) raw.ttfb = new Histogram();
  const pids = (ctx.serverPids ?? []).filter((p) => p !== process.pid);
  const server0 = cpuOf(pids);
  const client0 = ownCpuUs();
  const r = await timedLoop(ctx, w, op);
  r.clientCpuUs = ownCpuUs() - client0;
  const server1 = cpuOf(pids);
  if (server0 !== undefined && server1 !== undefined) {
    r.serverCpuUsEach = server1.map((us, i) => us - server0[i]!);
    r.serverCpuUs = r.serverCpuUsEach.reduce((a, b) => a + b, 0);
  }
  r.client = raw ? 'raw' : 'node:http';
  if (raw) r.ttfb = raw.ttfb;
  return r;
}

function timedLoop(ctx: RunContext, w: Workload, op: (n: number) => Promise<number>): Promise<LoopResult> {
  const total = ctx.opts.durationSec;
  return closedLoop({
    concurrency: w.concurrency,
    durationMs: total * 1000,
    op,
    onProgress: (p) =>
      ctx.progress(
        `  ${w.name}: ${(p.elapsedMs / 1000).toFixed(1)}/${total} s, ${p.ops} ops (${Math.round(p.ops / (p.elapsedMs / 1000))}/s), ${p.errors} errors`,
        true,
      ),
  });
}

interface Seed {
  loop?: LoopResult;
  failure?: ResultRow;
}

/** Writes prefix/0..count-1 once per endpoint; a failure becomes the workload's row. */
async function seed(
  ctx: RunContext,
  w: Workload,
  prefix: string,
  count: number,
  payload: Payload,
  to: Target = ctx,
): Promise<Seed> {
  if (ctx.seeded.has(`${to.bucket}/${prefix}`)) return {};
  ctx.progress(
    `  seeding ${count} x ${sizeLabel(payload.size)} under ${prefix}/ (${Math.min(count, ctx.opts.seedConcurrency)} in flight)`,
  );
  const loop = await closedLoop({
    concurrency: Math.min(count, ctx.opts.seedConcurrency),
    count,
    op: (n) => putObject(ctx.client, to.bucket, keyOf(prefix, n), payload, payload.size <= 1 << 20),
    onProgress: (p) => ctx.progress(`  seeding ${prefix}/: ${p.ops}/${count}`, true),
  });
  to.keys.range(prefix, loop.ops + loop.errors);
  if (loop.errors === 0) {
    ctx.seeded.add(`${to.bucket}/${prefix}`);
    return { loop };
  }
  const first = loop.unsupported ?? Object.keys(loop.errorCounts)[0] ?? 'seeding failed';
  return {
    loop,
    failure: failedRow(
      baseOf(w),
      loop.unsupported ? 'unsupported' : 'error',
      `seeding ${prefix}/ failed (${loop.errors} of ${count}): ${first}`,
    ),
  };
}

async function withSeed(
  ctx: RunContext,
  w: Workload,
  prefix: string,
  count: number,
  payload: Payload,
  run: () => Promise<LoopResult>,
): Promise<ResultRow[]> {
  const s = await seed(ctx, w, prefix, count, payload);
  if (s.failure) return [s.failure];
  const row = rowFromLoop(baseOf(w), await run());
  if (s.loop) row.seedSeconds = s.loop.seconds;
  return [row];
}

async function multipartOnce(
  ctx: RunContext,
  key: string,
  size: number,
  full: Payload,
  last: Payload,
): Promise<number> {
  const { client, bucket, opts } = ctx;
  const id = await createMultipartUpload(client, bucket, key);
  const parts = Math.ceil(size / opts.partSize);
  const etags: string[] = new Array<string>(parts);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < parts) {
      const i = next++;
      etags[i] = await uploadPart(client, bucket, key, id, i + 1, i === parts - 1 ? last : full);
    }
  };
  try {
    const settled = await Promise.allSettled(Array.from({ length: Math.min(opts.partParallelism, parts) }, worker));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await completeMultipartUpload(client, bucket, key, id, etags);
  } catch (err) {
    await abortMultipartUpload(client, bucket, key, id).catch(() => {});
    throw err;
  }
  return size;
}

async function listWorkload(ctx: RunContext, w: Workload): Promise<ResultRow[]> {
  const { client, opts } = ctx;
  const { bucket } = ctx.listTarget;
  const prefix = `list-${opts.listKeys}`;
  const s = await seed(ctx, w, prefix, opts.listKeys, smallPayload(1024), ctx.listTarget);
  const rows: ResultRow[] = [];
  if (s.loop) {
    rows.push(
      rowFromLoop(
        {
          workload: `${w.name}-seed`,
          group: 'seed',
          sizeBytes: 1024,
          concurrency: Math.min(opts.listKeys, opts.seedConcurrency),
          description: `the ${opts.listKeys} PUTs of 1KiB that the listing reads (fixed count, not timed by --duration)`,
        },
        s.loop,
      ),
    );
  }
  if (s.failure) return [...rows, s.failure];
  let token: string | undefined;
  let passKeys = 0;
  const loop = await timed(ctx, w, async () => {
    const page = await listPage(client, bucket, prefix + '/', opts.listPageSize, token);
    token = page.next;
    passKeys += page.keys;
    if (page.next === undefined) {
      const got = passKeys;
      passKeys = 0;
      if (got !== opts.listKeys)
        throw new S3Failure(
          'ListObjectsV2',
          200,
          'WrongKeyCount',
          `a full listing gave ${got} keys, not ${opts.listKeys}`,
        );
    } else if (page.keys === 0) {
      throw new S3Failure('ListObjectsV2', 200, 'EmptyPage', 'a truncated page with no keys');
    }
    return page.bytes;
  });
  const row = rowFromLoop(baseOf(w), loop);
  if (s.loop) row.seedSeconds = s.loop.seconds;
  rows.push(row);
  return rows;
}

export async function runWorkload(w: Workload, ctx: RunContext): Promise<ResultRow[]> {
  const { client, bucket, opts } = ctx;
  switch (w.kind) {
    case 'put': {
      const payload = smallPayload(w.sizeBytes);
      const raw = ctx.raw;
      const loop = await timed(ctx, w, (n) =>
        raw
          ? raw.put(bucket, keyOf(w.name, n), payload)
          : putObject(client, bucket, keyOf(w.name, n), payload, w.signed),
      );
      ctx.keys.range(w.name, loop.ops + loop.errors);
      return [rowFromLoop(baseOf(w), loop)];
    }
    case 'get':
    case 'head': {
      const prefix = `pool-${sizeLabel(w.sizeBytes)}`;
      const raw = ctx.raw;
      raw?.presign(
        bucket,
        Array.from({ length: opts.poolSize }, (_, i) => keyOf(prefix, i)),
      );
      const key = (n: number) => keyOf(prefix, n % opts.poolSize);
      const read = raw
        ? w.kind === 'get'
          ? (n: number) => raw.get(bucket, key(n), w.sizeBytes)
          : (n: number) => raw.head(bucket, key(n))
        : w.kind === 'get'
          ? (n: number) => getObject(client, bucket, key(n), w.sizeBytes)
          : (n: number) => headObject(client, bucket, key(n));
      return withSeed(ctx, w, prefix, opts.poolSize, smallPayload(w.sizeBytes), () => timed(ctx, w, read));
    }
    case 'put-large': {
      const payload = largePayload(w.sizeBytes);
      if (w.signed) {
        ctx.progress(`  hashing the ${sizeLabel(w.sizeBytes)} body once for the signed payload`);
        payload.sha256();
      }
      const key = keyOf(w.name, 0);
      ctx.keys.single(key);
      return [rowFromLoop(baseOf(w), await timed(ctx, w, () => putObject(client, bucket, key, payload, w.signed)))];
    }
    case 'get-large': {
      const prefix = `large-${sizeLabel(w.sizeBytes)}`;
      return withSeed(ctx, w, prefix, 1, largePayload(w.sizeBytes), () =>
        timed(ctx, w, () => getObject(client, bucket, keyOf(prefix, 0), w.sizeBytes)),
      );
    }
    case 'multipart': {
      const key = keyOf(w.name, 0);
      ctx.keys.single(key);
      const full = largePayload(opts.partSize);
      const last = largePayload(w.sizeBytes - (Math.ceil(w.sizeBytes / opts.partSize) - 1) * opts.partSize);
      return [rowFromLoop(baseOf(w), await timed(ctx, w, () => multipartOnce(ctx, key, w.sizeBytes, full, last)))];
    }
    case 'list':
      return listWorkload(ctx, w);
    case 'mixed': {
      const prefix = `pool-${sizeLabel(w.sizeBytes)}`;
      const payload = smallPayload(w.sizeBytes);
      const raw = ctx.raw;
      raw?.presign(
        bucket,
        Array.from({ length: opts.poolSize }, (_, i) => keyOf(prefix, i)),
      );
      let started = 0;
      const rows = await withSeed(ctx, w, prefix, opts.poolSize, payload, () =>
        timed(ctx, w, (n) => {
          const k = keyOf(prefix, (n * 7) % opts.poolSize);
          if (n % 10 < 7) return raw ? raw.get(bucket, k, w.sizeBytes) : getObject(client, bucket, k, w.sizeBytes);
          started = n + 1;
          const nk = keyOf(w.name, n);
          return raw ? raw.put(bucket, nk, payload) : putObject(client, bucket, nk, payload, w.signed);
        }),
      );
      ctx.keys.range(w.name, started); // numbered by operation: a few of these never existed
      return rows;
    }
    default: {
      const never: never = w.kind;
      throw new Error(`unknown workload kind ${String(never)}`);
    }
  }
}
