// Readiness checks behind /readyz and /health: can the metadata store answer a query, and can
// the data directory take a durable write? The storage probe writes, fsyncs and removes a
// small file in the temp dir, because a permission check (access W_OK) says yes to root even
// on a read-only mount, and says nothing about a full disk.
import type { Logger } from './log.ts';
import type { DiskStatus } from '../storage/disk-guard.ts';

export interface CheckResult {
  status: 'ok' | 'error';
  latency_ms: number;
  error?: string;
}

/** Free space on the data directory. Low space keeps the server ready: reads and the deletes that free space still work. */
export interface DiskCheck extends CheckResult {
  free_bytes?: number;
  min_free_bytes?: number;
}

export interface HealthReport {
  /** Ready for traffic: metadata answers and storage takes writes. */
  ok: boolean;
  /** New object data is refused for lack of free space (storage.min_free_bytes). */
  lowDisk: boolean;
  checks: { metadata: CheckResult; storage: CheckResult; disk: DiskCheck };
}

export interface HealthTargets {
  metadata: { ping(): void };
  storage: { probe(): Promise<void> };
  disk: { status(): Promise<DiskStatus> };
  log: Logger;
}

async function timed(
  name: string,
  log: Logger,
  fn: () => unknown,
  describe: (err: NodeJS.ErrnoException) => string,
): Promise<CheckResult> {
  const t0 = performance.now();
  const latency = () => Math.round((performance.now() - t0) * 1000) / 1000;
  try {
    await fn();
    return { status: 'ok', latency_ms: latency() };
  } catch (err) {
    // The full error (with paths) goes to the log; the unauthenticated response names only the cause.
    log.warn('health check failed', { check: name, error: err });
    return { status: 'error', latency_ms: latency(), error: describe(err as NodeJS.ErrnoException) };
  }
}

export function createHealthChecks(t: HealthTargets): () => Promise<HealthReport> {
  // One probe at a time: concurrent probes share its result, so an unauthenticated caller
  // cannot turn /readyz into a stream of fsyncs.
  let running: Promise<HealthReport> | undefined;
  const run = async (): Promise<HealthReport> => {
    const metadata = await timed(
      'metadata',
      t.log,
      () => t.metadata.ping(),
      () => 'metadata store not answering',
    );
    const storage = await timed(
      'storage',
      t.log,
      () => t.storage.probe(),
      (e) => `storage not writable${e.code ? ` (${e.code})` : ''}`,
    );
    let free: DiskStatus | undefined;
    const disk: DiskCheck = await timed(
      'disk',
      t.log,
      async () => (free = await t.disk.status()),
      (e) => `free space unknown${e.code ? ` (${e.code})` : ''}`,
    );
    const lowDisk = free?.low === true;
    if (free) Object.assign(disk, { free_bytes: free.free_bytes, min_free_bytes: free.min_free_bytes });
    if (lowDisk)
      Object.assign(disk, {
        status: 'error',
        error: 'free space at storage.min_free_bytes: new object data is refused',
      });
    return { ok: metadata.status === 'ok' && storage.status === 'ok', lowDisk, checks: { metadata, storage, disk } };
  };
  return () => {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
}
