// Linearizable reads on a cluster node (Raft thesis §6.4, ReadIndex): a read asks the leader
// for its commit index, then waits until this node has applied that far. The node driver
// hands in the core's read states and its applied index; this holds the waiting reads.
import type { NodeId, ReadState } from './raft/index.ts';
import { Waiters } from './waiters.ts';

export interface ReadIndexHost {
  id: NodeId;
  timeoutMs: number;
  leader: () => NodeId;
  /** Asks the core for a read index for `ctx`, as the node's input (then the Ready loop). */
  askIndex: (ctxs: string[]) => void;
}

export class ReadIndexReads {
  readonly #host: ReadIndexHost;
  readonly #reads: Waiters<string>;
  #seq = 0;
  /** Reads whose read index is known, waiting for applied to reach it. */
  readonly #indexed: Array<{ index: number; ctx: string }> = [];

  constructor(host: ReadIndexHost) {
    this.#host = host;
    this.#reads = new Waiters(host.timeoutMs, host.leader);
  }

  /** Resolves once this node has applied everything committed when the read started. */
  barrier(): Promise<void> {
    const ctx = `${this.#host.id}:${++this.#seq}`;
    const p = this.#reads.wait(ctx, 0, 'no leader confirmed the read in time');
    this.#host.askIndex([ctx]);
    return p.then(() => undefined);
  }

  /** Asks the new leader again for every read still without an index: a follower drops a
   *  ReadIndex while it knows no leader, and a deposed leader never answers, so without this
   *  such a read waits for its whole timeout although a leader could confirm it now. A second
   *  answer for the same read is ignored (the first one settles it). */
  reissue(): void {
    const answered = new Set(this.#indexed.map((w) => w.ctx));
    const open = [...this.#reads.entries()].map(([ctx]) => ctx).filter((ctx) => !answered.has(ctx));
    if (open.length) this.#host.askIndex(open);
  }

  /** A Ready's read states, then the applied index after its entries: settles every read
   *  whose index is applied. */
  update(states: readonly ReadState[], applied: number): void {
    for (const rs of states)
      if (this.#reads.get(rs.requestCtx)) this.#indexed.push({ index: rs.index, ctx: rs.requestCtx });
    for (let i = this.#indexed.length - 1; i >= 0; i--) {
      const w = this.#indexed[i]!;
      if (w.index > applied) continue;
      this.#indexed.splice(i, 1);
      this.#reads.settle(w.ctx, undefined, w.index);
    }
  }

  rejectAll(err: Error): void {
    this.#reads.rejectAll(err);
  }
}
