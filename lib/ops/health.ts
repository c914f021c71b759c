// Readiness checks behind /readyz and /health: can the metadata store answer a query, and can
// the data directory take a durable write? The storage probe writes, fsyncs and removes a
// small file in the temp dir, because a permission check (access W_OK) says yes to root even
// on a read-only mount, and says nothing about a full disk.
import type { Logger } from './log.ts';

export interface CheckResult {
  status: 'ok' | 'error';
  latency_ms: number;
  error?: string;
}

export interface HealthReport {
  ok: boolean;
  checks: { metadata: CheckResult; storage: CheckResult };
}

export interface HealthTargets {
  metadata: { ping(): void };
  storage: { probe(): Promise<void> };
  log: Logger;
}

async function timed(name: string, log: Logger, fn: () => unknown, describe: (err: NodeJS.ErrnoException) => string): Promise<CheckResult> {
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
    const metadata = await timed('metadata', t.log, () => t.metadata.ping(), () => 'metadata store not answering');
    const storage = await timed('storage', t.log, () => t.storage.probe(), (e) => `storage not writable${e.code ? ` (${e.code})` : ''}`);
    return { ok: metadata.status === 'ok' && storage.status === 'ok', checks: { metadata, storage } };
  };
  return () => {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
}
