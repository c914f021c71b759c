// The event outbox: inside the transaction of every change a request caused, one row per
// target the event goes to (the transactional-outbox pattern). A crash can then lose no event
// and announce none that did not commit; lib/events/dispatcher.ts delivers the rows.
// Routing (shared/specs/event-queues.md, issue #14): a bucket with a notification
// configuration sends each event to the targets its matching rules name; a bucket without
// one sends every event to the server-wide targets (`queue:` and `all_buckets: true`).
// Event names: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
import type { OutboxRow } from '../events/dispatcher.ts';
import type { BucketEvent, EventRoute } from '../events/event.ts';
import type { EventName } from '../events/names.ts';
import { type NotificationRule, routesFor } from '../events/notification-config.ts';
import type { Change } from './changes.ts';
import type { EventStamp } from './commands.ts';
import type { Row, Sql } from './connection.ts';

function nameOf(change: Change, stamp: EventStamp): EventName | undefined {
  switch (change.type) {
    case 'object.written':
      if (change.promoted) return undefined;
      return (stamp.name as EventName | undefined) ?? 's3:ObjectCreated:Put';
    case 'object.removed':
      if (stamp.name?.startsWith('s3:LifecycleExpiration:'))
        return change.marker ? 's3:LifecycleExpiration:DeleteMarkerCreated' : 's3:LifecycleExpiration:Delete';
      return change.marker ? 's3:ObjectRemoved:DeleteMarkerCreated' : 's3:ObjectRemoved:Delete';
    case 'object.acl':
      return 's3:ObjectAcl:Put';
    case 'object.tagged':
      return (stamp.name as EventName | undefined) ?? 's3:ObjectTagging:Put';
    case 'bucket.created':
      return 'bleepstore:BucketCreated';
    case 'bucket.deleted':
      return 'bleepstore:BucketRemoved';
    case 'bucket.acl':
      return 'bleepstore:BucketAcl:Put';
    default:
      return undefined;
  }
}

/**
 * An event as its outbox row keeps it: the fields by position, the bucket owner 0 when it is
 * the caller. Half the bytes of the BucketEvent object (no field names, one 64-character id
 * fewer), and every byte of the row is written twice on the writer's thread (its insert and,
 * once confirmed, its delete). Rows of older versions hold the BucketEvent object itself.
 */
type StoredEvent = [
  name: EventName,
  time: string,
  bucket: string,
  region: string,
  requestId: string,
  principal: string,
  bucketOwner: string | 0,
  sourceIp: string,
  key: string | null,
  size: number | null,
  etag: string | null,
  // Only on a versioned bucket's events; rows written before it have 11 fields.
  versionId?: string,
];

function fromStored(seq: number, v: StoredEvent): BucketEvent {
  const [name, time, bucket, region, requestId, principal, bucketOwner, sourceIp, key, size, etag, versionId] = v;
  const e: BucketEvent = {
    seq,
    name,
    time,
    bucket,
    region,
    requestId,
    principal,
    bucketOwner: bucketOwner === 0 ? principal : bucketOwner,
    sourceIp,
  };
  if (key !== null) e.key = key;
  if (size !== null) e.size = size;
  if (etag !== null) e.etag = etag;
  if (versionId !== undefined) e.versionId = versionId;
  return e;
}

/** A bucket's notification rules, or undefined when it has no configuration. */
export function bucketRules(sql: Sql, bucket: string): NotificationRule[] | undefined {
  const r = sql.q('SELECT rules FROM bucket_notifications WHERE bucket = ?').get(bucket) as Row | undefined;
  return r ? (JSON.parse(r.rules as string) as NotificationRule[]) : undefined;
}

/** What an event needs of its bucket, read once per bucket and transaction. */
export interface BucketEventInfo {
  rules: NotificationRule[] | undefined;
  owner: string | undefined;
}

/** One event of a stored outbox row: its sequence, the rule that routed it, the event. */
type StoredEntry = [seq: number, configId: string, event: StoredEvent];

/**
 * The outbox rows of the open transaction, kept in memory and written as one row per target
 * just before COMMIT (`store`): an INSERT per event and a DELETE per confirmed event were most
 * of what the outbox cost the writer (scripts/bench-outbox-cpu.ts). A row holds the events of
 * one transaction (of one command in cluster mode, where every node must write the same rows);
 * its key is its first event's sequence and `n` counts its events.
 */
export class OutboxBuffer {
  #entries: Array<{ target: string; entry: StoredEntry }> = [];
  /** The rows stored in the open transaction, for takeStored() after its COMMIT. */
  #stored: Array<{ target: string; seq: number; entries: StoredEntry[] }> = [];

  add(target: string, entry: StoredEntry): void {
    this.#entries.push({ target, entry });
  }

  /** Where a savepoint began, to go back to if it rolls back. */
  mark(): number {
    return this.#entries.length;
  }

  rollbackTo(mark: number): void {
    this.#entries.length = mark;
  }

  /** Inside the transaction: one row per target for what was added since the last store. */
  store(tx: Sql): void {
    if (!this.#entries.length) return;
    const byTarget = new Map<string, StoredEntry[]>();
    for (const { target, entry } of this.#entries) {
      const list = byTarget.get(target);
      if (list) list.push(entry);
      else byTarget.set(target, [entry]);
    }
    this.#entries = [];
    for (const [target, entries] of byTarget) {
      tx.q('INSERT INTO event_outbox (target, seq, config_id, event, n) VALUES (?, ?, ?, ?, ?)').run(
        target,
        entries[0]![0],
        '',
        JSON.stringify(entries),
        entries.length,
      );
      this.#stored.push({ target, seq: entries[0]![0], entries });
    }
  }

  /** After a COMMIT: the events it stored, by row, as the outbox reads them back. */
  takeStored(): OutboxRow[] {
    const rows: OutboxRow[] = [];
    for (const { target, seq, entries } of this.#stored)
      for (const [s, configurationId, e] of entries)
        rows.push({ seq: s, rowSeq: seq, target, configurationId, event: fromStored(s, e) });
    this.#stored = [];
    return rows;
  }

  /** After a ROLLBACK. */
  reset(): void {
    this.#entries = [];
    this.#stored = [];
  }
}

/**
 * The events of one stored outbox row: a row of this version (an array of StoredEntry, key
 * `seq` = its first event's), or of an older one (one event, as a StoredEvent or as the
 * BucketEvent object, routed by the row's `config_id`).
 */
export function decodeRow(
  seq: number,
  configId: string,
  stored: string,
): Array<{ configurationId: string; event: BucketEvent }> {
  const v = JSON.parse(stored) as StoredEntry[] | StoredEvent | BucketEvent;
  if (Array.isArray(v) && Array.isArray(v[0]))
    return (v as StoredEntry[]).map(([s, c, e]) => ({ configurationId: c, event: fromStored(s, e) }));
  return [
    { configurationId: configId, event: Array.isArray(v) ? fromStored(seq, v as StoredEvent) : (v as BucketEvent) },
  ];
}

/**
 * Adds the outbox entries of one change to `out`: to the bucket's matching rules' targets
 * (those still `known`) when it has a notification configuration, else to `serverWide`.
 * `buckets` caches the bucket's rules and owner; the caller clears it when a transaction or
 * savepoint ends and on every bucket change, so it never outlives what it read. `nextSeq`
 * numbers the event (the caller stores the last number once per transaction: see EventSeq).
 */
export function writeOutbox(
  tx: Sql,
  serverWide: readonly string[],
  known: ReadonlySet<string>,
  change: Change,
  stamp: EventStamp,
  buckets: Map<string, BucketEventInfo>,
  nextSeq: () => number,
  out: OutboxBuffer,
): void {
  const name = nameOf(change, stamp);
  if (!name || !('bucket' in change)) return;
  const key = 'key' in change ? change.key : undefined;
  let info = buckets.get(change.bucket);
  if (!info) {
    const owner = tx.q('SELECT owner_id FROM buckets WHERE name = ?').get(change.bucket) as Row | undefined;
    info = { rules: bucketRules(tx, change.bucket), owner: owner?.owner_id as string | undefined };
    buckets.set(change.bucket, info);
  }
  const rules = info.rules;
  // A rule may name a target removed from the config since: no loop would ever drain it.
  const routes: EventRoute[] = rules
    ? routesFor(rules, name, key).filter((r) => known.has(r.target))
    : serverWide.map((target) => ({ target, configurationId: '' }));
  if (!routes.length) return;
  const seq = nextSeq();
  const size = change.type === 'object.written' || change.type === 'object.removed' ? change.size : null;
  const etag =
    change.type === 'object.written' || change.type === 'object.tagged' ? change.etag.replace(/^"|"$/g, '') : null;
  const owner = info.owner ?? stamp.principal;
  const event: StoredEvent = [
    name,
    stamp.at,
    change.bucket,
    stamp.region,
    stamp.requestId,
    stamp.principal,
    owner === stamp.principal ? 0 : owner,
    stamp.sourceIp,
    key ?? null,
    size,
    etag,
  ];
  const versionId =
    change.type === 'object.written' || change.type === 'object.removed' || change.type === 'object.tagged'
      ? change.versionId
      : undefined;
  if (versionId !== undefined) event.push(versionId);
  for (const r of routes) out.add(r.target, [seq, r.configurationId, event]);
}

/**
 * The event sequence of one transaction, kept in memory and written to `event_seq` once before
 * its COMMIT: an UPDATE per event cost the writer's thread ~4 of the ~11 µs the outbox adds to
 * a PUT (scripts/bench-outbox-cpu.ts), the row's page being journalled again in every command's
 * savepoint. Read afresh in each transaction, so it never outlives a rollback or a restore.
 */
export class EventSeq {
  #last: number | undefined;
  #dirty = false;

  next(tx: Sql): number {
    this.#last ??= (tx.q('SELECT last FROM event_seq WHERE id = 1').get() as Row).last as number;
    this.#dirty = true;
    return ++this.#last;
  }

  /** Where a savepoint began, to go back to if it rolls back. */
  mark(): number | undefined {
    return this.#dirty ? this.#last : undefined;
  }

  rollbackTo(mark: number | undefined): void {
    if (mark === undefined) this.reset();
    else this.#last = mark;
  }

  /** Inside the transaction, just before its COMMIT. */
  store(tx: Sql): void {
    if (this.#dirty) tx.q('UPDATE event_seq SET last = ? WHERE id = 1').run(this.#last!);
    this.reset();
  }

  /** After a COMMIT or ROLLBACK. */
  reset(): void {
    this.#last = undefined;
    this.#dirty = false;
  }
}
