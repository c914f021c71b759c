// A cluster of real bin/bleepstore processes on loopback: fixed free ports (S3 and cluster),
// one temp data directory and YAML config per node, kill -9 and restart, and S3 clients.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { spawnServer, type ServerProcess } from '../../helpers/process.ts';
import { deadPort } from '../../helpers/net.ts';
import { FaultProxy, type LinkMode } from '../../helpers/fault-proxy.ts';

export interface NodeHealth {
  node_id: string;
  role: string;
  leader: string;
  term: number;
  commit: number;
  applied: number;
  snapshot_index: number;
  ready: boolean;
}

export interface ClusterNodeProc {
  name: string;
  s3Port: number;
  clusterPort: number;
  adminPort: number;
  dir: string;
  config: string;
  proc: ServerProcess | undefined;
  /** From the node's `listening` log line. */
  metadataPath: string;
  objectsPath: string;
}

export const SECRET = 'cluster-test-secret-0123456789';
export const ADMIN_TOKEN = 'cluster-test-admin-token-0123456789';

export class S3Cluster {
  readonly nodes: ClusterNodeProc[] = [];
  readonly root: string;
  private readonly clients = new Map<string, S3Client>();
  /** Run first by stop(), so a test that failed midway leaves no workload hitting dead nodes. */
  private readonly stoppers: Array<() => Promise<void>> = [];
  /** With `proxied`: the link from node a to node b ("a>b") goes through its own fault proxy. */
  readonly links = new Map<string, FaultProxy>();

  private constructor(root: string) {
    this.root = root;
  }

  /** Writes the configs of `size` nodes (ports picked now); start() runs them. */
  static async create(
    size: number,
    opts: {
      proxied?: boolean;
      clusterYaml?: string;
      storageYaml?: string;
      orphanGraceSeconds?: number;
      /** Full blob passes (local) or bucket sweeps (cloud) every this many seconds (default 4;
       *  the blob check of recent writes runs every 2). */
      orphanSweepSeconds?: number;
    } = {},
  ): Promise<S3Cluster> {
    const c = new S3Cluster(mkdtempSync(path.join(tmpdir(), 'bleepstore-s3-cluster-')));
    for (let i = 1; i <= size; i++)
      c.nodes.push({
        name: `n${i}`,
        s3Port: await deadPort(),
        clusterPort: await deadPort(),
        adminPort: await deadPort(),
        dir: path.join(c.root, `n${i}`),
        config: path.join(c.root, `n${i}.yaml`),
        proc: undefined,
        metadataPath: '',
        objectsPath: '',
      });
    for (const a of c.nodes)
      for (const b of c.nodes)
        if (opts.proxied && a !== b) c.links.set(`${a.name}>${b.name}`, await new FaultProxy(b.clusterPort).listen());
    for (const n of c.nodes) {
      const peers = c.nodes
        .map((p) => {
          const port = p === n ? p.clusterPort : (c.links.get(`${n.name}>${p.name}`)?.port ?? p.clusterPort);
          return `    - id: ${p.name}\n      addr: 127.0.0.1:${port}`;
        })
        .join('\n');
      mkdirSync(n.dir, { recursive: true });
      writeFileSync(
        n.config,
        `server:\n  host: 127.0.0.1\n  port: ${n.s3Port}\n  admin_port: ${n.adminPort}\n  admin_token: ${ADMIN_TOKEN}\n${opts.storageYaml ?? 'storage:\n  backend: local\n  inline_max_bytes: 1024\n'}` +
          `cluster:\n  enabled: true\n  node_id: ${n.name}\n  bind_addr: 127.0.0.1:${n.clusterPort}\n  secret: ${SECRET}\n` +
          `  election_timeout_ms: 600\n  heartbeat_interval_ms: 100\n  orphan_grace_seconds: ${opts.orphanGraceSeconds ?? 2}\n  orphan_sweep_interval_seconds: ${opts.orphanSweepSeconds ?? 4}\n  repair_interval_seconds: 2\n  replicas: ${size}\n  peers:\n${peers}\n${opts.clusterYaml ?? ''}`,
      );
    }
    return c;
  }

  async start(n: ClusterNodeProc): Promise<void> {
    // A port picked free may be taken by another test's process before the node binds it:
    // the S3 and admin ports are this node's alone, so pick again (bounded).
    for (let attempt = 0; ; attempt++) {
      try {
        n.proc = await spawnServer(n.dir, ['--config', n.config, '--port', String(n.s3Port)]);
        break;
      } catch (err) {
        const m = (err as Error).message;
        const taken = /port (\d+) .*already in use/.exec(m) ?? /EADDRINUSE[^\n]*:(\d+)/.exec(m);
        const port = Number(taken?.[1]);
        if (attempt >= 3 || (port !== n.s3Port && port !== n.adminPort)) throw err;
        const fresh = await deadPort();
        writeFileSync(n.config, readFileSync(n.config, 'utf8').replace(`port: ${port}\n`, `port: ${fresh}\n`));
        if (port === n.s3Port) n.s3Port = fresh;
        else n.adminPort = fresh;
        for (const [id, c] of this.clients)
          if (id.startsWith(`${n.name}/`)) {
            c.destroy();
            this.clients.delete(id);
          }
      }
    }
    const l = n.proc.logs.find((e) => e.msg === 'listening');
    n.metadataPath = String(l?.metadata_path);
    n.objectsPath = String(l?.objects_path);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.start(n)));
  }

  async kill9(n: ClusterNodeProc): Promise<void> {
    await n.proc?.kill9();
    n.proc = undefined;
  }

  url(n: ClusterNodeProc): string {
    return `http://127.0.0.1:${n.s3Port}`;
  }

  /** A cached client for node `n`; writers use one attempt so every failure is counted. */
  client(n: ClusterNodeProc, maxAttempts = 1): S3Client {
    const id = `${n.name}/${maxAttempts}`;
    let c = this.clients.get(id);
    if (!c) {
      c = new S3Client({
        endpoint: this.url(n),
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'bleepstore', secretAccessKey: 'bleepstore-secret' },
        maxAttempts,
      });
      this.clients.set(id, c);
    }
    return c;
  }

  async health(n: ClusterNodeProc): Promise<NodeHealth | undefined> {
    try {
      const r = await fetch(`${this.url(n)}/health`, { signal: AbortSignal.timeout(5000) });
      return ((await r.json()) as { cluster: NodeHealth }).cluster;
    } catch {
      return undefined;
    }
  }

  /** The leader as the running nodes report it, or undefined. */
  async leader(): Promise<ClusterNodeProc | undefined> {
    const hs = await Promise.all(this.nodes.filter((n) => n.proc).map((n) => this.health(n)));
    const name = hs.find((h) => h?.role === 'leader')?.node_id;
    return this.nodes.find((n) => n.name === name && n.proc);
  }

  /** Polls until a running node reports itself leader (its /health may be slow under load). */
  async waitLeader(ms = 30_000): Promise<ClusterNodeProc> {
    const until = Date.now() + ms;
    for (;;) {
      const l = await this.leader();
      if (l) return l;
      if (Date.now() > until) throw new Error(`no node reported itself leader within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until every running node is ready and agrees on one leader; returns it. */
  async waitStable(ms = 20_000): Promise<ClusterNodeProc> {
    const until = Date.now() + ms;
    for (;;) {
      const hs = await Promise.all(this.nodes.filter((n) => n.proc).map((n) => this.health(n)));
      const leaders = new Set(hs.map((h) => h?.leader));
      if (hs.every((h) => h?.ready) && leaders.size === 1) {
        const name = hs[0]!.leader;
        const leader = this.nodes.find((n) => n.name === name);
        if (leader?.proc) return leader;
      }
      if (Date.now() > until) throw new Error(`no stable leader: ${JSON.stringify(hs)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until every running node has applied the same index as the leader's commit. */
  async waitConverged(ms = 20_000): Promise<number> {
    const until = Date.now() + ms;
    for (;;) {
      const hs = await Promise.all(this.nodes.filter((n) => n.proc).map((n) => this.health(n)));
      const applied = new Set(hs.map((h) => h?.applied));
      if (hs.every((h) => h && h.applied === h.commit) && applied.size === 1) return hs[0]!.applied;
      if (Date.now() > until) throw new Error(`nodes did not converge: ${JSON.stringify(hs)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sets every link from or to `n` (or only those `from` it / `to` it). */
  cut(n: ClusterNodeProc, mode: LinkMode, which: 'both' | 'from' | 'to' = 'both'): void {
    for (const [k, p] of this.links) {
      const [a, b] = k.split('>');
      if ((which !== 'to' && a === n.name) || (which !== 'from' && b === n.name)) p.set(mode);
    }
  }

  healAll(): void {
    for (const p of this.links.values()) p.set({ kind: 'pass' });
  }

  /** Rewrites the configs so the other nodes do not list `joiner` (replicas 3), and `joiner`
   *  starts with cluster.join to be added at runtime. */
  configureJoiner(joiner: ClusterNodeProc): void {
    for (const n of this.nodes) {
      let yaml = readFileSync(n.config, 'utf8').replace(/replicas: \d+/, 'replicas: 3');
      if (n === joiner) yaml += '  join: true\n';
      else yaml = yaml.replace(new RegExp(` {4}- id: ${joiner.name}\n {6}addr: [^\n]+\n`), '');
      writeFileSync(n.config, yaml);
    }
  }

  onStop(fn: () => Promise<void>): void {
    this.stoppers.push(fn);
  }

  async stop(): Promise<void> {
    await Promise.all(this.stoppers.map((fn) => fn()));
    for (const p of this.links.values()) await p.close();
    for (const c of this.clients.values()) c.destroy();
    for (const n of this.nodes) await this.kill9(n);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Polls `ok` every 100 ms until it holds (true) or `ms` passed (false). */
export async function until(ok: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
