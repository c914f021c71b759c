// A child process running one ClusterNode over the real HTTP transport with a durable SQLite
// state machine (applied index committed in the same transaction as the change, as the
// metadata database will do). The test drives it through a small control port and kills it
// with SIGKILL. Config comes as JSON in RAFT_PROCESS.
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ClusterNode, ClusterUnavailableError, type Member, type StateMachine } from '../../../lib/cluster/node.ts';
import type { Entry, NodeId } from '../../../lib/cluster/raft/index.ts';

interface ProcessConfig {
  id: NodeId;
  dir: string;
  port: number;
  controlPort: number;
  secret: string;
  directory: Array<[NodeId, Member]>;
}
const cfg = JSON.parse(process.env.RAFT_PROCESS ?? '{}') as ProcessConfig;
mkdirSync(cfg.dir, { recursive: true });

class KvMachine implements StateMachine {
  readonly db = new DatabaseSync(path.join(cfg.dir, 'sm.db'));
  constructor() {
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL); CREATE TABLE IF NOT EXISTS meta (k INTEGER PRIMARY KEY CHECK (k = 1), applied INTEGER NOT NULL); INSERT OR IGNORE INTO meta VALUES (1, 0);',
    );
  }
  applied(): number {
    return Number((this.db.prepare('SELECT applied FROM meta').get() as { applied: number }).applied);
  }
  apply(e: Entry): unknown {
    const { k, v } = JSON.parse(Buffer.from(e.data).toString()) as { k: string; v: string };
    this.db.exec('BEGIN');
    this.db.prepare('INSERT OR REPLACE INTO kv VALUES (?, ?)').run(k, v);
    this.db.prepare('UPDATE meta SET applied = ?').run(e.index);
    this.db.exec('COMMIT');
    return e.index;
  }
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify(this.db.prepare('SELECT k, v FROM kv').all()));
  }
  restore(data: Uint8Array, index: number): void {
    const rows = JSON.parse(Buffer.from(data).toString()) as Array<{ k: string; v: string }>;
    this.db.exec('BEGIN');
    this.db.exec('DELETE FROM kv');
    for (const r of rows) this.db.prepare('INSERT INTO kv VALUES (?, ?)').run(r.k, r.v);
    this.db.prepare('UPDATE meta SET applied = ?').run(index);
    this.db.exec('COMMIT');
  }
}

const sm = new KvMachine();
const directory = new Map(cfg.directory);
const node = await ClusterNode.start({
  id: cfg.id,
  voters: [...directory.keys()],
  directory,
  peers: new Map([...directory].filter(([id]) => id !== cfg.id).map(([id, m]) => [id, m.addr] as const)),
  storagePath: path.join(cfg.dir, 'raft.db'),
  host: '127.0.0.1',
  port: cfg.port,
  secret: cfg.secret,
  stateMachine: sm,
  heartbeatIntervalMs: 50,
  electionTimeoutMs: 500,
  timeoutMs: 3000,
  snapshotInterval: 200,
  snapshotThreshold: 50,
});

const reply = (res: http.ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const control = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/status') return reply(res, 200, node.status());
    if (req.url === '/dump')
      return reply(res, 200, {
        applied: node.status().applied,
        rows: sm.db.prepare('SELECT k, v FROM kv ORDER BY k').all(),
      });
    if (req.url === '/propose') {
      node.propose(Buffer.concat(chunks)).then(
        (index) => reply(res, 200, { index }),
        (err: unknown) =>
          reply(res, 503, { error: String(err), leader: err instanceof ClusterUnavailableError ? err.leader : 0 }),
      );
      return;
    }
    reply(res, 404, {});
  });
});
// A restarted node binds its control port again; another test file's free-port probe may hold
// it for a moment (EADDRINUSE, seen with other cluster test files running beside this one), so
// a taken port is retried for a few seconds.
for (let attempt = 0; ; attempt++) {
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    control.once('error', resolve);
    control.listen(cfg.controlPort, '127.0.0.1', () => {
      control.off('error', resolve);
      resolve(undefined);
    });
  });
  if (!err) break;
  if (err.code !== 'EADDRINUSE' || attempt >= 50) throw err;
  await new Promise((r) => setTimeout(r, 100));
}
console.log('ready');
