// Cluster mode's start-up: the Raft node over the metadata database, blob replication for
// the local backend, the replicated submit(), and the per-request hook that forwards writes
// from a follower to the leader.
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { StorageBackend } from '../storage/backend.ts';
import { LocalStorage } from '../storage/local.ts';
import type { Logger } from '../ops/log.ts';
import type { NodeId } from './raft/index.ts';
import { members, parseHostPort, raftId } from './config.ts';
import { ClusterNode, ClusterUnavailableError, type Member } from './node.ts';
import { changeMembership, clusterApiError, type MembershipChange, type ViaLeader } from './admin-api.ts';
import { ApiError, badRequest, type Json } from '../admin-api/http.ts';
import { toApiError } from '../admin-api/server.ts';
import type { ClusterHealth, ClusterMetricsSnapshot } from '../s3/context.ts';
import { MetadataStateMachine } from './metadata-state-machine.ts';
import { BLOB_PATH, BlobReplication } from './blob-replication.ts';
import { BlobSync } from './blob-sync.ts';
import { referencedFiles, replicatedSubmit } from './replicated-store.ts';
import {
  changesState,
  FORWARDED_HEADER,
  Forwarder,
  LEADER_HEADER,
  stampApplied,
  unavailableResponse,
} from './forward.ts';
import { peerRequest } from './transport-http.ts';
import { listKeys } from '../metadata/credentials.ts';
import { blobRepair } from './blob-repair.ts';
import { onceAsLeader } from './once-as-leader.ts';
import { promoteSingleNode } from './promote.ts';
import { sweepCloudOrphans } from './cloud-sweep.ts';
import type { Command } from '../metadata/commands.ts';
import type { Submitter } from '../metadata/credentials.ts';
import { fromWire, toWire, type WireError } from '../workers/wire-errors.ts';
import { unavailable } from './replicated-store.ts';

const INFO_PATH = '/cluster/info';
/** A follower's admin API hands access-key changes to the leader here (cluster port, MAC'd). */
const SUBMIT_PATH = '/cluster/submit';
/** A follower's admin API hands membership changes to the leader here (cluster port, MAC'd). */
const MEMBERSHIP_PATH = '/cluster/membership';
const OPS_PATH = /^\/(health|healthz|readyz|metrics|openapi\.json|docs|ui)(\/|\?|$)/;

export interface ClusterRuntime {
  node: ClusterNode;
  /** The storage backend to serve with (fetch-on-miss for the local backend). */
  storage: StorageBackend;
  blobs: BlobSync | undefined;
  /** false: this node serves the request itself, now (a local read, or a write on the
   *  leader); otherwise it settles true once answered here (forwarded, or refused) or false. */
  intercept(req: IncomingMessage, res: ServerResponse): false | Promise<boolean>;
  setS3Port(port: number): void;
  leaderName(): string;
  health(): ClusterHealth;
  metrics(): ClusterMetricsSnapshot;
  /** Proposes the configured credential once this node leads, unless a key exists (or `always`). */
  seedWhenLeader(seed: () => Promise<unknown>, always: boolean): void;
  /** submit() from any node: the leader proposes; a follower hands the command to the leader
   *  (access-key commands only) and answers once it has applied it itself. */
  submitter: Submitter;
  /** Has the leader make a membership change asked of this node's admin API. */
  viaLeader: ViaLeader;
  /** Starts the background blob repair (in place of the single-node scrub and orphan sweep). */
  startRepair(born: { release(): void }): { stop(): void; done: Promise<number> };
  stop(): Promise<void>;
}

export interface ClusterParts {
  config: Config;
  metadata: MetadataStore;
  storage: StorageBackend;
  log: Logger;
  fatal(err: Error): void;
}

export async function startCluster(p: ClusterParts): Promise<ClusterRuntime> {
  const c = p.config.cluster;
  const self = raftId(c.node_id);
  const all = members(c);
  const directory = new Map<NodeId, Member>(all.map((m) => [raftId(m.id), { name: m.id, addr: m.addr }]));
  const peers = new Map<NodeId, string>(all.filter((m) => m.id !== c.node_id).map((m) => [raftId(m.id), m.addr]));
  mkdirSync(c.data_dir, { recursive: true });
  const sm = new MetadataStateMachine(p.metadata, c.data_dir);
  const raftPath = path.join(c.data_dir, 'raft.db');
  promoteSingleNode({ cluster: c, metadata: p.metadata, sm, raftPath, self, directory, log: p.log });
  const bind = parseHostPort(c.bind_addr)!;
  const advertiseHost = parseHostPort(c.advertise_addr)!.host;
  let s3Port = 0;
  let node: ClusterNode | undefined;
  const refusalLogged = new Map<string, number>();
  const replication =
    p.storage instanceof LocalStorage ? new BlobReplication({ storage: p.storage, secret: c.secret }) : undefined;
  const blobs = replication
    ? new BlobSync({
        storage: p.storage as LocalStorage,
        blobs: replication,
        replicas: c.replicas,
        peers: () => [...(node?.directory ?? directory)].filter(([id]) => id !== self).map(([, m]) => m.addr),
      })
    : undefined;
  // The leader removes its copy of a collected blob, then commits gc.done; every other node
  // removes its own copy when it applies that entry.
  // Set once the repair exists (below): the blobs of each applied command, for its next check.
  let noteBlobs: ((ids: string[]) => void) | undefined;
  sm.onApplied = (cmd) => {
    if (noteBlobs) {
      const ids = referencedFiles(cmd);
      if (ids.length) noteBlobs(ids);
    }
    if (cmd.type !== 'gc.done' || !blobs || node?.status().role === 'leader') return;
    const gone = cmd.fileIds.filter((id) => !p.metadata.isFileReferenced(id));
    void Promise.all(gone.map((id) => p.storage.remove(id))).catch((err: unknown) =>
      p.log.warn('removing a collected blob failed; it stays as an orphan', { error: err }),
    );
  };
  // The leader's side of a command another node hands over (a follower's access-key change, a
  // write refused while leadership moved): the outcome (value or error) goes back with the
  // index it was applied at, so the asking node can wait for it.
  const serveSubmit = async (res: ServerResponse, body: Buffer): Promise<void> => {
    let cmd: Command | undefined;
    try {
      cmd = JSON.parse(body.toString('utf8')) as Command;
    } catch {
      // answered below
    }
    if (typeof cmd?.type !== 'string') {
      res.writeHead(400).end();
      return;
    }
    let out: Record<string, unknown>;
    try {
      const value = await p.metadata.submit(cmd);
      out = { ok: true, value, applied: node?.status().applied ?? 0 };
    } catch (err) {
      out = { ok: false, error: toWire(err) };
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
  };
  // Set once the node runs (below); until then a change handed over cannot be handed on.
  let viaLeader: ViaLeader | undefined;
  const serveMembership = async (res: ServerResponse, body: Buffer): Promise<void> => {
    let out: { status: number; body: Json | undefined };
    try {
      const change = JSON.parse(body.toString('utf8')) as MembershipChange;
      out = await changeMembership(node!, change, viaLeader, { forwarded: true });
    } catch (err) {
      const e =
        (err instanceof SyntaxError ? badRequest('The membership change is not JSON.') : undefined) ??
        clusterApiError(node!, err) ??
        toApiError(err) ??
        new ApiError(500, 'internal_error', (err as Error).message);
      out = { status: e.status, body: { error: e.code, message: e.message } };
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
  };
  node = await ClusterNode.start({
    id: self,
    // A joiner is no voter of its own (else it would elect itself): the leader's log, or a
    // snapshot, brings it the configuration once it is added (Raft thesis §4.2.1).
    voters: c.join ? [] : [...directory.keys()],
    peers,
    storagePath: raftPath,
    host: bind.host,
    port: bind.port,
    secret: c.secret,
    stateMachine: sm,
    heartbeatIntervalMs: c.heartbeat_interval_ms,
    electionTimeoutMs: c.election_timeout_ms,
    snapshotInterval: c.snapshot_interval,
    snapshotThreshold: c.snapshot_threshold,
    maxAppendEntries: c.max_append_entries,
    // A proposal on a leader cut off from the others waits at most this long for its outcome
    // (then 503, outcome unknown): long enough for an election or two, short for a client.
    timeoutMs: Math.max(3000, 5 * c.election_timeout_ms),
    onFatal: p.fatal,
    directory,
    routes: {
      [INFO_PATH]: (_req, res) => {
        const body = JSON.stringify({ name: c.node_id, s3: s3Port ? `${advertiseHost}:${s3Port}` : '' });
        res.writeHead(s3Port ? 200 : 503, { 'content-type': 'application/json' }).end(body);
      },
      [SUBMIT_PATH]: (_req, res, body) => serveSubmit(res, body),
      [MEMBERSHIP_PATH]: (_req, res, body) => serveMembership(res, body),
    },
    ...(replication ? { streamRoutes: { [BLOB_PATH]: (req, res) => replication.handle(req, res) } } : {}),
    // Refused peers are logged at most once a minute per reason: a node of another version or
    // with another secret keeps knocking.
    onRefused: (why, detail) => {
      const now = Date.now();
      if (now - (refusalLogged.get(why) ?? 0) < 60_000) return;
      refusalLogged.set(why, now);
      p.log.error('refused a request on the cluster port', { reason: why, detail });
    },
  });
  const n = node;
  p.metadata.setReplicator(replicatedSubmit(n, blobs, (cmd) => handOver(cmd)));

  const forwarder = new Forwarder(c.node_id);
  const agent = new http.Agent({ keepAlive: true });
  const s3Addrs = new Map<NodeId, { host: string; port: number }>();
  const s3AddrOf = async (id: NodeId): Promise<{ host: string; port: number }> => {
    const known = s3Addrs.get(id);
    if (known) return known;
    const m = n.directory.get(id);
    if (!m) throw new Error(`node ${id} is not in the directory`);
    const r = await peerRequest(agent, c.secret, m.addr, 'GET', INFO_PATH, new Uint8Array(), c.election_timeout_ms);
    const hp = r.status === 200 ? parseHostPort((JSON.parse(r.body.toString()) as { s3: string }).s3) : undefined;
    if (!hp) throw new Error(`the leader (${m.name}) is not serving S3 yet`);
    s3Addrs.set(id, hp);
    return hp;
  };
  const leaderName = (): string => n.directory.get(n.basicStatus().leader)?.name ?? '';
  // A leader is normally known within an election timeout or two; never wait unbounded.
  const waitForLeaderMs = Math.min(10_000, 3 * c.election_timeout_ms);
  // Read-your-writes on the node a client uses: a forwarded write is answered once this node
  // applied it too. Bounded as a proposal is (a follower cut off from the leader answers
  // anyway: the write is committed); two election timeouts were too short on a loaded
  // machine (a 64 MiB upload through a follower, then NoSuchKey on its GET).
  const caughtUpMs = Math.max(3000, 5 * c.election_timeout_ms);
  const caughtUp = async (index: number): Promise<void> => {
    await n.appliedAtLeast(index, caughtUpMs);
    const applied = n.basicStatus().applied;
    if (applied < index)
      p.log.warn('answering a forwarded write before applying it here', { leader_applied: index, applied });
  };
  const waitLeader = async (): Promise<NodeId> => {
    const until = Date.now() + waitForLeaderMs;
    for (;;) {
      const lead = n.basicStatus().leader;
      if (lead || Date.now() >= until) return lead;
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const timers: NodeJS.Timeout[] = [];
  const objectsRoot = path.resolve(p.config.storage.local.root_dir);
  const repair = blobs
    ? blobRepair(p.metadata, p.storage, blobs, p.log, {
        caughtUp: () => {
          const st = n.status();
          return st.leader !== 0 && st.applied >= st.commit;
        },
        ageMs: (id) => {
          try {
            return Date.now() - statSync(path.join(objectsRoot, id.slice(0, 2), id)).mtimeMs;
          } catch {
            return undefined;
          }
        },
        graceMs: c.orphan_grace_seconds * 1000,
        fullEveryMs: c.orphan_sweep_interval_seconds * 1000,
      })
    : undefined;
  if (repair) noteBlobs = (ids) => repair.noteApplied(ids);
  sm.onRestored = () => void repair?.run();

  /** POSTs `payload` to the leader's cluster port; `fail` makes the error when there is no
   *  other leader, it cannot be reached, or it answers other than 200. */
  const postToLeader = async (
    lead: NodeId,
    route: string,
    payload: unknown,
    fail: (why: string) => Error,
  ): Promise<{ leader: string; body: Buffer }> => {
    const m = lead && lead !== self ? n.directory.get(lead) : undefined;
    if (!m)
      throw fail('The cluster has no leader right now (an election is under way or too few nodes are up); retry.');
    let r: { status: number; body: Buffer };
    try {
      r = await peerRequest(
        agent,
        c.secret,
        m.addr,
        'POST',
        route,
        Buffer.from(JSON.stringify(payload)),
        Math.max(10_000, 5 * c.election_timeout_ms),
      );
    } catch (err) {
      throw fail(`The cluster leader (${m.name}) cannot be reached (${(err as Error).message}); retry.`);
    }
    if (r.status !== 200) throw fail(`The cluster leader (${m.name}) answered ${r.status}; retry.`);
    return { leader: m.name, body: r.body };
  };

  const submitViaLeader = async (cmd: Command): Promise<unknown> => {
    const lead = n.basicStatus().role === 'leader' ? self : await waitLeader();
    if (lead === self) return p.metadata.submit(cmd);
    return submitAt(lead, cmd);
  };

  /** A command Raft refused here because leadership is moving (or moved): submitted at the new
   *  leader once this node knows it, within two election timeouts (replicatedSubmit). */
  const handOver = async (cmd: Command): Promise<unknown> => {
    const end = Date.now() + Math.max(2000, 2 * c.election_timeout_ms);
    for (;;) {
      const { role, leader: lead } = n.basicStatus();
      if (lead && lead !== self) return submitAt(lead, cmd);
      // Still leading and not handing over: Raft refused it for another reason (overload).
      if (role === 'leader' && !n.handingOver()) throw unavailable('The leader refused the change; retry.');
      if (Date.now() >= end) throw unavailable('Leadership is moving and no new leader is known yet; retry.');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const submitAt = async (lead: NodeId, cmd: Command): Promise<unknown> => {
    const { body } = await postToLeader(lead, SUBMIT_PATH, cmd, unavailable);
    const out = JSON.parse(body.toString('utf8')) as {
      ok: boolean;
      value?: unknown;
      applied?: number;
      error?: WireError;
    };
    if (!out.ok) {
      // The errors a command's apply gives (S3, precondition, key, lock) keep their class;
      // anything else went wrong in the cluster and may be retried.
      const e = fromWire(out.error!);
      throw e.constructor === Error ? unavailable(e.message) : e;
    }
    await caughtUp(out.applied ?? 0);
    return out.value;
  };

  viaLeader = async (change) => {
    const lead = await waitLeader();
    const { leader, body } = await postToLeader(
      lead,
      MEMBERSHIP_PATH,
      change,
      (why) => clusterApiError(n, new ClusterUnavailableError(why, 'unknown', lead))!,
    );
    const out = JSON.parse(body.toString('utf8')) as { status: number; body: Json | undefined };
    if (out.status >= 400) {
      const b = out.body ?? {};
      throw new ApiError(out.status, String(b.error ?? 'error'), String(b.message ?? ''), {
        'x-bleepstore-leader': leader,
      });
    }
    return out;
  };

  /** A linearizable read: served here once this node has applied what was committed. */
  const readAfterBarrier = async (res: ServerResponse): Promise<boolean> => {
    try {
      await n.readBarrier();
    } catch {
      unavailableResponse(res, 'This node cannot confirm it is up to date with the cluster leader; retry.');
      return true;
    }
    return false;
  };

  /** A write on a follower: forwarded to the leader (the client never sees a redirect). */
  const viaLeaderNode = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.headers[FORWARDED_HEADER]) {
      unavailableResponse(res, 'This node is no longer the cluster leader; retry.');
      return true;
    }
    const lead = await waitLeader();
    if (lead === self) return false;
    if (!lead) {
      unavailableResponse(
        res,
        'The cluster has no leader right now (an election is under way or too few nodes are up); retry.',
      );
      return true;
    }
    res.setHeader(LEADER_HEADER, leaderName());
    let to: { host: string; port: number };
    try {
      to = await s3AddrOf(lead);
    } catch (err) {
      unavailableResponse(res, `The cluster leader cannot be reached (${(err as Error).message}); retry.`);
      return true;
    }
    await forwarder.forward(
      req,
      res,
      to.host,
      to.port,
      Math.max(30_000, p.config.server.request_timeout_seconds * 1000),
      caughtUp,
    );
    return true;
  };

  return {
    node: n,
    viaLeader: viaLeader!,
    submitter: { submit: submitViaLeader as Submitter['submit'] },
    seedWhenLeader(seed, always) {
      const isLeader = () => n.status().role === 'leader';
      timers.push(
        onceAsLeader(isLeader, seed, { everyMs: 100, done: () => !always && listKeys(p.metadata).length > 0 }),
      );
    },
    startRepair(born) {
      born.release();
      if (!repair) {
        // Cloud backends: one copy in a shared bucket, swept by the leader alone.
        let sweeping = false;
        const sweep = setInterval(() => {
          if (sweeping || n.status().role !== 'leader') return;
          sweeping = true;
          sweepCloudOrphans({
            storage: p.storage,
            metadata: p.metadata,
            node: n,
            graceMs: c.orphan_grace_seconds * 1000,
            log: p.log,
          })
            .catch((err: unknown) => p.log.warn('cloud orphan sweep failed; the next one retries', { error: err }))
            .finally(() => (sweeping = false));
        }, c.orphan_sweep_interval_seconds * 1000);
        sweep.unref();
        timers.push(sweep);
        return { stop() {}, done: Promise.resolve(0) };
      }
      const done = new Promise<number>((resolve) => {
        const first = setTimeout(() => resolve(repair.run()), 1000);
        first.unref();
        timers.push(first);
      });
      const t = setInterval(() => void repair.tick(), c.repair_interval_seconds * 1000);
      t.unref();
      timers.push(t);
      // A leader that died between committing a write and finishing its background pushes
      // leaves some nodes without those bytes: every node checks again under a new leader.
      // A joiner likewise once it is a member: it caught up from the log, not a snapshot.
      const isMember = () => {
        const cs = n.status().confState;
        return cs.voters.includes(self) || cs.learners.includes(self);
      };
      let lastLeader = n.status().leader;
      let wasMember = isMember();
      const watch = setInterval(() => {
        const lead = n.status().leader;
        const member = isMember();
        if ((lead && lead !== lastLeader) || (member && !wasMember)) void repair.run();
        lastLeader = lead;
        wasMember = member;
      }, 250);
      watch.unref();
      timers.push(watch);
      return { stop: () => repair.stop(), done };
    },
    storage: blobs ? blobs.wrap(p.storage) : p.storage,
    blobs,
    setS3Port(port) {
      s3Port = port;
    },
    leaderName,
    metrics: () => {
      const st = n.status();
      const lag: ClusterMetricsSnapshot['lag'] = [];
      for (const [id, pr] of Object.entries(n.progress() ?? {}))
        if (Number(id) !== self)
          lag.push({
            peer: n.directory.get(Number(id) as NodeId)?.name ?? id,
            entries: Math.max(0, st.lastIndex - pr.match),
          });
      return {
        term: st.term,
        commit: st.commit,
        applied: st.applied,
        leaderChanges: st.leaderChanges,
        proposals: st.proposals,
        isLeader: st.role === 'leader',
        lag,
        blobRepairs: blobs?.repaired ?? 0,
      };
    },
    health: () => {
      const st = n.status();
      return {
        node_id: c.node_id,
        role: st.role,
        leader: leaderName(),
        term: st.term,
        commit: st.commit,
        applied: st.applied,
        snapshot_index: st.snapshotIndex,
        ready: st.leader !== 0 && listKeys(p.metadata).length > 0,
      };
    },
    intercept(req, res) {
      res.setHeader(LEADER_HEADER, leaderName());
      if (!changesState(req.method)) {
        // cluster.read_consistency: linearizable: a read waits until this node has applied
        // everything committed when it arrived (ReadIndex, Raft thesis §6.4); operator
        // endpoints answer from the node as it is.
        if (c.read_consistency !== 'linearizable' || OPS_PATH.test(req.url ?? '')) return false;
        return readAfterBarrier(res);
      }
      if (n.basicStatus().role === 'leader') {
        if (req.headers[FORWARDED_HEADER]) stampApplied(res, () => n.basicStatus().applied);
        return false;
      }
      return viaLeaderNode(req, res);
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      repair?.stop();
      forwarder.close();
      agent.destroy();
      replication?.close();
      await n.stop();
    },
  };
}
