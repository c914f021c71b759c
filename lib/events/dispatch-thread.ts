// Event delivery on a worker thread (lib/events/dispatch-worker.ts), seen from the server's
// thread. The worker reads the outbox, renders, publishes and takes the acknowledgements;
// this side commits the deletions it asks for (the one writer connection lives here), keeps
// the counters /metrics and /health read, answers sync-mode writers once their events are
// confirmed, and wakes the worker after commits. A worker that dies is started again: the
// rows it had not yet had deleted are still in the outbox and go out again (at-least-once).
import { Worker } from 'node:worker_threads';
import type { Logger } from '../ops/log.ts';
import type { TargetConfig } from './config.ts';
import {
  type DeliveryCounters,
  type DispatcherOptions,
  type EventDispatcher,
  type OutboxPort,
  oldestPending,
  type TargetStatus,
  targetStatus,
} from './dispatcher.ts';
import { SeqWaiters } from '../seq-waiters.ts';

type Callbacks = 'active' | 'onPublished' | 'onFailed' | 'onDropped';

export interface WorkerInit {
  file: string;
  targets: TargetConfig[];
  options: Omit<DispatcherOptions, Callbacks>;
  clustered: boolean;
  active: boolean;
  /** [WAITING]: the worker's loops that may sleep until kicked; [KICKED]: 1 from a kick's
   *  message until the worker takes it. Shared memory: the server's thread reads it after every
   *  commit, and a message per commit cost it ~10 µs per PUT in the profile. */
  waiting: Int32Array;
}

export type ToThread =
  | { t: 'delivered'; id: number; target: string; seqs: number[]; maxDelayMs: number }
  | { t: 'trim'; id: number; target: string; keep: number }
  | { t: 'published'; target: string; n: number; latencyMs: number }
  | { t: 'failed'; target: string; message: string; publishing: boolean }
  | { t: 'deadLetters'; target: string; n: number }
  | { t: 'stopped' };

export type ToWorker =
  | { t: 'kick' }
  | { t: 'active'; value: boolean }
  | { t: 'reply'; id: number; value?: unknown; error?: string }
  | { t: 'stop' };

interface Counters extends DeliveryCounters {
  deadLetters: number | undefined;
}

export const WAITING = 0;
export const KICKED = 1;
const RESTART_MS = 1000;
const ACTIVE_POLL_MS = 250;
// Built to dist/ the worker is a .js file next to this one.
const WORKER = new URL(
  import.meta.url.endsWith('.ts') ? './dispatch-worker.ts' : './dispatch-worker.js',
  import.meta.url,
);

export class ThreadDispatcher implements EventDispatcher {
  readonly #outbox: OutboxPort;
  readonly #init: WorkerInit;
  readonly #o: DispatcherOptions;
  readonly #log: Logger;
  readonly #counters = new Map<string, Counters>();
  readonly #waiters = new SeqWaiters();
  #worker: Worker | undefined;
  #running = false;
  #stopped: (() => void) | undefined;
  #activeTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #unsubscribeRemoved: (() => void) | undefined;

  constructor(file: string, outbox: OutboxPort, targets: TargetConfig[], o: DispatcherOptions, log: Logger) {
    this.#outbox = outbox;
    this.#o = o;
    this.#log = log;
    const { active, onPublished, onFailed, onDropped, ...options } = o;
    this.#init = {
      file,
      targets,
      options,
      clustered: active !== undefined,
      active: active?.() ?? true,
      waiting: new Int32Array(new SharedArrayBuffer(8)),
    };
    for (const t of targets)
      this.#counters.set(t.name, {
        published: 0,
        failed: 0,
        dropped: 0,
        latencyMs: 0,
        failures: 0,
        lastError: null,
        deadLetters: undefined,
      });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#spawn();
    // Sync-mode writers are answered by the commit that removes their rows, whichever node's
    // dispatcher confirmed them.
    this.#unsubscribeRemoved = this.#outbox.onRemoved?.(() => {
      if (this.#waiters.size) this.#waiters.settle(oldestPending(this.#outbox, this.#counters.keys()));
    });
    const active = this.#o.active;
    if (active) {
      let last = this.#init.active;
      this.#activeTimer = setInterval(() => {
        const now = active();
        if (now !== last) this.#post({ t: 'active', value: now });
        last = now;
        this.#init.active = now;
      }, ACTIVE_POLL_MS);
      this.#activeTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#activeTimer);
    clearTimeout(this.#restartTimer);
    this.#unsubscribeRemoved?.();
    this.#waiters.cancel();
    const w = this.#worker;
    if (!w) return;
    // The worker closes its targets (a publish in flight ends or times out), then says so.
    await new Promise<void>((resolve) => {
      this.#stopped = resolve;
      w.once('exit', () => resolve());
      this.#post({ t: 'stop' });
    });
    this.#worker = undefined;
    await w.terminate();
  }

  /** After every commit: a message only when a loop of the worker waits for one; a busy loop
   *  finds the new rows by itself (after its linger). */
  kick(): void {
    const shared = this.#init.waiting;
    if (Atomics.load(shared, WAITING) > 0 && Atomics.compareExchange(shared, KICKED, 0, 1) === 0)
      this.#post({ t: 'kick' });
  }

  waitThrough(seq: number, timeoutMs: number): Promise<boolean> {
    if (oldestPending(this.#outbox, this.#counters.keys()) > seq) return Promise.resolve(true);
    return this.#waiters.wait(seq, timeoutMs);
  }

  status(): TargetStatus[] {
    return [...this.#counters.entries()].map(([name, c]) => targetStatus(name, c, this.#outbox, c.deadLetters));
  }

  #post(m: ToWorker): void {
    this.#worker?.postMessage(m);
  }

  #spawn(): void {
    this.#init.waiting.fill(0);
    const w = new Worker(WORKER, { workerData: this.#init });
    this.#worker = w;
    w.on('message', (m: ToThread) => this.#onMessage(w, m));
    w.on('error', (err) => this.#log.error('event dispatcher thread failed', { error: err }));
    w.once('exit', (code) => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      if (!this.#running) return;
      this.#log.error('event dispatcher thread exited; starting it again', { code });
      this.#restartTimer = setTimeout(() => {
        if (this.#running) this.#spawn();
      }, RESTART_MS);
    });
  }

  #onMessage(w: Worker, m: ToThread): void {
    const o = this.#o;
    switch (m.t) {
      case 'delivered':
      case 'trim': {
        // Sync-mode writers wait on the deletion: it commits at once while any waits.
        const done =
          m.t === 'trim'
            ? this.#outbox.trim(m.target, m.keep)
            : this.#outbox.delivered(m.target, m.seqs, this.#waiters.size ? 0 : m.maxDelayMs);
        done.then(
          (value) => {
            // Counted here, at the commit, so /health never shows the trimmed outbox without them.
            if (m.t === 'trim' && value) {
              this.#counters.get(m.target)!.dropped += value;
              o.onDropped?.(m.target, value);
            }
            w.postMessage({ t: 'reply', id: m.id, value } satisfies ToWorker);
          },
          (err: unknown) => w.postMessage({ t: 'reply', id: m.id, error: (err as Error).message } satisfies ToWorker),
        );
        break;
      }
      case 'published': {
        const c = this.#counters.get(m.target)!;
        c.failures = 0;
        c.lastError = null;
        c.published += m.n;
        c.latencyMs = m.latencyMs;
        o.onPublished?.(m.target, m.n, m.latencyMs);
        break;
      }
      case 'failed': {
        if (m.publishing) {
          const c = this.#counters.get(m.target)!;
          c.failures++;
          c.failed++;
          c.lastError = m.message;
        }
        o.onFailed?.(m.target, new Error(m.message), m.publishing);
        break;
      }
      case 'deadLetters':
        this.#counters.get(m.target)!.deadLetters = m.n;
        break;
      case 'stopped':
        this.#stopped?.();
        break;
    }
  }
}
