// What every handler receives: the request, the parsed operation, the caller, and the
// services (metadata, storage, config, log).
import type { WriteTasks } from '../events/write-tasks.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { UploadReads } from '../metadata/uploads.ts';
import type { StorageBackend } from '../storage/backend.ts';
import type { DiskGuard } from '../storage/disk-guard.ts';
import type { Logger } from '../ops/log.ts';
import type { PayloadMode, Principal } from '../auth/types.ts';
import type { Endpoint } from './endpoint.ts';

import type { RunningEvents } from '../events/start.ts';

export interface Services {
  config: Config;
  metadata: MetadataStore;
  /** Multipart uploads, read-only (writes are commands through metadata.submit). */
  uploads: UploadReads;
  storage: StorageBackend;
  log: Logger;
  /** An unrecoverable storage failure (a failed fsync): stop serving. */
  fatal(err: Error): void;
  /** Free space on the data directory: new object data asks it first (storage.min_free_bytes). */
  disk: DiskGuard;
  /** Removes files whose rows are gone (their intent is already in gc_files). */
  collect(fileIds: readonly string[]): void;
  /** Event delivery, when event targets are configured (lib/events/start.ts). */
  events?: RunningEvents | undefined;
  /** Async consistency's write-task queue (lib/events/write-tasks.ts); absent in other modes. */
  tasks?: WriteTasks | undefined;
  /** Cluster mode only: this node's Raft role, leader, term, commit and applied index. */
  cluster?: () => ClusterHealth;
  /** Cluster mode only: what /metrics reports of Raft and blob replication. */
  clusterMetrics?: () => ClusterMetricsSnapshot;
}

export interface ClusterMetricsSnapshot {
  term: number;
  commit: number;
  applied: number;
  leaderChanges: number;
  proposals: number;
  isLeader: boolean;
  /** Leader only: entries each peer's match index is behind the leader's last index. */
  lag: Array<{ peer: string; entries: number }>;
  blobRepairs: number;
}

export interface ClusterHealth {
  node_id: string;
  role: string;
  /** The leader's node_id ('' while there is none). */
  leader: string;
  term: number;
  commit: number;
  applied: number;
  /** Log index of this node's latest snapshot (taken, or installed from the leader). */
  snapshot_index: number;
  /** A leader is known and this replica holds a credential. */
  ready: boolean;
}

export interface Ctx<E extends Endpoint = Endpoint> {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  endpoint: E;
  principal: Principal | null;
  payload: PayloadMode;
  svc: Services;
  /** First value of a request header (lower-case name). */
  header(name: string): string | undefined;
  /** Set by handlers that read a body, for the request log. */
  bytesIn: number;
  /** The AWS event a successful request emits (its declaration's `event`), set by dispatch. */
  event?: string | null;
}

export function headerGetter(req: IncomingMessage): (name: string) => string | undefined {
  return (name) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
}
