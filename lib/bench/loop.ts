// A closed loop: `concurrency` workers each run one operation after another until the
// duration is over (operations in flight then finish) or `count` operations have started.
// Latency of successful operations goes into a histogram; failures are counted by message.
import { Histogram } from './histogram.ts';
import { notSupported } from './s3.ts';

export interface LoopOptions {
  concurrency: number;
  durationMs?: number;
  count?: number;
  /** Runs operation number `seq`; resolves with the body bytes it moved. */
  op: (seq: number) => Promise<number>;
  onProgress?: (p: { ops: number; errors: number; bytes: number; elapsedMs: number }) => void;
}

export interface LoopResult {
  ops: number;
  errors: number;
  bytes: number;
  seconds: number;
  hist: Histogram;
  /** Distinct failure messages and how often each happened (at most 10 kept). */
  errorCounts: Record<string, number>;
  /** Set when the endpoint answered "not implemented" before any operation succeeded. */
  unsupported?: string;
  /** Set when the loop gave up because every one of the first operations failed. */
  gaveUp?: string;
  /** CPU µs this process (the client) and the server spent while the loop ran. */
  clientCpuUs?: number;
  serverCpuUs?: number;
  /** serverCpuUs by process, in the order of --server-pid A+B+C (a cluster's nodes). */
  serverCpuUsEach?: number[];
  /** Time to first byte, when the client measured it. */
  ttfb?: Histogram;
  /** Which client drove the loop: raw sockets or node:http. */
  client?: 'raw' | 'node:http';
}

const GIVE_UP_AFTER = 20;

export async function closedLoop(o: LoopOptions): Promise<LoopResult> {
  const hist = new Histogram();
  const errorCounts = new Map<string, number>();
  let seq = 0;
  let ops = 0;
  let errors = 0;
  let bytes = 0;
  let stop = false;
  let unsupported: string | undefined;
  let gaveUp: string | undefined;
  const start = performance.now();
  const deadline = o.durationMs !== undefined ? start + o.durationMs : Infinity;
  const limit = o.count ?? Infinity;

  const worker = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      if (t0 >= deadline || seq >= limit) return;
      const n = seq++;
      try {
        const moved = await o.op(n);
        hist.recordMs(performance.now() - t0);
        ops++;
        bytes += moved;
      } catch (err) {
        errors++;
        const msg = String((err as Error)?.message ?? err).slice(0, 300);
        if (errorCounts.has(msg) || errorCounts.size < 10) errorCounts.set(msg, (errorCounts.get(msg) ?? 0) + 1);
        if (ops === 0 && notSupported(err)) {
          unsupported = msg;
          stop = true;
        } else if (ops === 0 && errors >= GIVE_UP_AFTER) {
          gaveUp = `the first ${errors} operations failed: ${msg}`;
          stop = true;
        }
      }
    }
  };

  const timer = o.onProgress
    ? setInterval(() => o.onProgress!({ ops, errors, bytes, elapsedMs: performance.now() - start }), 500)
    : undefined;
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  } finally {
    if (timer) clearInterval(timer);
  }
  const result: LoopResult = {
    ops,
    errors,
    bytes,
    seconds: (performance.now() - start) / 1000,
    hist,
    errorCounts: Object.fromEntries(errorCounts),
  };
  if (unsupported !== undefined) result.unsupported = unsupported;
  if (gaveUp !== undefined) result.gaveUp = gaveUp;
  return result;
}
