// After faults: every acknowledged write is readable from every node with its exact bytes
// and ETag, no acknowledged delete came back, and every node's metadata export is identical
// at the same applied index (read from the databases once all nodes are stopped).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DatabaseSync } from 'node:sqlite';
import { MetadataStore } from '../../../lib/metadata/sqlite.ts';
import { exportMetadata } from '../../../lib/metadata/export.ts';
import type { S3Cluster } from './s3-cluster.ts';
import type { Workload } from './workload.ts';

/** What was acknowledged: a Workload's record, or writes a test made itself. */
export type Written = Pick<Workload, 'live' | 'deleted'>;

export interface CheckReport {
  checked: number;
  lost: string[];
  resurrected: string[];
  /** The last error log lines of each node a read failed on. */
  troubles: string[];
  /** Reads that succeeded only on a retry after a transport error. */
  retried: number;
}

/** Reads every acknowledged key from every running node (bounded parallelism). */
export async function checkReads(cluster: S3Cluster, bucket: string, w: Written): Promise<CheckReport> {
  const lost: string[] = [];
  const resurrected: string[] = [];
  const troubled = new Map<string, string[]>();
  let checked = 0;
  const jobs: Array<() => Promise<void>> = [];
  let retried = 0;
  for (const node of cluster.nodes.filter((n) => n.proc)) {
    // Reads are idempotent, so the checker retries a transport failure as every S3 client
    // does: on a starved machine a client may reuse a kept-alive socket the server already
    // closed (ECONNRESET before any byte of the answer). A missing or wrong object is not
    // retried into success: NoSuchKey and wrong bytes are answers, not transport errors.
    const s3 = cluster.client(node, 3);
    for (const [key, want] of w.live)
      jobs.push(async () => {
        try {
          const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          if ((r.$metadata.attempts ?? 1) > 1) retried++;
          const bytes = await r.Body!.transformToByteArray();
          const sha = createHash('sha256').update(bytes).digest('hex');
          if (sha !== want.sha256 || r.ETag !== want.etag)
            lost.push(`${node.name}:${key} (bytes or ETag differ: ${r.ETag} vs ${want.etag})`);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          lost.push(`${node.name}:${key} (${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message.slice(0, 200)})`);
          if (!troubled.has(node.name)) troubled.set(node.name, node.proc?.troubles().slice(-10) ?? []);
        }
        checked++;
      });
    for (const key of w.deleted)
      jobs.push(async () => {
        try {
          await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          resurrected.push(`${node.name}:${key}`);
        } catch (err) {
          if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404)
            resurrected.push(`${node.name}:${key} (${(err as Error).name})`);
        }
      });
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  // A lost read names the node's last error log lines, so a CI failure says why.
  const troubles = [...troubled].map(([name, lines]) => `${name} logged: ${lines.join('\n') || '(no errors)'}`);
  return { checked, lost, resurrected, troubles, retried };
}

/** The applied index and the metadata export of one stopped node's database. */
export async function exportOf(metadataPath: string): Promise<{ applied: number; doc: string }> {
  const db = new DatabaseSync(metadataPath, { readOnly: true });
  const applied = (db.prepare('SELECT log_index FROM raft_applied').get() as { log_index: number }).log_index;
  db.close();
  const store = new MetadataStore({ path: metadataPath, durability: 'full' });
  const out = new PassThrough();
  let doc = '';
  out.on('data', (c: Buffer) => (doc += c.toString()));
  await exportMetadata(store, out, { includeCredentials: true, now: new Date(0) });
  store.close();
  return { applied, doc };
}

function referenced(metadataPath: string): string[] {
  const db = new DatabaseSync(metadataPath, { readOnly: true });
  const ids = (
    db
      .prepare("SELECT file_id FROM objects WHERE file_id != '' UNION SELECT file_id FROM multipart_parts")
      .all() as Array<{
      file_id: string;
    }>
  ).map((r) => r.file_id);
  db.close();
  return ids;
}

/** Blobs each stopped node's metadata references but its disk lacks (repair should fetch them). */
export function missingBlobs(metadataPath: string, objectsPath: string): number {
  return referenced(metadataPath).filter((id) => !existsSync(path.join(objectsPath, id.slice(0, 2), id))).length;
}

/** Blobs on a node's disk that its metadata does not reference (bytes pushed for a write that
 *  was never committed, or not yet removed after a delete). */
export function orphanBlobs(metadataPath: string, objectsPath: string): number {
  const refs = new Set(referenced(metadataPath));
  let n = 0;
  for (const d of readdirSync(objectsPath))
    if (/^[0-9a-f]{2}$/.test(d)) for (const f of readdirSync(path.join(objectsPath, d))) if (!refs.has(f)) n++;
  return n;
}

export interface Verdict {
  applied: number;
  checked: number;
  lost: string[];
  resurrected: string[];
  troubles: string[];
  retried: number;
  missing: number[];
  orphans: number[];
  exportsEqual: boolean;
  appliedEqual: boolean;
}

/** Waits for one leader and equal applied indexes, checks reads on every node, then stops
 *  every node (kill -9) and compares their databases. */
export async function verifyAndStop(cluster: S3Cluster, bucket: string, w: Written): Promise<Verdict> {
  await cluster.waitStable();
  const applied = await cluster.waitConverged();
  const reads = await checkReads(cluster, bucket, w);
  // Keys whose write failed may still have committed: their bytes reach every node through
  // the repair (not through the reads above). Give it a bounded time.
  const until = Date.now() + 20_000;
  while (Date.now() < until && cluster.nodes.some((n) => missingBlobs(n.metadataPath, n.objectsPath) > 0))
    await new Promise((r) => setTimeout(r, 200));
  // Bytes pushed for writes that never committed are orphans until each node's full blob pass
  // (every cluster.orphan_sweep_interval_seconds, 4 here) sweeps those past the grace period
  // (2 s).
  while (Date.now() < until + 10_000 && cluster.nodes.some((n) => orphanBlobs(n.metadataPath, n.objectsPath) > 0))
    await new Promise((r) => setTimeout(r, 200));
  for (const n of cluster.nodes) await cluster.kill9(n);
  const exports = await Promise.all(cluster.nodes.map((n) => exportOf(n.metadataPath)));
  return {
    applied,
    ...reads,
    missing: cluster.nodes.map((n) => missingBlobs(n.metadataPath, n.objectsPath)),
    orphans: cluster.nodes.map((n) => orphanBlobs(n.metadataPath, n.objectsPath)),
    exportsEqual: exports.every((e) => e.doc === exports[0]!.doc),
    appliedEqual: exports.every((e) => e.applied === exports[0]!.applied),
  };
}

export function assertVerdict(v: Verdict, nodes: number): void {
  const problems = [
    ...v.lost.slice(0, 10).map((l) => `lost ${l}`),
    ...v.resurrected.slice(0, 10).map((r) => `delete came back: ${r}`),
    ...(v.lost.length ? v.troubles : []),
    ...(v.exportsEqual ? [] : ['metadata exports differ between nodes']),
    ...(v.appliedEqual ? [] : ['applied index differs between nodes']),
    ...(v.missing.every((m) => m === 0) ? [] : [`blobs missing per node: ${v.missing.join('/')}`]),
    ...(v.orphans.every((m) => m === 0) ? [] : [`blobs orphaned per node: ${v.orphans.join('/')}`]),
  ];
  if (problems.length) throw new Error(`cluster check failed (${nodes} nodes):\n${problems.join('\n')}`);
}
