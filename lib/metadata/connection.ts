// The SQLite connection and its statement cache: the only holder of a DatabaseSync. Nothing
// outside lib/metadata/ sees it; writes reach it through apply() (commands.ts), reads through
// reads.ts.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Durability } from '../config.ts';
import { MIGRATIONS } from './schema.ts';

export type Row = Record<string, unknown>;

const SYNC_MODE: Record<Durability, string> = { full: 'FULL', normal: 'NORMAL', off: 'OFF' };
/** The page cache's bound, in KiB. */
export const PAGE_CACHE_KIB = 8192;

export class Sql {
  readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();
  private readonly arrayStmts = new Map<string, StatementSync>();
  private savepoints = 0;

  constructor(file: string, durability: Durability) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new DatabaseSync(file);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec(`PRAGMA synchronous = ${SYNC_MODE[durability]}`);
    this.db.exec('PRAGMA foreign_keys = ON');
    this.db.exec('PRAGMA busy_timeout = 5000');
    // Each command of a group commit runs in a savepoint, so SQLite keeps the original of every
    // page a savepoint re-dirties in a sub-journal; past 64 KiB that spills to a temp file
    // (https://www.sqlite.org/tempfiles.html, "Statement Journal Files"): thousands of pwrite
    // calls per second once the event outbox adds pages to each commit. In memory, bounded by
    // the pages of one transaction.
    this.db.exec('PRAGMA temp_store = MEMORY');
    // Pages are read into SQLite's own cache, bounded at 8 MiB, through no memory map
    // (https://www.sqlite.org/pragma.html#pragma_mmap_size): every page touched through a map
    // stays in the process's RSS, so the 64 MiB map there was added up to 64 MiB to it, and
    // small GETs measured no faster with it (STATUS.md, "Performance (issue #17)", RSS).
    this.db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`);
    this.db.exec('PRAGMA mmap_size = 0');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as Row;
    const current = (row.v as number | null) ?? 0;
    MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (version <= current) return;
      this.tx(() => {
        this.db.exec(sql);
        this.db
          .prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)')
          .run(version, new Date().toISOString());
      });
    });
  }

  /** Cached prepared statement. */
  q(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Cached prepared statement whose rows come back as arrays of column values, in order. */
  qa(sql: string): StatementSync {
    let s = this.arrayStmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      s.setReturnArrays(true);
      this.arrayStmts.set(sql, s);
    }
    return s;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  get inTransaction(): boolean {
    return this.db.isOpen && this.db.isTransaction;
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  /**
   * Runs fn atomically: its own IMMEDIATE transaction, or a savepoint when a transaction is
   * already open, so changes compose. Rolls back on any throw.
   */
  tx<T>(fn: () => T): T {
    const nested = this.db.isTransaction;
    const name = `tx${++this.savepoints}`;
    this.db.exec(nested ? `SAVEPOINT ${name}` : 'BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec(nested ? `RELEASE ${name}` : 'COMMIT');
      return out;
    } catch (err) {
      if (nested) {
        this.db.exec(`ROLLBACK TO ${name}`);
        this.db.exec(`RELEASE ${name}`);
      } else if (this.db.isTransaction) {
        this.db.exec('ROLLBACK');
      }
      throw err;
    } finally {
      this.savepoints--;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
