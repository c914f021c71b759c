// Raft messages over node:http on the cluster port (issue #13 "Transport").
// - Each peer has its own bounded FIFO and sends one batch at a time on a keep-alive
//   connection, so a slow or dead peer only ever delays (and drops) its own messages.
//   Beyond the bound the oldest message is dropped: Raft tolerates loss and the newest
//   messages (heartbeats, the latest appends) carry the most current state.
// - A MsgSnap travels on a separate lane in chunks, so a large snapshot never holds up
//   heartbeats; the result is reported back to the core (reportSnapshot).
// - Every request is authenticated (peer-auth.ts); bad MACs and stale times get 401.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SnapshotFile, SnapshotSource } from './snapshot-file.ts';
import { decodeBatch, encodeBatch, frameBytes, messageFrame } from './wire-batch.ts';
import type { Message, NodeId } from './raft/types.ts';
import type { Transport } from './transport.ts';
import {
  type AuthFailure,
  checkMac,
  checkRequestLine,
  checkTime,
  DEFAULT_MAX_SKEW_MS,
  protocolMismatch,
  signHeaders,
} from './peer-auth.ts';
import { parseHostPort } from './config.ts';
import { closeIdleAfterPoll } from '../ops/idle-timeout.ts';

export interface HttpTransportOptions {
  id: NodeId;
  secret: string;
  /** Where the cluster port listens; port 0 picks a free one (see `address()`). */
  host: string;
  port: number;
  /** Other members: Raft id → host:port. */
  peers?: Map<NodeId, string>;
  /** Messages for this node, in the order each peer sent them. */
  onMessages: (msgs: Message[]) => void;
  onUnreachable?: (id: NodeId) => void;
  /** A request was refused: why, and a sentence for the operator's log. */
  onRefused?: (why: AuthFailure, detail: string) => void;
  onSnapshotStatus?: (id: NodeId, status: 'finish' | 'failure') => void;
  /** Messages queued per peer before the oldest is dropped; default 4096. */
  queueLimit?: number;
  /** Bytes of encoded messages per request; default 4 MiB (at least one message is sent). */
  maxBatchBytes?: number;
  /** Per-request timeout; default 3000 ms. */
  timeoutMs?: number;
  /** Largest request body accepted; default 16 MiB. */
  maxBodyBytes?: number;
  snapshotChunkBytes?: number;
  /** Largest snapshot accepted; default 1 GiB. */
  maxSnapshotBytes?: number;
  /** Where incoming snapshots are written as they arrive (default: a temp dir, removed at close). */
  snapshotDir?: string;
  maxSkewMs?: number;
  /** Extra authenticated routes (for example blob transfer): path prefix → handler. */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>>;
  /** Ask peers to send their replies to a batch back on its response (see serve). A reply
   *  then waits for the peer's fsync and apply, and a response slower than timeoutMs loses
   *  the acks with it, so the cluster node (node.ts) turns this on with a deadline of two
   *  election timeouts; see STATUS "Cluster bench". */
  askReplies?: boolean;
  /** Routes that stream their body and authenticate it themselves (blob transfer). */
  streamRoutes?: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
}

export interface PeerStats {
  sent: number;
  dropped: number;
  failures: number;
  queued: number;
  /** Date.now() when the peer last answered a batch (0: never). */
  lastAnswerAt: number;
}

const MESSAGES_PATH = '/raft/messages';
/** MAC "method" of a response that carries the receiver's replies (see serve). */
const REPLY = 'REPLY';
const SNAPSHOT_PATH = '/raft/snapshot';

export class TransportHttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'TransportHttpError';
    this.status = status;
  }
}

/** Signed request to a peer with a buffered body; resolves with the response body. */
export function peerRequest(
  agent: http.Agent,
  secret: string,
  addr: string,
  method: string,
  path: string,
  body: Uint8Array,
  timeoutMs: number,
): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  const hp = parseHostPort(addr);
  if (!hp) return Promise.reject(new Error(`bad peer address "${addr}"`));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: hp.host,
        port: hp.port,
        method,
        path,
        agent,
        headers: {
          ...signHeaders(secret, method, path, body),
          'content-length': String(body.byteLength),
          'content-type': 'application/octet-stream',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`peer ${addr} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads a request body up to `max` bytes; undefined when it is larger. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return resolve(undefined);
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

class PeerLane {
  readonly queue: Message[] = [];
  busy = false;
  readonly stats: PeerStats = { sent: 0, dropped: 0, failures: 0, queued: 0, lastAnswerAt: 0 };
  snapshotBusy = false;
  addr: string;
  constructor(addr: string) {
    this.addr = addr;
  }
}

export class HttpTransport implements Transport {
  private readonly o: Required<
    Omit<
      HttpTransportOptions,
      | 'peers'
      | 'onUnreachable'
      | 'onRefused'
      | 'onSnapshotStatus'
      | 'routes'
      | 'streamRoutes'
      | 'snapshotDir'
      | 'askReplies'
    >
  > &
    HttpTransportOptions;
  private readonly lanes = new Map<NodeId, PeerLane>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4, keepAliveMsecs: 1000 });
  private readonly server: http.Server;
  private readonly assemblies = new Map<NodeId, SnapshotFile>();
  /** Chunks from one sender are handled one after another (a resend may overlap the old). */
  private readonly chunkChains = new Map<NodeId, Promise<void>>();
  private readonly snapshotDir: string;
  private readonly ownSnapshotDir: boolean;
  private closed = false;
  /** While messages from `to` are handled: the replies to it, sent back on that response. */
  private replyTo: { to: NodeId; msgs: Message[] } | undefined;
  /** Requests refused for authentication, by reason (observability and tests). */
  readonly refused: Record<AuthFailure, number> = { missing: 0, stale: 0, 'bad-mac': 0, protocol: 0 };

  constructor(opts: HttpTransportOptions) {
    this.o = {
      queueLimit: 4096,
      maxBatchBytes: 4 << 20,
      timeoutMs: 3000,
      maxBodyBytes: 16 << 20,
      snapshotChunkBytes: 1 << 20,
      maxSnapshotBytes: 1 << 30,
      maxSkewMs: DEFAULT_MAX_SKEW_MS,
      ...opts,
    };
    this.ownSnapshotDir = !opts.snapshotDir;
    this.snapshotDir = opts.snapshotDir ?? path.join(tmpdir(), `bleepstore-raft-snap-${process.pid}-${randomUUID()}`);
    for (const [id, addr] of opts.peers ?? []) this.setPeer(id, addr);
    this.server = http.createServer(
      { keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 10_000 },
      (req, res) => {
        this.serve(req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      },
    );
    closeIdleAfterPoll(this.server);
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): string {
    const a = this.server.address() as AddressInfo;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  setPeer(id: NodeId, addr: string): void {
    if (id === this.o.id) return;
    const lane = this.lanes.get(id);
    if (lane) lane.addr = addr;
    else this.lanes.set(id, new PeerLane(addr));
  }

  removePeer(id: NodeId): void {
    this.lanes.delete(id);
  }

  peerAddr(id: NodeId): string | undefined {
    return this.lanes.get(id)?.addr;
  }

  /** True while every peer has a batch in flight: anything sent now leaves with the next
   *  batch, once an answer arrives. */
  allBusy(): boolean {
    if (!this.lanes.size) return false;
    for (const l of this.lanes.values()) if (!l.busy) return false;
    return true;
  }

  stats(): Map<NodeId, PeerStats> {
    const out = new Map<NodeId, PeerStats>();
    for (const [id, l] of this.lanes) out.set(id, { ...l.stats, queued: l.queue.length });
    return out;
  }

  send(to: NodeId, msg: Message): void {
    const lane = this.lanes.get(to);
    if (!lane || this.closed) return;
    if (this.replyTo?.to === to && msg.type !== 'MsgSnap') {
      this.replyTo.msgs.push(msg);
      return;
    }
    if (msg.type === 'MsgSnap') {
      void this.sendSnapshot(to, lane, msg);
      return;
    }
    if (lane.queue.length >= this.o.queueLimit) {
      lane.queue.shift();
      lane.stats.dropped++;
    }
    lane.queue.push(msg);
    if (!lane.busy) void this.pump(to, lane);
  }

  /** A signed request to a peer on the cluster port (blob transfer and the like). */
  request(
    to: NodeId,
    method: string,
    path: string,
    body: Uint8Array = new Uint8Array(),
    timeoutMs = this.o.timeoutMs,
  ): Promise<{ status: number; body: Buffer }> {
    const lane = this.lanes.get(to);
    if (!lane) return Promise.reject(new Error(`unknown peer ${to}`));
    return peerRequest(this.agent, this.o.secret, lane.addr, method, path, body, timeoutMs);
  }

  private async pump(to: NodeId, lane: PeerLane): Promise<void> {
    lane.busy = true;
    try {
      while (lane.queue.length && !this.closed && this.lanes.get(to) === lane) {
        const frames: Buffer[][] = [];
        let bytes = 0;
        while (lane.queue.length) {
          const frame = messageFrame(lane.queue[0]!);
          const n = frameBytes(frame);
          if (frames.length && bytes + n > this.o.maxBatchBytes) break;
          lane.queue.shift();
          frames.push(frame);
          bytes += n;
        }
        const body = encodeBatch(frames);
        try {
          const path = `${MESSAGES_PATH}?from=${this.o.id}${this.o.askReplies ? '&replies=1' : ''}`;
          const r = await peerRequest(this.agent, this.o.secret, lane.addr, 'POST', path, body, this.o.timeoutMs);
          if (r.status !== 204 && r.status !== 200) throw new Error(`peer answered ${r.status}`);
          lane.stats.sent += frames.length;
          lane.stats.lastAnswerAt = Date.now();
          if (r.status === 200) this.takeReplies(path, r);
        } catch {
          // Lost: Raft retransmits what matters. Tell the core so it probes instead of
          // pipelining into the void, and pause briefly so a dead peer costs no busy loop.
          lane.stats.failures++;
          lane.stats.dropped += frames.length;
          this.o.onUnreachable?.(to);
          await new Promise((r) => setTimeout(r, Math.min(100, this.o.timeoutMs)));
        }
      }
    } finally {
      lane.busy = false;
    }
  }

  /** The peer's replies to a batch, carried on its response and MAC'd like a request. */
  private takeReplies(path: string, r: { body: Buffer; headers: http.IncomingHttpHeaders }): void {
    if (
      this.closed ||
      checkTime(r.headers, this.o.maxSkewMs) ||
      !checkMac(this.o.secret, REPLY, path, r.headers, r.body)
    )
      throw new Error('the peer answered with replies that do not authenticate');
    this.o.onMessages(decodeBatch(r.body));
  }

  /**
   * Sends a snapshot whose state machine part is the file `file` (appended to the message's
   * own data on the wire), read a chunk at a time; resolves once it is sent or has failed
   * (reported through onSnapshotStatus either way).
   */
  async sendSnapshotFile(to: NodeId, msg: Message, file: string): Promise<void> {
    const lane = this.lanes.get(to);
    if (!lane || this.closed) return;
    await this.sendSnapshot(to, lane, msg, file);
  }

  private async sendSnapshot(to: NodeId, lane: PeerLane, msg: Message, file?: string): Promise<void> {
    if (lane.snapshotBusy) return; // the core resends it if this one fails
    lane.snapshotBusy = true;
    let ok = false;
    let src: SnapshotSource | undefined;
    try {
      src = await SnapshotSource.of(msg, file);
      const id = randomUUID();
      const n = Math.max(1, Math.ceil(src.size / this.o.snapshotChunkBytes));
      for (let i = 0; i < n && !this.closed; i++) {
        const chunk = await src.slice(
          i * this.o.snapshotChunkBytes,
          Math.min((i + 1) * this.o.snapshotChunkBytes, src.size),
        );
        const r = await peerRequest(
          this.agent,
          this.o.secret,
          lane.addr,
          'POST',
          `${SNAPSHOT_PATH}?from=${this.o.id}&id=${id}&seq=${i}&total=${n}`,
          chunk,
          Math.max(this.o.timeoutMs, 30_000),
        );
        if (r.status !== 204) throw new Error(`peer answered ${r.status}`);
      }
      ok = !this.closed;
    } catch {
      lane.stats.failures++;
    } finally {
      lane.snapshotBusy = false;
      await src?.close().catch(() => {});
    }
    if (!this.closed) this.o.onSnapshotStatus?.(to, ok ? 'finish' : 'failure');
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const path = url.split('?')[0]!;
    const otherProtocol = protocolMismatch(req.headers);
    if (otherProtocol) return this.refuse(res, 'protocol', otherProtocol);
    const stream = Object.keys(this.o.streamRoutes ?? {}).find((p) => path.startsWith(p));
    if (stream) return this.o.streamRoutes![stream]!(req, res);
    const route = Object.keys(this.o.routes ?? {}).find((p) => path.startsWith(p));
    if (path !== MESSAGES_PATH && path !== SNAPSHOT_PATH && !route) {
      res.writeHead(404).end();
      return;
    }
    const lineFail =
      checkTime(req.headers, this.o.maxSkewMs) ??
      checkRequestLine(this.o.secret, method, url, req.headers, this.o.maxSkewMs);
    if (lineFail) return this.refuse(res, lineFail);
    const max = path === SNAPSHOT_PATH ? this.o.snapshotChunkBytes + 1024 : this.o.maxBodyBytes;
    const body = await readBody(req, max);
    if (!body) {
      res.writeHead(413, { connection: 'close' }).end();
      return;
    }
    if (!checkMac(this.o.secret, method, url, req.headers, body)) return this.refuse(res, 'bad-mac');
    if (route) return this.o.routes![route]!(req, res, body);
    const q = new URLSearchParams(url.slice(path.length + 1));
    const from = Number(q.get('from'));
    if (!Number.isSafeInteger(from) || from <= 0) {
      res.writeHead(400).end();
      return;
    }
    if (path === MESSAGES_PATH) {
      let msgs: Message[];
      try {
        msgs = decodeBatch(body);
      } catch {
        res.writeHead(400).end();
        return;
      }
      if (q.get('replies') !== '1') {
        res.writeHead(204).end();
        if (!this.closed) this.o.onMessages(msgs);
        return;
      }
      // What handling these messages makes this node say to their sender (an append's ack,
      // a heartbeat's answer, a vote) goes back on this response: one round trip per exchange
      // instead of two, and no wait behind this node's own request in flight to that peer.
      // The Ready loop is synchronous, so the replies exist (and their state is durable:
      // save comes before send) when onMessages returns.
      const replies = this.collectReplies(from, () => {
        if (!this.closed) this.o.onMessages(msgs);
      });
      if (!replies.length) {
        res.writeHead(204).end();
        return;
      }
      const out = encodeBatch(replies);
      res
        .writeHead(200, {
          ...signHeaders(this.o.secret, REPLY, url, out),
          'content-type': 'application/octet-stream',
          'content-length': String(out.length),
        })
        .end(out);
      return;
    }
    this.receiveChunk(from, q, body, res);
  }

  /** Runs `fn` catching the messages it sends to `to`: up to maxBatchBytes of them come back
   *  encoded; the rest go through the lane as usual. */
  private collectReplies(to: NodeId, fn: () => void): Buffer[][] {
    const outer = this.replyTo;
    const mine = { to, msgs: [] as Message[] };
    this.replyTo = mine;
    try {
      fn();
    } finally {
      this.replyTo = outer;
    }
    const frames: Buffer[][] = [];
    let bytes = 0;
    for (const m of mine.msgs) {
      if (bytes > this.o.maxBatchBytes) {
        this.send(to, m); // in order, after what rides back
        continue;
      }
      const frame = messageFrame(m);
      frames.push(frame);
      bytes += frameBytes(frame);
    }
    return frames;
  }

  private async receiveChunk(from: NodeId, q: URLSearchParams, body: Buffer, res: ServerResponse): Promise<void> {
    const run = (this.chunkChains.get(from) ?? Promise.resolve()).then(() => this.takeChunk(from, q, body, res));
    const tail = run.catch(() => {});
    this.chunkChains.set(from, tail);
    try {
      await run;
    } finally {
      if (this.chunkChains.get(from) === tail) this.chunkChains.delete(from);
    }
  }

  private async takeChunk(from: NodeId, q: URLSearchParams, body: Buffer, res: ServerResponse): Promise<void> {
    const id = q.get('id') ?? '';
    const seq = Number(q.get('seq'));
    const total = Number(q.get('total'));
    let a = this.assemblies.get(from);
    if (seq === 0 && /^[0-9A-Za-z-]{1,64}$/.test(id) && total >= 1) {
      await this.dropAssembly(from);
      a = await SnapshotFile.create(this.snapshotDir, from, id, total);
      this.assemblies.set(from, a);
    }
    if (!a || a.id !== id || a.next !== seq || a.total !== total) {
      await this.dropAssembly(from);
      res.writeHead(409).end(); // out of order: the sender gives up and the core resends
      return;
    }
    if (a.bytes + body.length > this.o.maxSnapshotBytes) {
      await this.dropAssembly(from);
      res.writeHead(413).end();
      return;
    }
    await a.append(body);
    if (seq < total - 1) {
      res.writeHead(204).end();
      return;
    }
    this.assemblies.delete(from);
    let msg: Message;
    try {
      msg = await a.finish();
    } catch {
      await a.discard();
      res.writeHead(400).end();
      return;
    }
    res.writeHead(204).end();
    if (!this.closed) this.o.onMessages([msg]);
  }

  private async dropAssembly(from: NodeId): Promise<void> {
    const a = this.assemblies.get(from);
    this.assemblies.delete(from);
    await a?.discard();
  }

  private refuse(res: ServerResponse, why: AuthFailure, detail = `cluster authentication failed: ${why}`): void {
    this.refused[why]++;
    this.o.onRefused?.(why, detail);
    res.writeHead(401, { 'content-type': 'text/plain', connection: 'close' }).end(`${detail}\n`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    for (const from of [...this.assemblies.keys()]) await this.dropAssembly(from);
    if (this.ownSnapshotDir) await rm(this.snapshotDir, { recursive: true, force: true });
  }
}
