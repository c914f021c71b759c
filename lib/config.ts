// Configuration: defaults < YAML file < BLEEPSTORE_* environment < command-line flags.
// The shape mirrors bleepstore.example.yaml so a YAML file maps onto it key for key.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { ConfigError } from './config-error.ts';
import { defaultEventsConfig, parseEventsConfig, type EventsConfig } from './events/config.ts';
import { defaultClusterConfig, parsePeers, validateCluster, type ClusterConfig } from './cluster/config.ts';

/** yaml is loaded only when a config file is read: an embedder who never reads one never pays for it. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof Yaml).parse(text);
}

export type Durability = 'full' | 'normal' | 'off';
export type StorageKind = 'local' | 'memory' | 'sqlite' | 'aws' | 'azure' | 'gcp';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'json' | 'text';

export interface Config {
  server: {
    host: string;
    port: number;
    region: string;
    domain: string;
    max_header_bytes: number;
    request_timeout_seconds: number;
    /** A connection must finish sending request headers within this time, or it is closed. */
    headers_timeout_seconds: number;
    /** Open client connections at most; 0 derives it from the open-file limit (RLIMIT_NOFILE). */
    max_connections: number;
    /** Threads that accept and serve S3 requests (1: the main thread alone); see docs/many-cores.md. */
    workers: number;
    /** Cluster mode: the admin API's port (0: off) and its bearer token. */
    admin_port: number;
    admin_token: string;
  };
  auth: {
    access_key: string;
    secret_key: string;
    owner_id: string;
    display_name: string;
    /** False: the key is seeded only into a database that has no key at all. */
    seed: boolean;
    /** Accept AWS Signature Version 2 (header, presigned query, POST policy) from older tools. */
    sigv2: boolean;
  };
  data_dir: string;
  metadata: { engine: 'sqlite'; sqlite: { path: string } };
  storage: {
    backend: StorageKind;
    local: { root_dir: string; quarantine_max_age_seconds: number };
    memory: { max_size_bytes: number };
    aws: {
      bucket: string;
      region: string;
      prefix: string;
      endpoint_url: string;
      use_path_style: boolean;
      access_key_id: string;
      secret_access_key: string;
    };
    azure: {
      container: string;
      account: string;
      prefix: string;
      connection_string: string;
      account_key: string;
      endpoint_url: string;
      use_managed_identity: boolean;
    };
    gcp: { bucket: string; project: string; prefix: string; credentials_file: string; endpoint_url: string };
    /** Where gateway backends stage verified bodies before uploading them. */
    staging_dir: string;
    /** Objects up to this size live in their metadata row instead of a blob (0 turns it off). */
    inline_max_bytes: number;
    /** New object data is refused (503) when it would leave less free space than this; the rest stays for metadata (0 turns it off). */
    min_free_bytes: number;
  };
  durability: Durability;
  multipart: { upload_ttl_seconds: number; reap_interval_seconds: number };
  /**
   * Bucket lifecycle rules run with every upload reap (multipart.reap_interval_seconds);
   * day_seconds is how long a lifecycle "day" is (86400; shorter only for tests).
   */
  lifecycle: { day_seconds: number };
  logging: { level: LogLevel; format: LogFormat };
  observability: { metrics: boolean; health_check: boolean; openapi: boolean; docs: boolean; ui: boolean };
  cluster: ClusterConfig;
  /** Event targets (`events:` and the spec's `queue:` section), see lib/events/config.ts. */
  events: EventsConfig;
}

/** A partial config at any depth, as read from YAML, env or flags. */
export type ConfigInput = {
  [K in keyof Config]?: Config[K] extends object
    ? { [J in keyof Config[K]]?: Config[K][J] extends object ? Partial<Config[K][J]> : Config[K][J] }
    : Config[K];
};

export { ConfigError };

export function defaultConfig(): Config {
  return {
    server: {
      host: '127.0.0.1',
      port: 9010,
      region: 'us-east-1',
      domain: '',
      max_header_bytes: 16 * 1024,
      request_timeout_seconds: 300,
      headers_timeout_seconds: 10,
      max_connections: 0,
      workers: 1,
      admin_port: 0,
      admin_token: '',
    },
    auth: {
      access_key: 'bleepstore',
      secret_key: 'bleepstore-secret',
      owner_id: '',
      display_name: '',
      seed: true,
      sigv2: true,
    },
    data_dir: './data',
    metadata: { engine: 'sqlite', sqlite: { path: '' } },
    storage: {
      backend: 'local',
      local: { root_dir: '', quarantine_max_age_seconds: 7 * 86400 },
      memory: { max_size_bytes: 0 },
      aws: {
        bucket: '',
        region: 'us-east-1',
        prefix: '',
        endpoint_url: '',
        use_path_style: false,
        access_key_id: '',
        secret_access_key: '',
      },
      azure: {
        container: '',
        account: '',
        prefix: '',
        connection_string: '',
        account_key: '',
        endpoint_url: '',
        use_managed_identity: false,
      },
      gcp: { bucket: '', project: '', prefix: '', credentials_file: '', endpoint_url: '' },
      staging_dir: '',
      inline_max_bytes: 64 * 1024,
      min_free_bytes: 64 * 1024 * 1024,
    },
    durability: 'full',
    multipart: { upload_ttl_seconds: 7 * 24 * 3600, reap_interval_seconds: 3600 },
    lifecycle: { day_seconds: 86_400 },
    logging: { level: 'info', format: 'json' },
    observability: { metrics: true, health_check: true, openapi: true, docs: true, ui: true },
    cluster: defaultClusterConfig(),
    events: defaultEventsConfig(),
  };
}

type Kind = 'string' | 'int' | 'bool' | 'peers' | readonly string[];
/** Every settable leaf key, its type, and (for numbers) its range. */
const LEAVES: Record<string, { kind: Kind; min?: number; max?: number; env?: string }> = {
  'server.host': { kind: 'string', env: 'BLEEPSTORE_HOST' },
  'server.port': { kind: 'int', min: 0, max: 65535, env: 'BLEEPSTORE_PORT' },
  'server.admin_port': { kind: 'int', min: 0, max: 65535 },
  'server.admin_token': { kind: 'string', env: 'BLEEPSTORE_ADMIN_TOKEN' },
  'server.region': { kind: 'string', env: 'BLEEPSTORE_REGION' },
  'server.domain': { kind: 'string', env: 'BLEEPSTORE_DOMAIN' },
  'server.max_header_bytes': { kind: 'int', min: 1024, max: 1024 * 1024 },
  'server.request_timeout_seconds': { kind: 'int', min: 1, max: 86400 },
  'server.headers_timeout_seconds': { kind: 'int', min: 1, max: 3600 },
  'server.max_connections': { kind: 'int', min: 0 },
  'server.workers': { kind: 'int', min: 1, max: 64, env: 'BLEEPSTORE_WORKERS' },
  'auth.access_key': { kind: 'string', env: 'BLEEPSTORE_ACCESS_KEY' },
  'auth.secret_key': { kind: 'string', env: 'BLEEPSTORE_SECRET_KEY' },
  'auth.owner_id': { kind: 'string' },
  'auth.display_name': { kind: 'string' },
  'auth.seed': { kind: 'bool' },
  'auth.sigv2': { kind: 'bool', env: 'BLEEPSTORE_SIGV2' },
  data_dir: { kind: 'string', env: 'BLEEPSTORE_DATA_DIR' },
  'metadata.engine': { kind: ['sqlite'] },
  'metadata.sqlite.path': { kind: 'string' },
  'storage.backend': { kind: ['local', 'memory', 'sqlite', 'aws', 'azure', 'gcp'], env: 'BLEEPSTORE_STORAGE_BACKEND' },
  'storage.local.root_dir': { kind: 'string' },
  'storage.local.quarantine_max_age_seconds': { kind: 'int', min: 0 },
  'storage.memory.max_size_bytes': { kind: 'int', min: 0 },
  'storage.aws.bucket': { kind: 'string' },
  'storage.aws.region': { kind: 'string' },
  'storage.aws.prefix': { kind: 'string' },
  'storage.aws.endpoint_url': { kind: 'string' },
  'storage.aws.use_path_style': { kind: 'bool' },
  'storage.aws.access_key_id': { kind: 'string' },
  'storage.aws.secret_access_key': { kind: 'string' },
  'storage.azure.container': { kind: 'string' },
  'storage.azure.account': { kind: 'string' },
  'storage.azure.prefix': { kind: 'string' },
  'storage.azure.connection_string': { kind: 'string' },
  'storage.azure.account_key': { kind: 'string' },
  'storage.azure.endpoint_url': { kind: 'string' },
  'storage.azure.use_managed_identity': { kind: 'bool' },
  'storage.gcp.bucket': { kind: 'string' },
  'storage.gcp.project': { kind: 'string' },
  'storage.gcp.prefix': { kind: 'string' },
  'storage.gcp.credentials_file': { kind: 'string' },
  'storage.gcp.endpoint_url': { kind: 'string' },
  'storage.staging_dir': { kind: 'string' },
  'storage.inline_max_bytes': { kind: 'int', min: 0, max: 1024 * 1024 },
  'storage.min_free_bytes': { kind: 'int', min: 0 },
  durability: { kind: ['full', 'normal', 'off'], env: 'BLEEPSTORE_DURABILITY' },
  'multipart.upload_ttl_seconds': { kind: 'int', min: 1 },
  'multipart.reap_interval_seconds': { kind: 'int', min: 0 },
  'lifecycle.day_seconds': { kind: 'int', min: 1 },
  'logging.level': { kind: ['debug', 'info', 'warn', 'error', 'silent'], env: 'BLEEPSTORE_LOG_LEVEL' },
  'logging.format': { kind: ['json', 'text'], env: 'BLEEPSTORE_LOG_FORMAT' },
  'observability.metrics': { kind: 'bool' },
  'observability.health_check': { kind: 'bool' },
  'observability.openapi': { kind: 'bool' },
  'observability.docs': { kind: 'bool' },
  'observability.ui': { kind: 'bool' },
  'cluster.enabled': { kind: 'bool', env: 'BLEEPSTORE_CLUSTER_ENABLED' },
  'cluster.node_id': { kind: 'string', env: 'BLEEPSTORE_CLUSTER_NODE_ID' },
  'cluster.bind_addr': { kind: 'string', env: 'BLEEPSTORE_CLUSTER_BIND_ADDR' },
  'cluster.advertise_addr': { kind: 'string', env: 'BLEEPSTORE_CLUSTER_ADVERTISE_ADDR' },
  'cluster.data_dir': { kind: 'string' },
  'cluster.peers': { kind: 'peers' },
  'cluster.election_timeout_ms': { kind: 'int', min: 1, max: 600_000 },
  'cluster.heartbeat_interval_ms': { kind: 'int', min: 1, max: 60_000 },
  'cluster.snapshot_interval': { kind: 'int', min: 1 },
  'cluster.snapshot_threshold': { kind: 'int', min: 0 },
  'cluster.max_append_entries': { kind: 'int', min: 1, max: 65_536 },
  'cluster.secret': { kind: 'string', env: 'BLEEPSTORE_CLUSTER_SECRET' },
  'cluster.replicas': { kind: 'int', min: 1, max: 64 },
  'cluster.read_consistency': { kind: ['local', 'linearizable'] },
  'cluster.orphan_grace_seconds': { kind: 'int', min: 1 },
  'cluster.orphan_sweep_interval_seconds': { kind: 'int', min: 1 },
  'cluster.repair_interval_seconds': { kind: 'int', min: 1 },
  'cluster.join': { kind: 'bool' },
};

/** Sections the example config documents that this build accepts but does not use yet. */
const TOLERATED_SECTIONS = new Set([
  'storage.memory.persistence',
  'storage.memory.snapshot_path',
  'storage.memory.snapshot_interval_seconds',
  'storage.sqlite',
]);

/**
 * Sections that change what the server promises (replication, notifications): silently
 * ignoring one would let an operator believe it is on. Each is refused until it exists;
 * remove it from this list when it does.
 */
const NOT_YET_SUPPORTED = ['metadata.raft'];
/** Sections validated as a whole by their own parser (lists of mappings). */
const RAW_SECTIONS = ['events', 'queue'];

function coerce(key: string, raw: unknown, from: string): unknown {
  const spec = LEAVES[key];
  if (!spec) throw new ConfigError(`Unknown config key "${key}" in ${from}.`);
  const { kind } = spec;
  const shown = JSON.stringify(raw);
  if (kind === 'peers') {
    try {
      return parsePeers(raw, from);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  if (Array.isArray(kind)) {
    if (typeof raw !== 'string' || !kind.includes(raw))
      throw new ConfigError(`Config key "${key}" in ${from} must be one of ${kind.join(', ')} (got ${shown}).`);
    return raw;
  }
  if (kind === 'string') {
    if (typeof raw === 'number') return String(raw);
    if (typeof raw !== 'string')
      throw new ConfigError(`Config key "${key}" in ${from} must be a string (got ${shown}).`);
    return raw;
  }
  if (kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new ConfigError(`Config key "${key}" in ${from} must be true or false (got ${shown}).`);
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  const min = spec.min ?? -Infinity;
  const max = spec.max ?? Infinity;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = spec.max !== undefined ? ` from ${min} to ${max}` : ` of at least ${min}`;
    throw new ConfigError(`Config key "${key}" in ${from} must be an integer${range} (got ${shown}).`);
  }
  return n;
}

function setLeaf(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Flattens a nested object from YAML or code into dotted leaf keys, validating each. */
function flatten(
  obj: unknown,
  from: string,
  prefix = '',
  out: Array<[string, unknown]> = [],
): Array<[string, unknown]> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new ConfigError(`${prefix ? `Config key "${prefix}"` : 'The config'} in ${from} must be a mapping.`);
  }
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (TOLERATED_SECTIONS.has(key)) continue;
    if (!prefix && RAW_SECTIONS.includes(key)) {
      out.push([key, v]);
      continue;
    }
    if (NOT_YET_SUPPORTED.includes(key)) {
      throw new ConfigError(
        `Config section "${key}" in ${from} is not supported by this version of BleepStore yet; remove it.`,
      );
    }
    if (LEAVES[key]) {
      if (v !== undefined && v !== null) out.push([key, coerce(key, v, from)]);
    } else if (typeof v === 'object' && v !== null && Object.keys(LEAVES).some((l) => l.startsWith(key + '.'))) {
      flatten(v, from, key, out);
    } else {
      throw new ConfigError(`Unknown config key "${key}" in ${from}.`);
    }
  }
  return out;
}

export interface ConfigSources {
  /** Path of a YAML file, or undefined for none. */
  file?: string | undefined;
  /** Environment to read BLEEPSTORE_* from (defaults to none). */
  env?: Record<string, string | undefined>;
  /** Values from code or command-line flags, nested like Config. */
  overrides?: ConfigInput | undefined;
  /** How error messages name the overrides, e.g. "the command-line flags". */
  overridesLabel?: string;
  /** Config key → the flag that sets it, so an error names `--port`, not "server.port". */
  flagNames?: Readonly<Record<string, string>>;
}

/** Keys that hold file-system paths: resolved against the config file's directory. */
const PATH_KEYS = new Set([
  'data_dir',
  'metadata.sqlite.path',
  'storage.local.root_dir',
  'storage.staging_dir',
  'storage.gcp.credentials_file',
]);

export function loadConfig(sources: ConfigSources = {}): Config {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const layers: Array<Array<[string, unknown]>> = [];

  if (sources.file) {
    let text: string;
    try {
      text = readFileSync(sources.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`Cannot read config file "${sources.file}": ${(err as Error).message}.`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new ConfigError(
        `Config file "${sources.file}" is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    if (doc !== null && doc !== undefined) {
      // A relative path in the file means "next to this file", wherever the server is started.
      const base = path.dirname(path.resolve(sources.file));
      layers.push(
        flatten(doc, `config file "${sources.file}"`).map(([k, v]) => [
          k,
          PATH_KEYS.has(k) && typeof v === 'string' && v !== '' && v !== ':memory:' ? path.resolve(base, v) : v,
        ]),
      );
    }
  }

  const env = sources.env ?? {};
  const envLayer: Array<[string, unknown]> = [];
  for (const [key, spec] of Object.entries(LEAVES)) {
    const v = spec.env ? env[spec.env] : undefined;
    if (v !== undefined && v !== '') envLayer.push([key, coerce(key, v, `environment variable ${spec.env}`)]);
    // <NAME>_FILE reads the value from a file (Docker/Kubernetes secrets), final newline dropped.
    const file = spec.env ? env[`${spec.env}_FILE`] : undefined;
    if (file) {
      if (v !== undefined && v !== '') throw new ConfigError(`Set ${spec.env} or ${spec.env}_FILE, not both.`);
      let text: string;
      try {
        text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        throw new ConfigError(
          `Cannot read ${spec.env}_FILE "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
        );
      }
      envLayer.push([key, coerce(key, text, `the file named by ${spec.env}_FILE`)]);
    }
  }
  layers.push(envLayer);

  if (sources.overrides) {
    try {
      layers.push(flatten(sources.overrides, sources.overridesLabel ?? 'the given options'));
    } catch (err) {
      const m = err instanceof ConfigError ? /^Config key "([^"]+)" in .*? (must .*)$/s.exec(err.message) : null;
      const flag = m ? sources.flagNames?.[m[1]!] : undefined;
      throw flag ? new ConfigError(`${flag} ${m![2]}`) : err;
    }
  }

  const raw: Record<string, { value: unknown; from: string }> = {};
  for (const layer of layers) {
    for (const [k, v] of layer) {
      if (RAW_SECTIONS.includes(k)) raw[k] = { value: v, from: 'the configuration' };
      else setLeaf(config, k, v);
    }
  }
  const c = config as unknown as Config;
  c.events = parseEventsConfig(raw.events?.value, raw.queue?.value, 'the configuration');
  const named = (key: string) => layers.some((l) => l.some(([k]) => k === key));
  // The memory backend is memory all the way: metadata on disk would outlive the bytes it
  // describes (rows that list after a restart and then answer 500).
  if (c.storage.backend === 'memory') {
    if (c.metadata.sqlite.path && c.metadata.sqlite.path !== ':memory:') {
      throw new ConfigError(
        `Config key "metadata.sqlite.path" cannot be used with storage.backend "memory": a memory store keeps its metadata in memory too (use backend "sqlite" or "local" to keep data).`,
      );
    }
    c.metadata.sqlite.path = ':memory:';
  }
  if (!c.metadata.sqlite.path) c.metadata.sqlite.path = path.join(c.data_dir, 'metadata.db');
  if (!c.storage.staging_dir) c.storage.staging_dir = path.join(c.data_dir, 'staging');
  // Gateways keep every byte in the cloud unless told otherwise: inline objects would live
  // only in the local metadata database.
  if (['aws', 'azure', 'gcp'].includes(c.storage.backend) && !named('storage.inline_max_bytes'))
    c.storage.inline_max_bytes = 0;
  const required: Partial<Record<StorageKind, string[]>> = {
    aws: ['storage.aws.bucket'],
    azure: ['storage.azure.container'],
    gcp: ['storage.gcp.bucket'],
  };
  for (const key of required[c.storage.backend] ?? []) {
    const v = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], c);
    if (!v) throw new ConfigError(`Config key "${key}" must be set for storage.backend "${c.storage.backend}".`);
  }
  if (c.storage.backend === 'azure' && !c.storage.azure.connection_string && !c.storage.azure.account) {
    throw new ConfigError(
      'Config key "storage.azure.connection_string" or "storage.azure.account" must be set for storage.backend "azure".',
    );
  }
  if (!c.storage.local.root_dir) c.storage.local.root_dir = path.join(c.data_dir, 'objects');
  if (!c.auth.access_key) throw new ConfigError('Config key "auth.access_key" must not be empty.');
  if (!c.auth.secret_key) throw new ConfigError('Config key "auth.secret_key" must not be empty.');
  if (!/^[a-z0-9-]+$/.test(c.server.region))
    throw new ConfigError(
      `Config key "server.region" must look like a region name such as us-east-1 (got "${c.server.region}").`,
    );
  if (c.cluster.enabled) {
    try {
      warningsOf.set(c, validateCluster(c.cluster, c.data_dir));
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  return c;
}

const warningsOf = new WeakMap<Config, string[]>();

/** Things wrong with a loaded config that do not stop start-up (the server logs them). */
export function configWarnings(c: Config): string[] {
  return warningsOf.get(c) ?? [];
}
