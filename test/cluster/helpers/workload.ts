// Concurrent writers against a cluster: each owns its keys (so every key has one history),
// PUTs random bytes through a random running node and now and then DELETEs one of its own
// acknowledged keys. What was acknowledged is kept for the checker; a request that failed
// has an unknown outcome and its key is left out of the checks.
import { createHash, randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Cluster } from './s3-cluster.ts';

export interface Acked {
  sha256: string;
  etag: string;
  size: number;
}

export class Workload {
  /** Acknowledged PUTs still expected to be there. */
  readonly live = new Map<string, Acked>();
  /** Acknowledged DELETEs: these keys must stay gone. */
  readonly deleted = new Set<string>();
  ackedWrites = 0;
  failed = 0;
  /** Failed requests by error name (their outcome is unknown). */
  readonly errors = new Map<string, number>();
  /** The first message seen for each error name, so a report can say what an odd one was. */
  readonly firstMessage = new Map<string, string>();
  private stopped = false;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private parked = 0;
  private writers = 0;
  private runners: Promise<void>[] = [];

  private readonly cluster: S3Cluster;
  private readonly bucket: string;

  constructor(cluster: S3Cluster, bucket: string) {
    this.cluster = cluster;
    cluster.onStop(() => this.stop());
    this.bucket = bucket;
  }

  start(writers: number): void {
    this.writers = writers;
    for (let w = 0; w < writers; w++) this.runners.push(this.writer(w));
  }

  /** Resolves once every writer has finished its request in flight and waits. */
  async pause(): Promise<void> {
    this.gate = new Promise((r) => (this.openGate = r));
    while (this.parked < this.writers) await new Promise((r) => setTimeout(r, 10));
  }

  resume(): void {
    this.gate = undefined;
    this.openGate?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resume();
    await Promise.all(this.runners);
  }

  private pick() {
    const up = this.cluster.nodes.filter((n) => n.proc);
    return up[Math.floor(Math.random() * up.length)] ?? this.cluster.nodes[0]!;
  }

  private async writer(w: number): Promise<void> {
    const mine: string[] = [];
    for (let i = 0; !this.stopped; i++) {
      if (this.gate) {
        this.parked++;
        await this.gate;
        this.parked--;
        if (this.stopped) break;
      }
      const node = this.pick();
      const s3 = this.cluster.client(node);
      try {
        if (mine.length > 4 && Math.random() < 0.15) {
          const key = mine.splice(Math.floor(Math.random() * mine.length), 1)[0]!;
          this.live.delete(key); // unknown until acknowledged
          await s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
          this.deleted.add(key);
          this.ackedWrites++;
          continue;
        }
        const key = `w${w}/k${i}`;
        // Small bodies are stored inline (travel in the log); larger ones are blobs.
        const body = randomBytes(
          Math.random() < 0.5 ? 1 + Math.floor(Math.random() * 900) : 2048 + Math.floor(Math.random() * 60_000),
        );
        const r = await s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
        this.live.set(key, {
          sha256: createHash('sha256').update(body).digest('hex'),
          etag: r.ETag!,
          size: body.length,
        });
        mine.push(key);
        this.ackedWrites++;
      } catch (err) {
        this.failed++;
        const name = (err as Error).name;
        this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
        if (!this.firstMessage.has(name)) this.firstMessage.set(name, String((err as Error).message).slice(0, 200));
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}
