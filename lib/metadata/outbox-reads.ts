// The event outbox's reads, over any connection to the metadata database: the store's own, or
// the read-only one the dispatcher's worker thread opens (lib/events/dispatch-worker.ts) so
// reading and decoding the rows costs the server's event loop nothing. WAL mode lets that
// second connection read committed rows while the writer carries on
// (https://www.sqlite.org/wal.html, "Concurrency").
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { OutboxRow } from '../events/dispatcher.ts';
import { decodeRow } from './outbox.ts';

export class OutboxReads {
  readonly #pending: StatementSync;
  readonly #oldest: StatementSync;
  readonly #depth: StatementSync;
  readonly #event: StatementSync;

  constructor(db: DatabaseSync) {
    this.#pending = db.prepare('SELECT seq, config_id, event FROM event_outbox WHERE target = ? ORDER BY seq LIMIT ?');
    this.#oldest = db.prepare('SELECT MIN(seq) AS s FROM event_outbox WHERE target = ?');
    this.#depth = db.prepare('SELECT SUM(n) AS n, MIN(seq) AS s FROM event_outbox WHERE target = ?');
    this.#event = db.prepare('SELECT config_id, event FROM event_outbox WHERE target = ? AND seq = ?');
  }

  /**
   * The oldest undelivered events of one target, by sequence: whole stored rows (a row goes
   * only as a whole) until at least `limit` events, or all there are.
   */
  pending(target: string, limit: number): OutboxRow[] {
    const out: OutboxRow[] = [];
    // `limit` rows hold at least `limit` events; the statement is read to its end (all()), so
    // it never keeps a read snapshot of the WAL open.
    for (const r of this.#pending.all(target, limit) as Array<{ seq: number; config_id: string; event: string }>) {
      for (const e of decodeRow(r.seq, r.config_id, r.event))
        out.push({ seq: e.event.seq, rowSeq: r.seq, target, configurationId: e.configurationId, event: e.event });
      if (out.length >= limit) break;
    }
    return out;
  }

  oldestSeq(target: string): number | null {
    return ((this.#oldest.get(target) as { s: number | null }).s as number | null) ?? null;
  }

  depth(target: string): { rows: number; oldestSeq: number | null; oldestTime: string | null } {
    const r = this.#depth.get(target) as { n: number | null; s: number | null };
    const first =
      r.s === null ? undefined : (this.#event.get(target, r.s) as { config_id: string; event: string } | undefined);
    return {
      rows: r.n ?? 0,
      oldestSeq: r.s,
      oldestTime: first ? decodeRow(r.s!, first.config_id, first.event)[0]!.event.time : null,
    };
  }
}

/** A read-only connection for another thread; the writer's connection made the file WAL. */
export function openOutboxReader(file: string): { reads: OutboxReads; close(): void } {
  const db = new DatabaseSync(file, { readOnly: true });
  db.exec('PRAGMA busy_timeout = 5000');
  return { reads: new OutboxReads(db), close: () => db.close() };
}
