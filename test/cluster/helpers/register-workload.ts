// Registers over S3 for the linearizability check (register-check.ts): each writer PUTs the
// values 1, 2, 3, ... to a key of its own through a random running node, one at a time, and
// moves to a fresh key after a write whose outcome it does not know; readers GET a random key
// that has been written from a node the test picks. Every operation is timed on this
// process's clock when sent and when answered.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ClusterNodeProc, S3Cluster } from './s3-cluster.ts';
import type { RegisterRead, RegisterWrite } from './register-check.ts';

const REQUEST_TIMEOUT_MS = 15_000;

export class RegisterWorkload {
  readonly writes: RegisterWrite[] = [];
  readonly reads: RegisterRead[] = [];
  /** Reads that got no value (503 while a node cannot confirm it is current, refused
   *  connections of a killed node, timeouts), by error name or status. */
  readonly readErrors = new Map<string, number>();
  private readonly keys: string[] = [];
  private stopped = false;
  private readonly runners: Promise<void>[] = [];
  private readonly cluster: S3Cluster;
  private readonly bucket: string;

  constructor(cluster: S3Cluster, bucket: string) {
    this.cluster = cluster;
    this.bucket = bucket;
    cluster.onStop(() => this.stop());
  }

  get acked(): number {
    return this.writes.filter((w) => w.acked).length;
  }

  /** `readFrom(reader)` picks the node of each read of that reader, `writeTo` the node of each
   *  write (default: a random running node); undefined waits. */
  start(
    writers: number,
    readers: number,
    readFrom?: (reader: number) => ClusterNodeProc | undefined,
    writeTo?: () => ClusterNodeProc | undefined,
  ): void {
    for (let i = 0; i < writers; i++) this.runners.push(this.writer(i, writeTo ?? (() => this.anyRunning())));
    for (let i = 0; i < readers; i++)
      this.runners.push(this.reader(readFrom ? () => readFrom(i) : () => this.anyRunning()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.runners);
  }

  /** Reads every written key once from each running node (part of the checked history). */
  async readAll(): Promise<void> {
    for (const n of this.cluster.nodes.filter((x) => x.proc)) for (const key of this.keys) await this.readOnce(key, n);
  }

  private anyRunning(): ClusterNodeProc | undefined {
    const up = this.cluster.nodes.filter((n) => n.proc);
    return up[Math.floor(Math.random() * up.length)];
  }

  private async writer(id: number, pick: () => ClusterNodeProc | undefined): Promise<void> {
    let gen = 0;
    let key = `reg-${id}-${gen}`;
    let value = 0;
    while (!this.stopped) {
      const node = pick();
      if (!node) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      value++;
      if (value === 1) this.keys.push(key);
      const start = performance.now();
      try {
        await this.cluster
          .client(node)
          .send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: String(value) }), {
            abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
        this.writes.push({ key, value, start, end: performance.now(), acked: true });
      } catch {
        this.writes.push({ key, value, start, end: performance.now(), acked: false });
        key = `reg-${id}-${++gen}`;
        value = 0;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private async reader(pick: () => ClusterNodeProc | undefined): Promise<void> {
    while (!this.stopped) {
      const node = pick();
      if (!node || !this.keys.length) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      await this.readOnce(this.keys[Math.floor(Math.random() * this.keys.length)]!, node);
    }
  }

  private async readOnce(key: string, node: ClusterNodeProc): Promise<void> {
    const start = performance.now();
    try {
      const out = await this.cluster.client(node).send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const value = Number(await out.Body!.transformToString());
      this.reads.push({ key, value, start, end: performance.now(), node: node.name });
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey') {
        this.reads.push({ key, value: 0, start, end: performance.now(), node: node.name });
        return;
      }
      const why = e.$metadata?.httpStatusCode ? `${e.$metadata.httpStatusCode}` : (e.name ?? 'Error');
      this.readErrors.set(why, (this.readErrors.get(why) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
