// Snapshots sent to a follower are made when one is needed, not kept. Log compaction only
// records the index the state machine's own durable file stands for (node.ts takeSnapshot);
// when the core asks for a MsgSnap, the state machine is copied on a worker thread (its copy
// says which applied index it reflects) and the message is re-labelled with that index, its
// term and the membership: a later committed index serves as well as the compaction point
// (etcd's server sends its backend at the applied index the same way, "merged snapshot").
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ConfState, Message, NodeId } from './raft/index.ts';
import type { HttpTransport } from './transport-http.ts';
import { encodeSnapshot, type Member } from './snapshot-data.ts';

export interface SnapshotSenderDeps {
  dir: string;
  transport: HttpTransport;
  copyTo: (file: string) => Promise<number>;
  /** The term of a log entry; undefined once compacted away. */
  termAt: (index: number) => number | undefined;
  /** The membership and member directory as of the applied index. */
  membership: () => { confState: ConfState; directory: Map<NodeId, Member>; changedAt: number };
  /** The copy could not be made or sent: the core retries later. */
  failed: (to: NodeId, err: Error) => void;
  stopped: () => boolean;
}

export class SnapshotSender {
  private readonly d: SnapshotSenderDeps;
  private readonly busy = new Set<NodeId>();

  constructor(d: SnapshotSenderDeps) {
    this.d = d;
  }

  send(m: Message): void {
    if (this.busy.has(m.to)) return; // one at a time per peer; the core asks again if it fails
    this.busy.add(m.to);
    void this.copyAndSend(m).finally(() => this.busy.delete(m.to));
  }

  private async copyAndSend(m: Message): Promise<void> {
    const file = path.join(this.d.dir, `${m.to}-${randomUUID()}.db`);
    try {
      const index = await this.d.copyTo(file);
      if (this.d.stopped()) return;
      const term = this.d.termAt(index);
      const { confState, directory, changedAt } = this.d.membership();
      if (term === undefined) throw new Error(`the log no longer holds the copy's index ${index}`);
      // The membership read now is the copy's only if no change was applied after the copy's index.
      if (changedAt > index) throw new Error(`a membership change at ${changedAt} is newer than the copy (${index})`);
      const msg: Message = {
        ...m,
        snapshot: { metadata: { index, term, confState }, data: encodeSnapshot(directory, new Uint8Array()) },
      };
      await this.d.transport.sendSnapshotFile(m.to, msg, file);
    } catch (err) {
      if (!this.d.stopped()) this.d.failed(m.to, err as Error);
    } finally {
      await rm(file, { force: true });
    }
  }
}
