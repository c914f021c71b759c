// How Raft messages leave a node. The core only produces Message values (Ready.messages);
// whoever drives the node hands them to a Transport after persisting (see
// lib/cluster/raft/API.md "The Ready loop"). The network transport comes with the cluster
// issue; InMemoryTransport serves tests.
import type { Message, NodeId } from './raft/types.ts';

export interface Transport {
  /** Queue msg for node `to`. Never throws for an unreachable peer: Raft tolerates loss. */
  send(to: NodeId, msg: Message): void;
}

/** Per-destination FIFO queues that a test drains explicitly; nothing is delivered by
 *  itself, so the test decides order, loss and timing. */
export class InMemoryTransport implements Transport {
  private readonly queues = new Map<NodeId, Message[]>();
  /** Pairs `from→to` (for example "1→2") whose messages are dropped. */
  readonly cut = new Set<string>();
  sent = 0;
  dropped = 0;

  send(to: NodeId, msg: Message): void {
    this.sent++;
    if (this.cut.has(`${msg.from}→${to}`)) {
      this.dropped++;
      return;
    }
    let q = this.queues.get(to);
    if (!q) this.queues.set(to, (q = []));
    q.push(msg);
  }

  /** Removes and returns every message queued for `to`, oldest first. */
  take(to: NodeId): Message[] {
    const q = this.queues.get(to) ?? [];
    this.queues.delete(to);
    return q;
  }

  pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Cuts both directions between the two groups (a symmetric partition). */
  partition(a: NodeId[], b: NodeId[]): void {
    for (const x of a)
      for (const y of b) {
        this.cut.add(`${x}→${y}`);
        this.cut.add(`${y}→${x}`);
      }
  }

  heal(): void {
    this.cut.clear();
  }
}
