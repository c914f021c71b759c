// Callers waiting on the Ready loop: proposals by log index, ReadIndex reads by context. Each
// settles once (with a value or an error) or is rejected as retryable after a timeout.
import { ClusterUnavailableError } from './node-api.ts';
import type { NodeId } from './raft/index.ts';

export interface Waiter {
  /** The term a proposal was made in (0 for a read): a different term at its index means
   *  another leader overwrote it. */
  term: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  /** When the timer fires (Date.now() clock). */
  due: number;
}

export class Waiters<K> {
  private readonly map = new Map<K, Waiter>();
  private readonly timeoutMs: number;
  private readonly leader: () => NodeId;

  constructor(timeoutMs: number, leader: () => NodeId) {
    this.timeoutMs = timeoutMs;
    this.leader = leader;
  }

  wait(key: K, term: number, timeoutMessage: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.register(key, term, timeoutMessage, resolve, reject));
  }

  /** Settles `resolve`/`reject` when `key` is settled, or rejects after the timeout. */
  register(
    key: K,
    term: number,
    timeoutMessage: string,
    resolve: (v: unknown) => void,
    reject: (e: Error) => void,
  ): void {
    this.map.set(key, {
      term,
      resolve,
      reject,
      timer: this.arm(key, this.timeoutMs, timeoutMessage),
      due: Date.now() + this.timeoutMs,
    });
  }

  /** Every waiter due later than `ms` from now times out then instead, with `message`. */
  shorten(ms: number, message: string): void {
    const due = Date.now() + ms;
    for (const [key, w] of this.map) {
      if (w.due <= due) continue;
      clearTimeout(w.timer);
      w.timer = this.arm(key, ms, message);
      w.due = due;
    }
  }

  private arm(key: K, ms: number, message: string): NodeJS.Timeout {
    return setTimeout(() => {
      const w = this.map.get(key);
      this.map.delete(key);
      w?.reject(new ClusterUnavailableError(message, 'unknown', this.leader()));
    }, ms);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): Waiter | undefined {
    return this.map.get(key);
  }

  entries(): IterableIterator<[K, Waiter]> {
    return this.map.entries();
  }

  settle(key: K, err: Error | undefined, value?: unknown): void {
    const w = this.map.get(key);
    if (!w) return;
    clearTimeout(w.timer);
    this.map.delete(key);
    if (err) w.reject(err);
    else w.resolve(value);
  }

  /** Every waiter, with `err` (the node stops). */
  rejectAll(err: Error): void {
    for (const k of [...this.map.keys()]) this.settle(k, err);
  }
}
