// ReadIndex bookkeeping on the leader (thesis §6.4): each request remembers the commit
// index when it arrived and which voters acknowledged a heartbeat carrying its context.
// Requests are answered in arrival order once a quorum acknowledged a later one.
import type { NodeId } from './types.ts';

export interface ReadRequest {
  index: number;
  /** Who asked: NONE or the leader itself for a local read, else the follower to answer. */
  from: NodeId;
  ctx: string;
  acks: Map<NodeId, boolean>;
}

/** Read requests a leader holds at once; more are dropped (the client retries). */
export const MAX_PENDING_READS = 4096;

export class ReadOnly {
  private readonly pending = new Map<string, ReadRequest>();
  private queue: string[] = [];

  add(index: number, from: NodeId, ctx: string): void {
    if (this.pending.has(ctx) || this.queue.length >= MAX_PENDING_READS) return;
    this.pending.set(ctx, { index, from, ctx, acks: new Map() });
    this.queue.push(ctx);
  }

  /** Records that `id` acknowledged ctx; returns the acks so far, or undefined if unknown. */
  ack(id: NodeId, ctx: string): Map<NodeId, boolean> | undefined {
    const r = this.pending.get(ctx);
    if (!r) return undefined;
    r.acks.set(id, true);
    return r.acks;
  }

  /** Removes and returns every request up to and including ctx. */
  advance(ctx: string): ReadRequest[] {
    const i = this.queue.indexOf(ctx);
    if (i < 0) return [];
    const done = this.queue.slice(0, i + 1);
    this.queue = this.queue.slice(i + 1);
    const out: ReadRequest[] = [];
    for (const c of done) {
      out.push(this.pending.get(c)!);
      this.pending.delete(c);
    }
    return out;
  }

  lastPendingCtx(): string | undefined {
    return this.queue[this.queue.length - 1];
  }
}
