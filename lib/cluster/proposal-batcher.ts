// Group commit for proposals on the leader: the proposals of one turn of the event loop go to
// Raft together (one MsgProp, so one Ready, one log fsync, one append per follower, one
// acknowledgement and one commit for all of them). While every follower still has appends in
// flight, new proposals wait for the first answer (at most HOLD_MS): their appends would wait
// in the transport anyway, and held they join one batch instead of one each.

/** How long proposals may wait for an answer, and how many may wait. */
const HOLD_MS = 2;
const HOLD_MAX = 256;

export interface PendingProposal {
  data: Uint8Array;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export interface ProposalBatcherHost {
  /** True while this node leads and every follower has a batch in flight. */
  busy(): boolean;
  /** Hands one batch to Raft (without driving the Ready loop). */
  propose(batch: PendingProposal[]): void;
  drive(): void;
  /** Runs fn as the node's input: fn, then the Ready loop. */
  input(fn: () => void): void;
}

export class ProposalBatcher {
  readonly #host: ProposalBatcherHost;
  readonly #queued: PendingProposal[] = [];
  #scheduled = false;
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(host: ProposalBatcherHost) {
    this.#host = host;
  }

  add(p: PendingProposal): void {
    this.#queued.push(p);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#holding()) return;
      this.#flush();
      this.#host.drive();
    });
  }

  /** An answer arrived from a peer (inside the node's input): held proposals go with it. */
  answered(): void {
    if (this.#holdTimer) this.#release();
  }

  /** The leader was blocked on its own fsync: a hold does not count that time as waiting. */
  blocked(): void {
    if (!this.#holdTimer) return;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = this.#arm();
  }

  #arm(): NodeJS.Timeout {
    return setTimeout(() => this.#host.input(() => this.#release()), HOLD_MS);
  }

  /** Rejects everything still waiting. */
  stop(err: () => Error): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    for (const p of this.#queued.splice(0)) p.reject(err());
  }

  #holding(): boolean {
    if (this.#queued.length >= HOLD_MAX || !this.#host.busy()) return false;
    this.#holdTimer ??= this.#arm();
    return true;
  }

  #release(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    this.#flush();
  }

  #flush(): void {
    const batch = this.#queued.splice(0);
    if (batch.length) this.#host.propose(batch);
  }
}
