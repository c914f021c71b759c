// The `events` section (named targets, per-bucket rules choose among them) and the spec's
// `queue` section (one server-wide target for every event, shared/specs/event-queues.md),
// validated into one list of targets. Errors are one sentence naming the key.
import { ConfigError } from '../config-error.ts';
import type { EventFormat } from './format.ts';

export type TargetType = 'redis' | 'rabbitmq' | 'kafka' | 'webhook';
export type Consistency = 'write-through' | 'sync' | 'async';

export interface TargetConfig {
  name: string;
  type: TargetType;
  format: EventFormat;
  /**
   * Server-wide: every event of every bucket without its own notification configuration goes
   * here (the spec's `queue:` target is one). Otherwise only bucket rules naming it send here.
   */
  all_buckets: boolean;
  url: string;
  timeout_ms: number;
  redis: { stream: string; consumer_group: string; max_len: number };
  rabbitmq: { exchange: string; exchange_type: 'topic' | 'direct' | 'fanout'; queue: string };
  kafka: { brokers: string[]; topic: string; topic_per_type: boolean };
  webhook: { secret: string };
}

export interface EventsConfig {
  source: string;
  consistency: Consistency;
  sync_timeout_ms: number;
  max_pending: number;
  /** Async mode: write tasks accepted (202) but not yet applied; beyond it PUTs get 503 SlowDown. */
  max_tasks: number;
  batch_size: number;
  /** After a short batch, ms a target's loop waits for more events before the next publish. */
  linger_ms: number;
  /** Where the dispatcher runs: the main thread (default: least CPU in total; on 2 cores
   *  it measured 1.22x/1.32x of no-target CPU per PUT for Redis/RabbitMQ against 1.33x/1.42x
   *  on a worker) or a worker thread (takes ~40% of the events' cost off the S3 event loop,
   *  which pays where a core is spare). */
  dispatcher: 'worker' | 'main';
  targets: TargetConfig[];
}

export function defaultEventsConfig(): EventsConfig {
  return {
    source: '',
    consistency: 'write-through',
    sync_timeout_ms: 10_000,
    max_pending: 1_000_000,
    max_tasks: 10_000,
    batch_size: 100,
    linger_ms: 10,
    dispatcher: 'main',
    targets: [],
  };
}

type Raw = Record<string, unknown>;

function isMap(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  readonly raw: Raw;
  readonly key: string;
  readonly from: string;
  constructor(raw: Raw, key: string, from: string) {
    this.raw = raw;
    this.key = key;
    this.from = from;
  }
  fail(k: string, what: string): never {
    throw new ConfigError(`Config key "${this.key}.${k}" in ${this.from} ${what}.`);
  }
  only(allowed: string[]): void {
    for (const k of Object.keys(this.raw))
      if (!allowed.includes(k)) throw new ConfigError(`Unknown config key "${this.key}.${k}" in ${this.from}.`);
  }
  str(k: string, dflt: string): string {
    const v = this.raw[k];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string' && typeof v !== 'number') this.fail(k, `must be a string (got ${JSON.stringify(v)})`);
    return String(v);
  }
  int(k: string, dflt: number, min: number): number {
    const v = this.raw[k];
    if (v === undefined || v === null) return dflt;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min)
      this.fail(k, `must be an integer of at least ${min} (got ${JSON.stringify(v)})`);
    return n;
  }
  bool(k: string, dflt: boolean): boolean {
    const v = this.raw[k];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.fail(k, `must be true or false (got ${JSON.stringify(v)})`);
    return v;
  }
  oneOf<T extends string>(k: string, options: readonly T[], dflt: T): T {
    const v = this.str(k, dflt);
    if (!options.includes(v as T)) this.fail(k, `must be one of ${options.join(', ')} (got ${JSON.stringify(v)})`);
    return v as T;
  }
  sub(k: string): Reader {
    const v = this.raw[k] ?? {};
    if (!isMap(v)) this.fail(k, 'must be a mapping');
    return new Reader(v, `${this.key}.${k}`, this.from);
  }
  list(k: string): string[] {
    const v = this.raw[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.fail(k, 'must be a list of strings');
    return v as string[];
  }
}

const TYPES = ['redis', 'rabbitmq', 'kafka', 'webhook'] as const;

function target(
  r: Reader,
  name: string,
  type: TargetType,
  format: EventFormat,
  allBuckets: boolean,
  url: string,
): TargetConfig {
  const sub = r.sub(type);
  const t: TargetConfig = {
    name,
    type,
    format,
    all_buckets: allBuckets,
    url,
    timeout_ms: r.int('timeout_ms', 5000, 100),
    redis: { stream: 'bleepstore:events', consumer_group: 'bleepstore-workers', max_len: 1_000_000 },
    rabbitmq: { exchange: 'bleepstore', exchange_type: 'topic', queue: 'bleepstore.events' },
    kafka: { brokers: [], topic: 'bleepstore', topic_per_type: true },
    webhook: { secret: '' },
  };
  if (type === 'redis') {
    sub.only(['stream', 'consumer_group', 'max_len']);
    t.redis = {
      stream: sub.str('stream', t.redis.stream),
      consumer_group: sub.str('consumer_group', t.redis.consumer_group),
      max_len: sub.int('max_len', t.redis.max_len, 0),
    };
  } else if (type === 'rabbitmq') {
    sub.only(['exchange', 'exchange_type', 'queue']);
    t.rabbitmq = {
      exchange: sub.str('exchange', t.rabbitmq.exchange),
      exchange_type: sub.oneOf('exchange_type', ['topic', 'direct', 'fanout'] as const, 'topic'),
      queue: sub.str('queue', t.rabbitmq.queue),
    };
  } else if (type === 'kafka') {
    sub.only(['brokers', 'topic', 'topic_per_type']);
    t.kafka = {
      brokers: sub.list('brokers'),
      topic: sub.str('topic', t.kafka.topic),
      topic_per_type: sub.bool('topic_per_type', true),
    };
    if (!t.kafka.brokers.length) sub.fail('brokers', 'must list at least one broker');
  } else {
    sub.only(['secret']);
    t.webhook = { secret: sub.str('secret', '') };
  }
  if (type !== 'kafka' && !url) r.fail('url', `must be set for a ${type} target`);
  return t;
}

/** `events:` and `queue:` from YAML or code; either may be undefined. */
export function parseEventsConfig(rawEvents: unknown, rawQueue: unknown, from: string): EventsConfig {
  const c = defaultEventsConfig();
  if (rawEvents !== undefined && rawEvents !== null) {
    if (!isMap(rawEvents)) throw new ConfigError(`Config key "events" in ${from} must be a mapping.`);
    const r = new Reader(rawEvents, 'events', from);
    r.only([
      'source',
      'consistency',
      'sync_timeout_ms',
      'max_pending',
      'max_tasks',
      'batch_size',
      'linger_ms',
      'dispatcher',
      'targets',
    ]);
    c.source = r.str('source', '');
    c.consistency = r.oneOf('consistency', ['write-through', 'sync', 'async'] as const, 'write-through');
    c.sync_timeout_ms = r.int('sync_timeout_ms', c.sync_timeout_ms, 1);
    c.max_pending = r.int('max_pending', c.max_pending, 1);
    c.max_tasks = r.int('max_tasks', c.max_tasks, 1);
    c.batch_size = r.int('batch_size', c.batch_size, 1);
    c.linger_ms = r.int('linger_ms', c.linger_ms, 0);
    c.dispatcher = r.oneOf('dispatcher', ['worker', 'main'] as const, c.dispatcher);
    const list: unknown = rawEvents.targets ?? [];
    if (!Array.isArray(list)) r.fail('targets', 'must be a list');
    (list as unknown[]).forEach((raw: unknown, i: number) => {
      if (!isMap(raw)) throw new ConfigError(`Config key "events.targets[${i}]" in ${from} must be a mapping.`);
      const t = new Reader(raw, `events.targets[${i}]`, from);
      t.only(['name', 'type', 'format', 'all_buckets', 'url', 'timeout_ms', ...TYPES]);
      const name = t.str('name', '');
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) t.fail('name', 'must be 1 to 64 letters, digits, "_", "." or "-"');
      if (c.targets.some((x) => x.name === name)) t.fail('name', `repeats the target name "${name}"`);
      const type = t.oneOf('type', TYPES, 'redis');
      c.targets.push(
        target(
          t,
          name,
          type,
          t.oneOf('format', ['aws', 'bleepstore'] as const, 'aws'),
          t.bool('all_buckets', false),
          t.str('url', ''),
        ),
      );
    });
  }
  if (rawQueue !== undefined && rawQueue !== null) {
    if (!isMap(rawQueue)) throw new ConfigError(`Config key "queue" in ${from} must be a mapping.`);
    const q = new Reader(rawQueue, 'queue', from);
    q.only(['enabled', 'backend', 'consistency', ...TYPES]);
    if (q.bool('enabled', false)) {
      c.consistency = q.oneOf('consistency', ['write-through', 'sync', 'async'] as const, 'write-through');
      const backend = q.oneOf('backend', ['redis', 'rabbitmq', 'kafka'] as const, 'redis');
      const sub = q.sub(backend);
      // The spec's per-backend keys, mapped onto a target.
      const raw: Raw = { ...sub.raw };
      const url = typeof raw.url === 'string' ? raw.url : '';
      const mapped: Raw = {};
      if (backend === 'redis') {
        mapped.stream = `${raw.stream_prefix ?? 'bleepstore'}:events`;
        if (raw.consumer_group !== undefined) mapped.consumer_group = raw.consumer_group;
      } else if (backend === 'rabbitmq') {
        if (raw.exchange !== undefined) mapped.exchange = raw.exchange;
        if (raw.exchange_type !== undefined) mapped.exchange_type = raw.exchange_type;
        mapped.queue = `${raw.queue_prefix ?? 'bleepstore'}.events`;
      } else {
        mapped.brokers = raw.brokers;
        mapped.topic = raw.topic_prefix ?? 'bleepstore';
      }
      const r = new Reader({ [backend]: mapped }, 'queue', from);
      if (c.targets.some((x) => x.name === backend))
        q.fail('backend', `names a target "${backend}" that events.targets already defines`);
      if (backend !== 'kafka' && !url) sub.fail('url', 'must be set');
      c.targets.push(target(r, backend, backend, 'bleepstore', true, url));
    }
  }
  return c;
}
