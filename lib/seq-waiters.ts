// Callers waiting for a sequence to be passed: sync-mode writers until no outbox row at or
// below their commit's sequence remains (lib/events), a follower until it has applied a
// forwarded write's log index (lib/cluster/node.ts appliedAtLeast). Each resolves true once
// settled, false at its timeout or on cancel.
interface Waiter {
  seq: number;
  resolve: (delivered: boolean) => void;
}

export class SeqWaiters {
  readonly #set = new Set<Waiter>();

  get size(): number {
    return this.#set.size;
  }

  /** Resolves true once settle() is told of an oldest pending row above `seq`, false after `timeoutMs`. */
  wait(seq: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const w: Waiter = {
        seq,
        resolve: (ok) => {
          clearTimeout(timer);
          this.#set.delete(w);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => w.resolve(false), timeoutMs);
      this.#set.add(w);
    });
  }

  /** `oldest`: the lowest sequence still in the outbox (Infinity when it is empty). */
  settle(oldest: number): void {
    for (const w of this.#set) if (w.seq < oldest) w.resolve(true);
  }

  /** The dispatcher stops: every waiter gets false. */
  cancel(): void {
    for (const w of this.#set) w.resolve(false);
  }
}
