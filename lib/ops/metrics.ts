// Prometheus metrics (prom-client): the bleepstore_* families of
// specs/observability-and-openapi.md, plus the process and Node.js defaults.
import { statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { OPERATIONS } from '../s3/router.ts';
import type { MetadataReads } from '../metadata/reads.ts';
import type { RequestRecord } from './request-record.ts';
import type { TargetStatus } from '../events/dispatcher.ts';
import type { ClusterMetricsSnapshot } from '../s3/context.ts';
import { clusterMetrics } from './cluster-metrics.ts';

/** Prometheus' default latency buckets, as the spec asks. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Powers of four from 256 B to 64 MiB (spec, "Histogram Buckets"). */
export const SIZE_BUCKETS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH']);

export interface MetricsInfo {
  version: string;
  durability: string;
  /** Directories whose volume's free space is reported (metadata, objects). */
  freeSpace: ReadonlyArray<{ volume: string; path: string }>;
  /** Event delivery per target, when event targets are configured. */
  queue?: (() => TargetStatus[]) | undefined;
  /** Raft and blob replication, in cluster mode. */
  cluster?: (() => ClusterMetricsSnapshot) | undefined;
}

export interface Metrics {
  readonly contentType: string;
  observe(r: RequestRecord): void;
  /** The exposition text: process defaults, then this store's families. */
  render(): Promise<string>;
}

// prom-client is loaded when a store with metrics is created, not when the package is
// imported: it is most of the import time, and many embedders never scrape.
let prom: typeof PromClient | undefined;
function promClient(): typeof PromClient {
  return (prom ??= createRequire(import.meta.url)('prom-client') as typeof PromClient);
}

// Process and Node.js metrics describe the process, not a store: one registry per process,
// so several embedded stores do not each install GC observers.
let processRegistry: PromClient.Registry | undefined;
function processMetrics(): PromClient.Registry {
  if (!processRegistry) {
    processRegistry = new (promClient().Registry)();
    promClient().collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createMetrics(
  metadata: Pick<MetadataReads, 'stats' | 'inlineBytesRead'>,
  info: MetricsInfo = { version: '', durability: '', freeSpace: [] },
): Metrics {
  const { Counter, Gauge, Registry, Histogram } = promClient();
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: 'bleepstore_http_requests_total',
    help: 'Total HTTP requests',
    labelNames: ['method', 'path', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'bleepstore_http_request_duration_seconds',
    help: 'Request latency in seconds',
    labelNames: ['method', 'path'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const requestSize = new Histogram({
    name: 'bleepstore_http_request_size_bytes',
    help: 'Request body size',
    labelNames: ['method', 'path'] as const,
    buckets: SIZE_BUCKETS,
    registers,
  });
  const responseSize = new Histogram({
    name: 'bleepstore_http_response_size_bytes',
    help: 'Response body size',
    labelNames: ['method', 'path'] as const,
    buckets: SIZE_BUCKETS,
    registers,
  });
  const operations = new Counter({
    name: 'bleepstore_s3_operations_total',
    help: 'S3 operations by type',
    labelNames: ['operation', 'status'] as const,
    registers,
  });
  const received = new Counter({
    name: 'bleepstore_bytes_received_total',
    help: 'Total bytes received (request bodies)',
    registers,
  });
  const sent = new Counter({
    name: 'bleepstore_bytes_sent_total',
    help: 'Total bytes sent (response bodies)',
    registers,
  });

  // Gauges are read at scrape time from bucket_stats (one row per bucket, kept by the change
  // hook), so they are right from the first scrape after a restart instead of counting up
  // from zero (spec, "Startup Behavior"), and a scrape never scans objects.
  new Gauge({
    name: 'bleepstore_objects_total',
    help: 'Total objects across all buckets',
    registers,
    collect() {
      this.set(metadata.stats().objects);
    },
  });
  new Gauge({
    name: 'bleepstore_buckets_total',
    help: 'Total buckets',
    registers,
    collect() {
      this.set(metadata.stats().buckets);
    },
  });

  new Counter({
    name: 'bleepstore_inline_bytes_read_total',
    help: 'Bytes of small objects read out of their metadata rows',
    registers,
    collect() {
      this.reset();
      this.inc(metadata.inlineBytesRead());
    },
  });

  new Gauge({
    name: 'bleepstore_build_info',
    help: 'Always 1; the labels say which build and durability mode serve',
    labelNames: ['version', 'node', 'durability'] as const,
    registers,
  }).set({ version: info.version, node: process.version, durability: info.durability }, 1);
  // Free space where the data lives: full disks are the most common way a store stops.
  new Gauge({
    name: 'bleepstore_disk_free_bytes',
    help: 'Bytes available to this process on the volume holding each data path',
    labelNames: ['volume', 'path'] as const,
    registers,
    async collect() {
      this.reset();
      for (const v of info.freeSpace) {
        try {
          const fs = await statfs(v.path);
          this.set({ volume: v.volume, path: v.path }, fs.bavail * fs.bsize);
        } catch {
          /* best effort (spec, "Best-Effort Metrics") */
        }
      }
    },
  });

  if (info.queue) queueMetrics(info.queue, registers);
  if (info.cluster) clusterMetrics(promClient(), info.cluster, registers);

  // Every operation starts at zero, so rate() has a series before the first request.
  for (const op of OPERATIONS) for (const status of ['success', 'error']) operations.inc({ operation: op, status }, 0);

  return {
    contentType: registry.contentType,
    observe(r) {
      if (r.ops && r.route === '/metrics') return; // the scrape does not count itself (spec)
      const method = METHODS.has(r.method) ? r.method : 'OTHER';
      const labels = { method, path: r.route };
      requests.inc({ ...labels, status: String(r.status) });
      duration.observe(labels, r.durationMs / 1000);
      requestSize.observe(labels, r.bytesIn);
      responseSize.observe(labels, r.bytesOut);
      if (r.bytesIn) received.inc(r.bytesIn);
      if (r.bytesOut) sent.inc(r.bytesOut);
      if (!r.ops && r.route !== 'Unknown') {
        operations.inc({ operation: r.route, status: r.status < 400 && !r.aborted ? 'success' : 'error' });
      }
    },
    async render() {
      return (await processMetrics().metrics()) + (await registry.metrics());
    },
  };
}

/**
 * The spec's bleepstore_queue_* families (shared/specs/event-queues.md, "Monitoring"), one
 * series per event target, read from the dispatcher at scrape time. consumed_total and
 * dead_letter are not exported: BleepStore publishes and consumes nothing itself.
 */
function queueMetrics(source: () => TargetStatus[], registers: PromClient.Registry[]): void {
  const { Counter, Gauge } = promClient();
  // One outbox query per scrape, shared by every family.
  let at = 0;
  let last: TargetStatus[] = [];
  const snapshot = () => {
    if (performance.now() - at > 100) {
      last = source();
      at = performance.now();
    }
    return last;
  };
  const family = (counter: boolean, name: string, help: string, value: (t: TargetStatus) => number) => {
    const config = { name, help, labelNames: ['target'] as const, registers };
    const each = (f: (labels: { target: string }, v: number) => void) => {
      for (const t of snapshot()) f({ target: t.target }, value(t));
    };
    if (counter)
      new Counter({
        ...config,
        collect() {
          this.reset();
          each((l, v) => this.inc(l, v));
        },
      });
    else
      new Gauge({
        ...config,
        collect() {
          this.reset();
          each((l, v) => this.set(l, v));
        },
      });
  };
  family(true, 'bleepstore_queue_published_total', 'Events the target confirmed', (t) => t.published);
  family(true, 'bleepstore_queue_failed_total', 'Failed publish attempts (retried)', (t) => t.failed);
  family(true, 'bleepstore_queue_dropped_total', 'Events dropped at the outbox cap', (t) => t.dropped);
  family(false, 'bleepstore_queue_pending', 'Events in the outbox not yet confirmed', (t) => t.pending);
  family(false, 'bleepstore_queue_oldest_age_seconds', 'Age of the oldest unconfirmed event', (t) =>
    t.oldest_time ? Math.max(0, (Date.now() - Date.parse(t.oldest_time)) / 1000) : 0,
  );
  family(false, 'bleepstore_queue_latency_ms', 'Commit-to-confirm time of the last batch', (t) => t.latency_ms);
  family(false, 'bleepstore_queue_connected', '1 while the last publish succeeded', (t) => (t.connected ? 1 : 0));
}
