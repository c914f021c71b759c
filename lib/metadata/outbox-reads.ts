// The event outbox's reads, over any connection to the metadata database: the store's own, or
// the read-only one the dispatcher's worker thread opens (lib/events/dispatch-worker.ts) so
// reading and decoding the rows costs the server's event loop nothing. WAL mode lets that
// second connection read committed rows while the writer carries on
// (https://www.sqlite.org/wal.html, "Concurrency").
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { OutboxRow } from '../events/dispatcher.ts';
import { decodeEvent } from './outbox.ts';

export class OutboxReads {
  readonly #pending: StatementSync;
  readonly #oldest: StatementSync;
  readonly #depth: StatementSync;
  readonly #event: StatementSync;

  constructor(db: DatabaseSync) {
    this.#pending = db.prepare('SELECT seq, config_id, event FROM event_outbox WHERE target = ? ORDER BY seq LIMIT ?');
    this.#oldest = db.prepare('SELECT MIN(seq) AS s FROM event_outbox WHERE target = ?');
    this.#depth = db.prepare('SELECT COUNT(*) AS n, MIN(seq) AS s FROM event_outbox WHERE target = ?');
    this.#event = db.prepare('SELECT event FROM event_outbox WHERE target = ? AND seq = ?');
  }

  /** The oldest undelivered rows of one target, by sequence. */
  pending(target: string, limit: number): OutboxRow[] {
    return (this.#pending.all(target, limit) as Array<{ seq: number; config_id: string; event: string }>).map(
      (r): OutboxRow => ({
        seq: r.seq,
        target,
        configurationId: r.config_id,
        event: decodeEvent(r.seq, r.event),
      }),
    );
  }

  oldestSeq(target: string): number | null {
    return ((this.#oldest.get(target) as { s: number | null }).s as number | null) ?? null;
  }

  depth(target: string): { rows: number; oldestSeq: number | null; oldestTime: string | null } {
    const r = this.#depth.get(target) as { n: number; s: number | null };
    const first = r.s === null ? undefined : (this.#event.get(target, r.s) as { event: string } | undefined);
    return {
      rows: r.n,
      oldestSeq: r.s,
      oldestTime: first ? decodeEvent(r.s!, first.event).time : null,
    };
  }
}

/** A read-only connection for another thread; the writer's connection made the file WAL. */
export function openOutboxReader(file: string): { reads: OutboxReads; close(): void } {
  const db = new DatabaseSync(file, { readOnly: true });
  db.exec('PRAGMA busy_timeout = 5000');
  return { reads: new OutboxReads(db), close: () => db.close() };
}
