// The metadata database as the Raft state machine (paper §5.3): every node applies the same
// committed commands in log order, a Ready's worth in one transaction together with the last
// log index, so after a crash a node knows exactly which entries its database reflects.
// Log compaction copies nothing: the database, synced at the applied index, is the snapshot
// (persist). A snapshot to send is a VACUUM INTO copy made on a worker thread (copyTo);
// restoring one replaces every table's rows from it in one transaction.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Entry } from './raft/index.ts';
import type { StateMachine } from './node.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';
import { sqlOf } from '../metadata/sqlite.ts';
import type { Command } from '../metadata/commands.ts';
import type { Sql } from '../metadata/connection.ts';
import { copyDatabase } from './snapshot-copy.ts';
import { decodeCommand } from './command-codec.ts';

export type ApplyOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class MetadataStateMachine implements StateMachine {
  private readonly store: MetadataStore;
  private readonly scratch: string;
  /** Called after each applied command (on every node), e.g. to remove a collected blob. */
  onApplied: ((cmd: Command) => void) | undefined;
  /** Called after a snapshot replaced the whole database. */
  onRestored: (() => void) | undefined;

  constructor(store: MetadataStore, scratchDir = tmpdir()) {
    this.store = store;
    this.scratch = scratchDir;
    // The Raft log is the durable record (fsynced before anything is acknowledged): a commit
    // here needs no fsync of its own. After a power loss the database may be a few
    // transactions behind, together with its raft_applied row, and the log replays them.
    sqlOf(store).exec('PRAGMA synchronous = NORMAL');
    sqlOf(store).exec(
      'CREATE TABLE IF NOT EXISTS raft_applied (id INTEGER PRIMARY KEY CHECK (id = 1), log_index INTEGER NOT NULL)',
    );
  }

  applied(): number {
    const r = sqlOf(this.store).q('SELECT log_index FROM raft_applied WHERE id = 1').get() as
      | { log_index: number }
      | undefined;
    return r?.log_index ?? 0;
  }

  /** Declares the database as it is to be the state at `index` (a promoted single-node
   *  store whose snapshot at that index is a copy of it). Synced, unlike applied commands:
   *  no log entry replays it after a power loss. */
  adopt(index: number): void {
    this.store.replaceAll((sql) => synced(sql, () => mark(sql, index)));
  }

  /** Makes everything applied durable (one WAL fsync covers every earlier commit) as the
   *  state at `index`: the Raft log up to it may then be compacted away with no copy. */
  persist(index: number): void {
    const sql = sqlOf(this.store);
    synced(sql, () => mark(sql, index));
  }

  /** Writes a consistent copy of the database to `file` off the event loop; resolves with
   *  the applied index the copy reflects (its own raft_applied row: each Ready's commands
   *  commit together with it). */
  async copyTo(file: string): Promise<number> {
    const src = sqlOf(this.store).db.location();
    if (!src) throw new Error('an in-memory metadata database cannot be copied to a file');
    await copyDatabase(src, file);
    const copy = new DatabaseSync(file, { readOnly: true });
    try {
      const r = copy.prepare('SELECT log_index FROM raft_applied WHERE id = 1').get() as
        | { log_index: number }
        | undefined;
      return r?.log_index ?? 0;
    } finally {
      copy.close();
    }
  }

  apply(entry: Entry): ApplyOutcome {
    return this.applyAll([entry])[0]!;
  }

  /** The committed entries of one Ready in one transaction, marked with the last index. */
  applyAll(entries: readonly Entry[]): ApplyOutcome[] {
    const cmds = entries.map((e) => decodeCommand(e.data));
    const out = this.store.applyCommitted(cmds, (sql) => mark(sql, entries[entries.length - 1]!.index));
    for (const cmd of cmds) this.onApplied?.(cmd);
    return out;
  }

  snapshot(): Uint8Array {
    const file = join(this.scratch, `bleepstore-snap-${randomUUID()}.db`);
    try {
      sqlOf(this.store).db.prepare('VACUUM INTO ?').run(file);
      return readFileSync(file);
    } finally {
      rmSync(file, { force: true });
    }
  }

  restore(data: Uint8Array, index: number): void {
    const file = join(this.scratch, `bleepstore-restore-${randomUUID()}.db`);
    writeFileSync(file, data);
    try {
      this.restoreFile(file, index);
    } finally {
      rmSync(file, { force: true });
    }
  }

  restoreFile(file: string, index: number): void {
    this.store.replaceAll((sql) => {
      sql.db.prepare('ATTACH DATABASE ? AS snap').run(file);
      try {
        const names = tables(sql, 'snap');
        const mine = new Set(tables(sql, 'main'));
        sql.exec('PRAGMA foreign_keys = OFF');
        try {
          immediate(sql, () => {
            for (const t of mine) sql.exec(`DELETE FROM main."${t}"`);
            for (const t of names) if (mine.has(t)) sql.exec(`INSERT INTO main."${t}" SELECT * FROM snap."${t}"`);
            mark(sql, index);
          });
        } finally {
          sql.exec('PRAGMA foreign_keys = ON');
        }
      } finally {
        sql.exec('DETACH DATABASE snap');
      }
    });
    this.onRestored?.();
  }
}

function mark(sql: Sql, index: number): void {
  sql
    .q(
      'INSERT INTO raft_applied (id, log_index) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET log_index = excluded.log_index',
    )
    .run(index);
}

/** Runs `fn` in one transaction whose COMMIT fsyncs the WAL. */
function synced(sql: Sql, fn: () => void): void {
  sql.exec('PRAGMA synchronous = FULL');
  try {
    immediate(sql, fn);
  } finally {
    sql.exec('PRAGMA synchronous = NORMAL');
  }
}

/** Runs `fn` in one BEGIN IMMEDIATE … COMMIT, rolled back if it throws. */
function immediate(sql: Sql, fn: () => void): void {
  sql.exec('BEGIN IMMEDIATE');
  try {
    fn();
    sql.exec('COMMIT');
  } catch (err) {
    if (sql.inTransaction) sql.exec('ROLLBACK');
    throw err;
  }
}

/** The user tables of an attached schema ('main' or 'snap'). */
function tables(sql: Sql, schema: 'main' | 'snap'): string[] {
  return (
    sql.db
      .prepare(`SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
      .all() as Array<{ name: string }>
  ).map((r) => r.name);
}
