// Helpers for tests that run ClusterNode drivers in one process.
import type { ClusterNodeOptions, StateMachine } from '../../../lib/cluster/node.ts';
import type { Entry } from '../../../lib/cluster/raft/index.ts';

/** An in-memory list of applied strings; it restarts empty and replays from the Raft log. */
export class ListMachine implements StateMachine {
  items: string[] = [];
  at = 0;
  applied(): number {
    return this.at;
  }
  apply(e: Entry): unknown {
    this.items.push(Buffer.from(e.data).toString());
    this.at = e.index;
    return this.items.length;
  }
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify(this.items));
  }
  restore(data: Uint8Array, index: number): void {
    this.items = JSON.parse(Buffer.from(data).toString());
    this.at = index;
  }
}

export async function until<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A node's options on loopback with the tests' timings (heartbeat 50 ms, election 500 ms);
 *  `o` gives the rest and may override those. */
export function loopbackNode(
  o: Omit<ClusterNodeOptions, 'host' | 'heartbeatIntervalMs' | 'electionTimeoutMs'> &
    Partial<Pick<ClusterNodeOptions, 'heartbeatIntervalMs' | 'electionTimeoutMs'>>,
): ClusterNodeOptions {
  return { host: '127.0.0.1', heartbeatIntervalMs: 50, electionTimeoutMs: 500, ...o };
}
