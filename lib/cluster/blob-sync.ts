// Object bytes across nodes for the `local` backend: push new blobs to a majority of
// `cluster.replicas` before their row is proposed, fetch a blob this node lacks from a peer
// when it is read (fetch-on-miss), and remove this node's copy once the leader collected it.
import type { StorageBackend } from '../storage/backend.ts';
import { FileMissingError } from '../storage/backend.ts';
import type { LocalStorage } from '../storage/local.ts';
import type { BlobReplication } from './blob-replication.ts';

export interface BlobSyncOptions {
  storage: LocalStorage;
  blobs: BlobReplication;
  /** Cluster addresses of the other members, now. */
  peers: () => string[];
  /** `cluster.replicas`: capped by the membership at each write, so a cluster that grows at
   *  runtime (a promoted single node, a join) replicates without a restart. */
  replicas: number;
}

export class BlobSync {
  private readonly o: BlobSyncOptions;
  private readonly fetching = new Map<string, Promise<boolean>>();
  /** Blobs this node lacked and fetched from a peer (repair pass and fetch-on-miss). */
  repaired = 0;

  constructor(o: BlobSyncOptions) {
    this.o = o;
  }

  /** Durable here and on floor(r/2) peers, r = min(replicas, members): with this node, a
   *  majority of the r copies. */
  async replicate(fileIds: readonly string[]): Promise<void> {
    for (const id of fileIds) {
      if (!(await this.o.storage.exists(id)) && !(await this.fetch(id)))
        throw new Error(`blob ${id} is on no reachable node`);
      const peers = this.o.peers();
      const needed = Math.floor(Math.min(this.o.replicas, peers.length + 1) / 2);
      await this.o.blobs.replicate(id, peers, needed);
    }
  }

  /** Fetches a missing blob from the first peer that has it; concurrent asks share one fetch. */
  fetch(fileId: string): Promise<boolean> {
    let p = this.fetching.get(fileId);
    if (!p) {
      p = this.o.blobs
        .fetch(fileId, this.o.peers())
        .then((ok) => {
          if (ok) this.repaired++;
          return ok;
        })
        .finally(() => this.fetching.delete(fileId));
      this.fetching.set(fileId, p);
    }
    return p;
  }

  /** The storage backend with fetch-on-miss on reads (concat reads its sources the same way). */
  wrap(storage: StorageBackend): StorageBackend {
    return new Proxy(storage, {
      get: (target, prop, receiver) => {
        if (prop === 'openRead')
          return async (id: string, range?: unknown) => {
            try {
              return await (target.openRead as (i: string, r?: unknown) => Promise<unknown>).call(target, id, range);
            } catch (err) {
              if (!(err instanceof FileMissingError) || !(await this.fetch(id))) throw err;
              return (target.openRead as (i: string, r?: unknown) => Promise<unknown>).call(target, id, range);
            }
          };
        if (prop === 'concat')
          return async (sources: ReadonlyArray<{ fileId: string }>, ...rest: unknown[]) => {
            for (const s of sources) if (!(await target.exists(s.fileId))) await this.fetch(s.fileId);
            return (target.concat as (...a: unknown[]) => unknown).call(receiver, sources, ...rest);
          };
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
}
