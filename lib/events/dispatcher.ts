// Drains the outbox to the targets. One loop per target publishes the oldest undelivered
// events in commit order, and deletes them from the outbox only after the target confirmed
// them, so a crash at any moment loses nothing (a batch may be published again after a
// restart: same ids, at-least-once). A target that is down only delays its own loop, with
// exponential back-off; S3 writes never wait for it (write-through) unless sync mode asks to.
import type { BucketEvent } from './event.ts';
import { eventId } from './event.ts';
import { render } from './format.ts';
import { SPEC_TYPE } from './names.ts';
import type { EventTarget, TargetMessage } from './targets/target.ts';
import { SeqWaiters } from '../seq-waiters.ts';

/** One event of the outbox. */
export interface OutboxRow {
  seq: number;
  /** The key of the stored row it is in (a row holds the events of one transaction). */
  rowSeq: number;
  target: string;
  configurationId: string;
  event: BucketEvent;
}

/** The dispatcher's view of the outbox table (lib/metadata owns the SQL). */
export interface OutboxPort {
  /** The oldest undelivered events of one target, by sequence, in whole stored rows. */
  pending(target: string, limit: number): OutboxRow[];
  /**
   * Removes the stored rows (by their keys, `rowSeq`) whose events a target confirmed (a
   * metadata command, committed before it resolves). With `maxDelayMs` > 0 the removal may
   * wait that long to join another transaction's commit.
   */
  delivered(target: string, seqs: number[], maxDelayMs: number): Promise<void>;
  /** Drops a target's oldest rows, keeping those that hold its newest `keep` events; returns how many events went. */
  trim(target: string, keep: number): Promise<number>;
  /** `rows`: the events not yet confirmed (stored rows may hold several). */
  depth(target: string): { rows: number; oldestSeq: number | null; oldestTime: string | null };
  /** The sequence of a target's oldest undelivered row, or null when it has none. */
  oldestSeq(target: string): number | null;
  /**
   * Calls `fn` after every COMMIT with the events it stored, in order (only where the
   * dispatcher runs in the writer's thread); returns the unsubscribe.
   */
  onStored?(fn: (rows: OutboxRow[]) => void): () => void;
  /**
   * Calls `fn` after every COMMIT that removed rows, whichever dispatcher removed them (in a
   * cluster, the leader's, through the log); returns the unsubscribe.
   */
  onRemoved?(fn: () => void): () => void;
}

export interface DispatcherOptions {
  source: string;
  batchSize: number;
  /** Outbox rows kept per target while it is unreachable; older ones are dropped and counted. */
  maxPending: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How often an idle loop looks for rows it was not told about (e.g. after a restart). */
  pollMs: number;
  /** After a batch smaller than batchSize, wait this long before the next (batches more per round trip). */
  lingerMs: number;
  /** How long deleting confirmed rows may wait to join another commit (0: commit at once, as
   *  sync mode needs: its writers wait for the rows to go). */
  deleteDelayMs: number;
  /** Cluster mode: only the leader publishes; a follower's loops idle until this turns true.
   *  The outbox is replicated, so a new leader drains what its predecessor left (at-least-once). */
  active?: () => boolean;
  /** +1 when a loop may go to sleep until kick() (it is about to look for rows), -1 when it
   *  found some or woke: a kick matters only while the sum is above 0. */
  onWaiting?: (delta: 1 | -1) => void;
  onPublished?: (target: string, n: number, latencyMs: number) => void;
  /** `publishing`: a publish failed (the target counts as unreachable), not an outbox read. */
  onFailed?: (target: string, err: Error, publishing: boolean) => void;
  onDropped?: (target: string, n: number) => void;
}

/** One target's delivery state, for /metrics and /health. */
export interface TargetStatus {
  target: string;
  /** False after a failed publish, until one succeeds. */
  connected: boolean;
  /** Outbox rows not yet confirmed. */
  pending: number;
  /** Commit time of the oldest of them. */
  oldest_time: string | null;
  last_error: string | null;
  /** Events the target confirmed since start (a redelivery after a crash counts again). */
  published: number;
  /** Failed publish attempts (each retried). */
  failed: number;
  /** Events dropped at the outbox cap (max_pending) while the target was unreachable. */
  dropped: number;
  /** Commit-to-confirm time of the oldest event of the last confirmed batch. */
  latency_ms: number;
  /** Messages the target dead-lettered, where it counts them (RabbitMQ). */
  dead_letters?: number;
}

/** What a target's loop counts, for its TargetStatus. */
export interface DeliveryCounters {
  published: number;
  failed: number;
  dropped: number;
  latencyMs: number;
  /** Failed publishes in a row (0: connected). */
  failures: number;
  lastError: string | null;
}

/** One target's TargetStatus from its counters and the outbox. */
export function targetStatus(
  name: string,
  c: DeliveryCounters,
  outbox: Pick<OutboxPort, 'depth'>,
  deadLetters: number | undefined,
): TargetStatus {
  const d = outbox.depth(name);
  return {
    ...(deadLetters === undefined ? {} : { dead_letters: deadLetters }),
    target: name,
    connected: c.failures === 0,
    pending: d.rows,
    oldest_time: d.oldestTime,
    last_error: c.lastError,
    published: c.published,
    failed: c.failed,
    dropped: c.dropped,
    latency_ms: c.latencyMs,
  };
}

interface Loop extends DeliveryCounters {
  target: EventTarget;
  wake: (() => void) | undefined;
  /** Highest sequence confirmed by this target in this process. */
  delivered: number;
  /**
   * The target's events committed since a read found the outbox drained, handed over by
   * onStored, so a loop that keeps up neither reads nor decodes its rows. Undefined until
   * such a read, and again after a failed publish, while not active, or past MEMORY_BATCHES
   * batches (the outbox table is the record either way; this is only a copy).
   */
  memory: OutboxRow[] | undefined;
}

/** A loop keeps at most this many batches of events in memory; past it, it reads the table. */
const MEMORY_BATCHES = 4;

/** The first `n` events of `rows` and the rest of their stored row, taken out of `rows`. */
function takeWholeRows(rows: OutboxRow[], n: number): OutboxRow[] {
  let end = Math.min(n, rows.length);
  while (end < rows.length && rows[end]!.rowSeq === rows[end - 1]!.rowSeq) end++;
  return rows.splice(0, end);
}

/** The lowest sequence any of `targets` still has in the outbox; Infinity when none has any. */
export function oldestPending(outbox: Pick<OutboxPort, 'oldestSeq'>, targets: Iterable<string>): number {
  let min = Number.POSITIVE_INFINITY;
  for (const name of targets) min = Math.min(min, outbox.oldestSeq(name) ?? min);
  return min;
}

/** The keys of the stored rows `rows` came from, each once. */
function rowKeys(rows: readonly OutboxRow[]): number[] {
  const keys: number[] = [];
  for (const r of rows) if (keys[keys.length - 1] !== r.rowSeq) keys.push(r.rowSeq);
  return keys;
}

/** What the rest of the server uses of event delivery, in this thread or a worker's. */
export interface EventDispatcher {
  start(): void;
  stop(): Promise<void>;
  /** New rows were committed: idle loops look now instead of at the next poll. */
  kick(): void;
  /** Sync mode: resolves true once every target confirmed every event up to `seq`. */
  waitThrough(seq: number, timeoutMs: number): Promise<boolean>;
  status(): TargetStatus[];
}

export class Dispatcher implements EventDispatcher {
  readonly #loops = new Map<string, Loop>();
  readonly #outbox: OutboxPort;
  readonly #o: DispatcherOptions;
  #running = false;
  readonly #waiters = new SeqWaiters();
  readonly #done: Promise<void>[] = [];
  #unsubscribe: (() => void) | undefined;
  #unsubscribeRemoved: (() => void) | undefined;

  constructor(outbox: OutboxPort, targets: readonly EventTarget[], o: DispatcherOptions) {
    this.#outbox = outbox;
    this.#o = o;
    for (const t of targets)
      this.#loops.set(t.name, {
        target: t,
        wake: undefined,
        failures: 0,
        lastError: null,
        delivered: 0,
        published: 0,
        failed: 0,
        dropped: 0,
        latencyMs: 0,
        memory: undefined,
      });
  }

  #onStored = (rows: OutboxRow[]): void => {
    for (const r of rows) {
      const loop = this.#loops.get(r.target);
      if (!loop?.memory) continue;
      if (loop.memory.length >= MEMORY_BATCHES * this.#o.batchSize) loop.memory = undefined;
      else loop.memory.push(r);
    }
  };

  #onRemoved = (): void => {
    if (this.#waiters.size) this.#waiters.settle(oldestPending(this.#outbox, this.#loops.keys()));
  };

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = this.#outbox.onStored?.(this.#onStored);
    this.#unsubscribeRemoved = this.#outbox.onRemoved?.(this.#onRemoved);
    for (const [name, loop] of this.#loops) this.#done.push(this.#run(name, loop));
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unsubscribeRemoved?.();
    this.#unsubscribeRemoved = undefined;
    this.#waiters.cancel();
    for (const loop of this.#loops.values()) loop.wake?.();
    await Promise.all(this.#done.splice(0));
    await Promise.all([...this.#loops.values()].map((l) => l.target.close()));
  }

  /** New rows were committed: idle loops look now instead of at the next poll. */
  kick(): void {
    for (const loop of this.#loops.values()) if (!loop.failures) loop.wake?.();
  }

  /**
   * Resolves true once every target has confirmed every event up to `seq` (sync mode): no
   * outbox row at or below it remains; false after `timeoutMs` or when the dispatcher stops.
   */
  waitThrough(seq: number, timeoutMs: number): Promise<boolean> {
    if (oldestPending(this.#outbox, this.#loops.keys()) > seq) return Promise.resolve(true);
    return this.#waiters.wait(seq, timeoutMs);
  }

  status(): TargetStatus[] {
    return [...this.#loops.entries()].map(([name, l]) => targetStatus(name, l, this.#outbox, l.target.deadLetters?.()));
  }

  /** Resolves true when woken by kick() or stop(), false when `ms` passed. */
  #sleep(loop: Loop, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        loop.wake = undefined;
        resolve(false);
      }, ms);
      loop.wake = () => {
        clearTimeout(timer);
        loop.wake = undefined;
        resolve(true);
      };
    });
  }

  async #run(name: string, loop: Loop): Promise<void> {
    const o = this.#o;
    while (this.#running) {
      if (o.active && !o.active()) {
        loop.memory = undefined;
        await this.#sleep(loop, Math.min(o.pollMs, 250));
        continue;
      }
      let rows: OutboxRow[];
      // Counted as waiting for a kick from before the read: a commit the read misses sees it.
      o.onWaiting?.(1);
      try {
        if (loop.failures) {
          const dropped = await this.#outbox.trim(name, o.maxPending);
          if (dropped) {
            loop.dropped += dropped;
            o.onDropped?.(name, dropped);
          }
        }
        if (loop.memory) rows = takeWholeRows(loop.memory, o.batchSize);
        else {
          rows = this.#outbox.pending(name, o.batchSize);
          // Drained as of this (synchronous) read: what commits from now on is handed over.
          if (rows.length < o.batchSize && this.#unsubscribe) loop.memory = [];
        }
      } catch (err) {
        o.onWaiting?.(-1);
        o.onFailed?.(name, err as Error, false);
        await this.#sleep(loop, o.maxBackoffMs);
        continue;
      }
      if (!rows.length) {
        // A whole poll interval without a commit: read the table again next time, so the
        // copy in memory can never hide a row for longer than that.
        if (!(await this.#sleep(loop, o.pollMs))) loop.memory = undefined;
        o.onWaiting?.(-1);
        continue;
      }
      o.onWaiting?.(-1);
      const messages: TargetMessage[] = rows.map((r) => ({
        id: eventId(r.event.seq),
        type: SPEC_TYPE[r.event.name],
        partitionKey: r.event.key === undefined ? r.event.bucket : `${r.event.bucket}/${r.event.key}`,
        body: render(r.event, loop.target.format, r.configurationId, o.source),
      }));
      try {
        await loop.target.publish(messages);
        // Deleting confirmed rows rides along with the next write's commit (no fsync of its
        // own); a crash before it only publishes them again. Sync-mode writers wait on it
        // (onRemoved settles them).
        await this.#outbox.delivered(name, rowKeys(rows), this.#waiters.size ? 0 : o.deleteDelayMs);
      } catch (err) {
        loop.memory = undefined;
        loop.failures++;
        loop.failed++;
        loop.lastError = (err as Error).message;
        o.onFailed?.(name, err as Error, true);
        const backoff = Math.min(o.maxBackoffMs, o.minBackoffMs * 2 ** Math.min(loop.failures - 1, 16));
        await this.#sleep(loop, backoff);
        continue;
      }
      loop.failures = 0;
      loop.lastError = null;
      loop.delivered = rows[rows.length - 1]!.seq;
      const oldest = Date.parse(rows[0]!.event.time);
      loop.published += rows.length;
      loop.latencyMs = Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) : 0;
      o.onPublished?.(name, rows.length, loop.latencyMs);
      // A short batch: let a few more commits gather before the next round trip and outbox
      // delete (Kafka's linger.ms), instead of one publish and one delete per commit.
      if (rows.length < o.batchSize && o.lingerMs > 0 && !this.#waiters.size)
        await new Promise((r) => setTimeout(r, o.lingerMs));
    }
  }
}
