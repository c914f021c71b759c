// The metadata store: reads (reads.ts) and one door for writes, submit(command). Commands
// submitted in one turn of the event loop share one transaction (a savepoint each) and so
// one WAL fsync with synchronous=FULL; a command that throws rolls back only its savepoint
// and rejects only its own promise; every promise settles after the shared COMMIT, so
// nobody is answered before the change is durable.
import { resolve } from 'node:path';
import type { Durability } from '../config.ts';
import { apply } from './apply.ts';
import { countChange, type Change } from './changes.ts';
import type { Command, ResultOf } from './commands.ts';
import { type Row, Sql } from './connection.ts';
import { MetadataReads } from './reads.ts';
import { type BucketEventInfo, bucketRules, EventSeq, OutboxBuffer, writeOutbox } from './outbox.ts';
import type { NotificationRule } from '../events/notification-config.ts';
import type { OutboxPort, OutboxRow } from '../events/dispatcher.ts';
import { OutboxReads } from './outbox-reads.ts';

const OUTBOX_REMOVALS: ReadonlySet<Command['type']> = new Set(['outbox.delivered', 'outbox.trim', 'outbox.forget']);

export { PreconditionError, CredentialError } from './errors.ts';
export type { Change } from './changes.ts';

/** One line of a command recording: a command, or commands that were applied as one transaction. */
export type Recorded = Command | { atomic: Command[] };

export interface OpenOptions {
  /** File path, or ':memory:'. */
  path: string;
  durability: Durability;
  /** Called with every command in the order it is applied (for replay and determinism tests). */
  record?: ((entry: Recorded) => void) | undefined;
  /**
   * Server-wide event targets: every event of a bucket without a notification configuration
   * goes to them. Outbox rows are written for changes whose command carries an event stamp.
   */
  eventTargets?: readonly string[] | undefined;
  /** Every configured event target: bucket rules naming another (since removed) route nowhere. */
  knownEventTargets?: readonly string[] | undefined;
}

/** Applies commands one at a time inside an open transaction (see MetadataStore.atomically). */
export interface AtomicSession {
  apply<C extends Command>(cmd: C): ResultOf<C>;
}

type ChangeListener = (changes: readonly Change[]) => void;
interface Queued {
  cmd: Command;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class MetadataStore extends MetadataReads {
  private queue: Queued[] = [];
  private flushScheduled = false;
  private sessionOpen = false;
  private readonly listeners = new Set<ChangeListener>();
  private readonly record: OpenOptions['record'];
  /** Changes of the savepoint being applied, then of the whole transaction. */
  private pending: Change[] = [];
  private readonly eventTargets: readonly string[];
  private readonly knownEventTargets: ReadonlySet<string>;
  /** Buckets' notification rules and owners read by writeOutbox, kept for one transaction. */
  private readonly outboxBuckets = new Map<string, BucketEventInfo>();
  /** The event sequence of the open transaction. */
  private readonly eventSeq = new EventSeq();
  /** The outbox rows of the open transaction, written just before its COMMIT. */
  private readonly outboxBuffer = new OutboxBuffer();
  /** Told each committed transaction's outbox events (the dispatcher of this thread). */
  private readonly outboxListeners = new Set<(rows: OutboxRow[]) => void>();
  /** Told after each COMMIT that removed outbox rows (sync-mode writers wait on removals). */
  private readonly removalListeners = new Set<() => void>();
  private eventGate: ((throughSeq: number, result: unknown) => Promise<void>) | undefined;
  /** Cluster mode: every submit goes through the replicated log (lib/cluster/replicated-store.ts). */
  private replicate: ((cmd: Command) => Promise<unknown>) | undefined;
  private outboxReads: OutboxReads | undefined;
  private readonly path: string;

  constructor(opts: OpenOptions) {
    super(new Sql(opts.path, opts.durability));
    this.path = opts.path;
    this.record = opts.record;
    this.eventTargets = opts.eventTargets ?? [];
    this.knownEventTargets = new Set(opts.knownEventTargets ?? this.eventTargets);
  }

  /** The outbox as lib/events/dispatcher.ts sees it: reads here, deletions through submit. */
  outbox(): OutboxPort {
    this.outboxReads ??= new OutboxReads(this.sql.db);
    const reads = this.outboxReads;
    return {
      pending: (target, limit) => reads.pending(target, limit),
      onStored: (fn) => {
        this.outboxListeners.add(fn);
        return () => this.outboxListeners.delete(fn);
      },
      onRemoved: (fn) => {
        this.removalListeners.add(fn);
        return () => this.removalListeners.delete(fn);
      },
      delivered: async (target, seqs, maxDelayMs) => {
        const cmd = { type: 'outbox.delivered', target, seqs } as const;
        await (maxDelayMs > 0 ? this.submitLater(cmd, maxDelayMs) : this.submit(cmd));
      },
      trim: (target, keep) => this.submit({ type: 'outbox.trim', target, keep }),
      oldestSeq: (target) => reads.oldestSeq(target),
      depth: (target) => reads.depth(target),
    };
  }

  /** The database file, for a second (read-only) connection in another thread; undefined in memory. */
  get file(): string | undefined {
    return this.path === ':memory:' ? undefined : resolve(this.path);
  }

  /** A bucket's notification rules (GetBucketNotificationConfiguration); undefined when none. */
  notificationRules(bucket: string): NotificationRule[] | undefined {
    return bucketRules(this.sql, bucket);
  }

  /**
   * Sync event mode (lib/events/start.ts): a command that carries an event stamp resolves only
   * once `gate` resolves for the event sequence reached at its commit; if the gate rejects,
   * the change stays committed (the gate gets the result to hand on with its error).
   */
  setEventGate(gate: ((throughSeq: number, result: unknown) => Promise<void>) | undefined): void {
    this.eventGate = gate;
  }

  /** The one door for changes: resolves with the command's result once it is committed. */
  submit<C extends Command>(cmd: C): Promise<ResultOf<C>> {
    const committed = this.replicate
      ? (this.replicate(cmd) as Promise<ResultOf<C>>)
      : new Promise<ResultOf<C>>((resolve, reject) => {
          if (!this.sql.isOpen) return reject(new Error('the metadata store is closed'));
          this.queue.push({ cmd, resolve: resolve as (v: unknown) => void, reject });
          this.scheduleFlush();
        });
    const gate = this.eventGate;
    if (!gate || !('event' in cmd) || !cmd.event || cmd.event.background) return committed;
    // Runs in the microtask after the commit resolved it, before any later flush: the
    // sequence read is the one this command's transaction reached (or its own). In a cluster
    // the command was applied on this node (the leader, which publishes) when it resolves;
    // a later batch applied meanwhile only makes the gate wait for more, never less.
    return committed.then(async (v) => {
      await gate((this.sql.q('SELECT last FROM event_seq WHERE id = 1').get() as Row).last as number, v);
      return v;
    });
  }

  /**
   * Committed changes, in commit order, one call per transaction. Listeners run after COMMIT
   * (a change rolled back is never seen); the returned function unsubscribes.
   */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` with one transaction open across its awaits: the commands it applies commit
   * together or not at all (a metadata import). Other submitters wait until it ends. The
   * store must not be shared with a server while this runs (the CLI opens its own).
   */
  async atomically<T>(fn: (session: AtomicSession) => Promise<T>): Promise<T> {
    if (this.sessionOpen) throw new Error('an atomic session is already open');
    this.sessionOpen = true;
    const applied: Command[] = [];
    this.sql.exec('BEGIN IMMEDIATE');
    try {
      const out = await fn({
        apply: (cmd) => {
          applied.push(cmd);
          return this.applyOne(cmd);
        },
      });
      this.commit();
      this.record?.({ atomic: applied });
      this.publish();
      return out;
    } catch (err) {
      this.rollback();
      throw err;
    } finally {
      this.sessionOpen = false;
      if (this.queue.length) this.scheduleFlush();
    }
  }

  /** Cluster mode: from now on submit() hands every command to `fn` (which proposes it). */
  setReplicator(fn: (cmd: Command) => Promise<unknown>): void {
    this.replicate = fn;
  }

  /**
   * Applies committed log entries (the ones one Raft Ready delivers) in one transaction;
   * `mark` records the last log index in the same transaction. A command that fails rolls
   * back only its savepoint (deterministically, on every node); its error is returned, not
   * thrown, so the index still advances. One commit per batch, not per entry: the WAL
   * write and page cache work of a commit is paid once (the Raft log is the durable record).
   */
  applyCommitted(
    cmds: readonly Command[],
    mark: (sql: Sql) => void,
  ): Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
    const out: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    this.sql.exec('BEGIN IMMEDIATE');
    try {
      for (const cmd of cmds) {
        try {
          out.push({ ok: true, value: this.applyOne(cmd) });
        } catch (error) {
          out.push({ ok: false, error });
        }
        // A row per command, not per transaction: every node must write the same rows, and
        // how a node's Readies group the entries differs from node to node.
        this.outboxBuffer.store(this.sql);
      }
      mark(this.sql);
      this.commit();
    } catch (err) {
      this.rollback();
      throw err;
    }
    for (const cmd of cmds) this.record?.(cmd);
    this.publish();
    this.tellRemovals(cmds);
    return out;
  }

  /** Replaces the whole database through `fn` (a Raft snapshot restore); caches are dropped. */
  replaceAll(fn: (sql: Sql) => void): void {
    fn(this.sql);
    this.forgetTransaction();
  }

  /**
   * Like submit, but the command does not start a transaction of its own: it joins the next
   * one another submit starts, or commits by itself after `maxDelayMs`. For bookkeeping whose
   * loss in a crash only repeats work (the outbox rows a target confirmed: at worst they are
   * published again, same ids), so it costs no WAL fsync of its own while writes are flowing.
   */
  submitLater<C extends Command>(cmd: C, maxDelayMs: number): Promise<ResultOf<C>> {
    if (this.replicate) return this.replicate(cmd) as Promise<ResultOf<C>>;
    return new Promise<ResultOf<C>>((resolve, reject) => {
      if (!this.sql.isOpen) return reject(new Error('the metadata store is closed'));
      this.queue.push({ cmd, resolve: resolve as (v: unknown) => void, reject });
      setTimeout(() => this.scheduleFlush(), maxDelayMs).unref();
    });
  }

  /** Commits what was already submitted, then closes; later submits are refused. */
  close(): void {
    if (!this.sql.isOpen) return;
    if (this.queue.length && !this.sessionOpen) this.flush();
    this.sql.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.sessionOpen) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Applies one command in a savepoint; its changes join `pending` only if it succeeds. */
  private applyOne<C extends Command>(cmd: C): ResultOf<C> {
    const mark = this.pending.length;
    const seqMark = this.eventSeq.mark();
    const outboxMark = this.outboxBuffer.mark();
    try {
      return this.sql.tx(() =>
        apply(this.sql, cmd, (change) => {
          countChange(this.sql, change);
          const stamp = 'event' in cmd ? cmd.event : undefined;
          if (stamp)
            writeOutbox(
              this.sql,
              this.eventTargets,
              this.knownEventTargets,
              change,
              stamp,
              this.outboxBuckets,
              () => this.eventSeq.next(this.sql),
              this.outboxBuffer,
            );
          if (
            change.type === 'credential.changed' ||
            change.type.startsWith('bucket.') ||
            change.type === 'tables.replaced'
          )
            this.invalidate();
          this.pending.push(change);
        }),
      );
    } catch (err) {
      this.pending.length = mark;
      this.eventSeq.rollbackTo(seqMark);
      this.outboxBuffer.rollbackTo(outboxMark);
      this.outboxBuckets.clear();
      throw err;
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.sessionOpen) return;
    const items = this.queue;
    this.queue = [];
    if (!items.length) return;
    if (!this.sql.isOpen) {
      for (const item of items) item.reject(new Error('the metadata store is closed'));
      return;
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.sql.exec('BEGIN IMMEDIATE');
      for (const item of items) {
        try {
          outcomes.push({ ok: true, value: this.applyOne(item.cmd) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      this.commit();
    } catch (err) {
      this.rollback();
      for (const item of items) item.reject(err);
      return;
    }
    // Recorded in applied order, and only once committed (a failed COMMIT applied nothing).
    if (this.record) for (const item of items) this.record(item.cmd);
    this.publish();
    if (this.removalListeners.size) this.tellRemovals(items.map((i) => i.cmd));
    items.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }

  /** Writes what the open transaction buffered (outbox rows, the event sequence), then COMMITs. */
  private commit(): void {
    this.outboxBuffer.store(this.sql);
    this.eventSeq.store(this.sql);
    this.sql.exec('COMMIT');
  }

  /** After a failure inside a transaction: ROLLBACK (if still open) and forget what it buffered. */
  private rollback(): void {
    if (this.sql.inTransaction) this.sql.exec('ROLLBACK');
    this.forgetTransaction();
  }

  private forgetTransaction(): void {
    this.eventSeq.reset();
    this.outboxBuffer.reset();
    this.pending = [];
    this.invalidate();
  }

  /** Also on every rollback and bucket change. */
  protected override invalidate(): void {
    super.invalidate();
    this.outboxBuckets.clear();
  }

  /**
   * After a COMMIT that removed outbox rows. In a cluster the removal may come from another
   * node's dispatcher (a new leader's), through the log: a sync-mode writer waiting here is
   * answered by it, not by its timeout.
   */
  private tellRemovals(cmds: readonly Command[]): void {
    if (!this.removalListeners.size || !cmds.some((c) => OUTBOX_REMOVALS.has(c.type))) return;
    for (const l of this.removalListeners) {
      try {
        l();
      } catch {
        // The removal is committed either way.
      }
    }
  }

  /** After every COMMIT. */
  private publish(): void {
    this.outboxBuckets.clear();
    // Before the change listeners: the dispatcher they wake finds the events in memory.
    if (this.outboxListeners.size) {
      const stored = this.outboxBuffer.takeStored();
      if (stored.length)
        for (const l of this.outboxListeners) {
          try {
            l(stored);
          } catch {
            // The events are committed either way; the dispatcher reads them from the table.
          }
        }
    } else this.outboxBuffer.reset();
    const changes = this.pending;
    this.pending = [];
    if (!changes.length) return;
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch {
        // A listener's failure is its own; the change is committed either way.
      }
    }
  }
}

/** The SQL connection behind a store, for the export/import modules of lib/metadata only. */
export function sqlOf(store: MetadataStore): Sql {
  return (store as unknown as { sql: Sql }).sql;
}
