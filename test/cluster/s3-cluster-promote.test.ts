// Promoting a single-node store to a cluster on bin/bleepstore processes (spec clustering.md,
// "Transition: Embedded → Cluster"): data written to one node in single-node mode (inline and
// file-backed objects, a multipart object, an upload in progress, ACLs, versions, a second
// access key) is still there after it restarts as a cluster of itself, is on two nodes added
// with `bleepstore cluster add`, and stays readable from them once the original node is gone.
// The promotion is interrupted by kill -9 (and once right before it records index 1, with a
// single-node run in between) before the start that completes it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { loadConfig } from '../../lib/config.ts';
import { raftId } from '../../lib/cluster/config.ts';
import { MetadataStateMachine } from '../../lib/cluster/metadata-state-machine.ts';
import { promoteSingleNode } from '../../lib/cluster/promote.ts';
import { MetadataStore } from '../../lib/metadata/sqlite.ts';
import { createLogger } from '../../lib/ops/log.ts';
import { spawnServer } from '../helpers/process.ts';
import { assertVerdict, checkReads, verifyAndStop, type Written } from './helpers/checker.ts';
import { addAndPromote } from './helpers/cluster-cli.ts';
import { S3Cluster, type ClusterNodeProc } from './helpers/s3-cluster.ts';
import type { Acked } from './helpers/workload.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/bleepstore');
let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

const written = (): Written => ({ live: new Map<string, Acked>(), deleted: new Set<string>() });

/** PUT, retried (bounded) on 503 as an SDK would: a leader change answers it. */
async function put(s3: S3Client, w: Written, bucket: string, key: string, body: Uint8Array): Promise<string> {
  const end = Date.now() + 60_000;
  let r: Awaited<ReturnType<typeof putOnce>>;
  for (;;) {
    try {
      r = await putOnce(s3, bucket, key, body);
      break;
    } catch (err) {
      if ((err as Error).name !== 'ServiceUnavailable' || Date.now() > end) throw err;
      await new Promise((res) => setTimeout(res, 250));
    }
  }
  w.live.set(key, { sha256: sha(body), etag: r.ETag!, size: body.length });
  return r.VersionId ?? '';
}

function putOnce(s3: S3Client, bucket: string, key: string, body: Uint8Array) {
  return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Raft term, last snapshot and the metadata's applied index of a stopped node. */
function raftState(n: ClusterNodeProc): { term: number; snap: number; applied: number; data: string } {
  const raft = new DatabaseSync(path.join(n.dir, 'raft', 'raft.db'), { readOnly: true });
  const s = raft
    .prepare('SELECT term, snap_index, data AS snap_data FROM raft_state, raft_snapshot USING (k)')
    .get() as {
    term: number;
    snap_index: number;
    snap_data: Uint8Array;
  };
  raft.close();
  const meta = new DatabaseSync(path.join(n.dir, 'metadata.db'), { readOnly: true });
  const a = meta.prepare('SELECT log_index FROM raft_applied').get() as { log_index: number } | undefined;
  meta.close();
  return { term: s.term, snap: s.snap_index, applied: a?.log_index ?? 0, data: sha(s.snap_data) };
}

test('a single-node store promoted to a cluster keeps every bucket, object, ACL, version, upload and key on every node, through kill -9 during the promotion', {
  timeout: 420_000,
}, async () => {
  cluster = await S3Cluster.create(3);
  const c = cluster;
  const t0 = performance.now();
  const laps: string[] = [];
  const lap = (what: string) => laps.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const [n1, n2, n3] = c.nodes as [ClusterNodeProc, ClusterNodeProc, ClusterNodeProc];
  const clusterYaml = readFileSync(n1.config, 'utf8');
  const single = path.join(c.root, 'n1-single.yaml');
  // The single node kept objects up to 256 KiB in its database (the cluster keeps 1 KiB): a
  // database of ~5 MiB makes the promotion's snapshot take long enough to be killed in.
  writeFileSync(
    single,
    clusterYaml
      .slice(0, clusterYaml.indexOf('cluster:\n'))
      .replace('inline_max_bytes: 1024', 'inline_max_bytes: 262144'),
  );
  const runSingle = () => spawnServer(n1.dir, ['--config', single, '--port', String(n1.s3Port)]);
  const stop = async (srv: Awaited<ReturnType<typeof runSingle>>) => {
    srv.proc.kill('SIGTERM');
    await srv.exited;
  };

  // 1. One node, no cluster: write every kind of state.
  let srv = await runSingle();
  const s3 = c.client(n1);
  const kept = written();
  const versioned = written();
  await s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
  for (let i = 0; i < 30; i++) await put(s3, kept, 'kept', `inline/${i}`, randomBytes(1 + ((i * 37) % 900)));
  for (let i = 0; i < 25; i++) await put(s3, kept, 'kept', `inline-large/${i}`, randomBytes(200_000 + i * 500));
  for (let i = 0; i < 12; i++) await put(s3, kept, 'kept', `file/${i}`, randomBytes(300_000 + i * 20_000));
  await s3.send(new PutObjectAclCommand({ Bucket: 'kept', Key: 'file/0', ACL: 'public-read' }));
  const part1 = randomBytes(5 * 1024 * 1024);
  const part2 = randomBytes(300_000);
  const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'kept', Key: 'multipart' }));
  const parts = [];
  for (const [i, body] of [part1, part2].entries()) {
    const r = await s3.send(
      new UploadPartCommand({ Bucket: 'kept', Key: 'multipart', UploadId: mp.UploadId, PartNumber: i + 1, Body: body }),
    );
    parts.push({ PartNumber: i + 1, ETag: r.ETag! });
  }
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'kept',
      Key: 'multipart',
      UploadId: mp.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  kept.live.set('multipart', {
    sha256: sha(Buffer.concat([part1, part2])),
    etag: done.ETag!,
    size: part1.length + part2.length,
  });
  const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'kept', Key: 'in-progress' }));
  const openPart = await s3.send(
    new UploadPartCommand({
      Bucket: 'kept',
      Key: 'in-progress',
      UploadId: open.UploadId,
      PartNumber: 1,
      Body: randomBytes(100_000),
    }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
  );
  const firstBody = randomBytes(40_000);
  const firstVersion = await put(s3, versioned, 'versioned', 'doc', firstBody);
  await put(s3, versioned, 'versioned', 'doc', randomBytes(500));
  const made = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [BIN, 'keys', 'create', '--display-name', 'reader', '--json', '--data-dir', n1.dir],
      (e, out) => (e ? reject(e) : resolve(out)),
    ),
  );
  const reader = JSON.parse(made) as { access_key_id: string; secret_key: string };
  const readerKey = { accessKeyId: reader.access_key_id, secretAccessKey: reader.secret_key };
  await stop(srv);

  lap('single-node writes');
  // 2. Cluster config: n1 alone (peers: itself; replicas 3 are capped by the membership);
  //    n2 and n3 join later.
  writeFileSync(n1.config, clusterYaml.replace(/ {4}- id: n[23]\n {6}addr: [^\n]+\n/g, ''));
  for (const n of [n2, n3]) writeFileSync(n.config, `${readFileSync(n.config, 'utf8')}  join: true\n`);

  // 3. A promotion that died after writing the Raft snapshot, before recording index 1 in the
  //    metadata (the same code as the server, stopped where a crash would stop it) ...
  const config = loadConfig({ file: n1.config, overrides: { data_dir: n1.dir } });
  mkdirSync(config.cluster.data_dir, { recursive: true });
  const store = new MetadataStore({ path: config.metadata.sqlite.path, durability: 'full' });
  const sm = new MetadataStateMachine(store, config.cluster.data_dir);
  sm.adopt = () => {
    throw new Error('killed before recording index 1');
  };
  assert.throws(() =>
    promoteSingleNode({
      cluster: config.cluster,
      metadata: store,
      sm,
      raftPath: path.join(config.cluster.data_dir, 'raft.db'),
      self: raftId('n1'),
      directory: new Map([[raftId('n1'), { name: 'n1', addr: `127.0.0.1:${n1.clusterPort}` }]]),
      log: createLogger({ level: 'silent', format: 'json' }),
    }),
  );
  store.close();
  const interrupted = raftState(n1);
  assert.deepEqual({ ...interrupted, data: '' }, { term: 1, snap: 1, applied: 0, data: '' }, 'index 1 not recorded');
  // ... after which the operator ran it once more as a single node and wrote to it.
  srv = await runSingle();
  await put(s3, kept, 'kept', 'written-between', randomBytes(5000));
  await stop(srv);

  lap('interrupted promotion');
  // 4. kill -9 at random points of the promotion, then the start that completes it.
  const phases: string[] = [];
  for (let round = 0; round < 5; round++) {
    const killed = new Promise<void>((resolve) => {
      void spawnServer(n1.dir, ['--config', n1.config, '--port', String(n1.s3Port)], (proc) => {
        let seen = '';
        proc.stdout!.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes('promoting a single-node store') || seen.includes('"msg":"ready"'))
            setTimeout(() => proc.kill('SIGKILL'), Math.floor(Math.random() * 100 * 2 ** round));
        });
        proc.once('exit', () => resolve());
      }).then(
        (s) => s.kill9(),
        () => {},
      );
    });
    await killed;
    const st = raftState(n1);
    phases.push(
      st.applied
        ? `promoted (term ${st.term})`
        : st.data === interrupted.data
          ? 'before the new snapshot'
          : 'new snapshot, index 1 not recorded',
    );
  }
  console.log(`promotion: kill -9 rounds ended in: ${phases.join(', ')}`);
  lap('kill rounds');
  await c.start(n1);
  const promoted = await c.waitStable(60_000);
  assert.equal(promoted, n1);
  assert.ok((await c.health(n1))!.snapshot_index >= 1, 'the promoted state is a snapshot');

  lap('promoted');
  // 5. Two more nodes join; each installs a snapshot holding the old rows and fetches the blobs.
  for (const n of [n2, n3]) {
    await c.start(n);
    await addAndPromote(c, n);
  }
  // The copies follow the membership without a restart: a file object written through n1 now
  // is on n1 and at least one joiner when its PUT is answered.
  const late = randomBytes(200 * 1024);
  await put(c.client(n1), kept, 'kept', 'file/after-join-on-n1', late);
  const db = new DatabaseSync(n1.metadataPath, { readOnly: true });
  const fileId = (
    db.prepare('SELECT file_id FROM objects WHERE bucket = ? AND key = ?').get('kept', 'file/after-join-on-n1') as {
      file_id: string;
    }
  ).file_id;
  db.close();
  const holders = [n2, n3].filter((n) => existsSync(path.join(n.objectsPath, fileId.slice(0, 2), fileId)));
  assert.ok(fileId && holders.length >= 1, `a PUT acknowledged after the joins is on n1 only (${fileId})`);
  // README step 4: n1 gets the full peer list, and restarts (here by kill -9).
  writeFileSync(n1.config, clusterYaml);
  await c.kill9(n1);
  await c.start(n1);
  await c.waitStable(60_000);
  lap('joined');
  // One write through a joiner, so the last applied entry is a command on every node (a
  // membership change moves a node's applied index but not its database's record of it).
  await put(c.client(n2), kept, 'kept', 'after-join', randomBytes(3000));
  await c.waitStable(60_000);
  await c.waitConverged(60_000);

  const extras = async (n: ClusterNodeProc): Promise<string[]> => {
    const at = c.client(n);
    const bad: string[] = [];
    const acl = await at.send(new GetObjectAclCommand({ Bucket: 'kept', Key: 'file/0' }));
    if (!acl.Grants?.some((g) => g.Grantee?.URI?.endsWith('/AllUsers') && g.Permission === 'READ'))
      bad.push(`${n.name}: the public-read ACL of file/0 is gone`);
    const versions = await at.send(new ListObjectVersionsCommand({ Bucket: 'versioned' }));
    if (versions.Versions?.length !== 2) bad.push(`${n.name}: ${versions.Versions?.length} versions of doc, not 2`);
    const old = await at.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: firstVersion }));
    if (sha(await old.Body!.transformToByteArray()) !== sha(firstBody))
      bad.push(`${n.name}: the first version differs`);
    const listed = await at.send(new ListPartsCommand({ Bucket: 'kept', Key: 'in-progress', UploadId: open.UploadId }));
    if (listed.Parts?.[0]?.ETag !== openPart.ETag) bad.push(`${n.name}: the upload in progress lost its part`);
    const asReader = new S3Client({
      endpoint: c.url(n),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: readerKey,
      maxAttempts: 1,
    });
    try {
      await asReader.send(new ListBucketsCommand({}));
    } catch (err) {
      bad.push(`${n.name}: the key made on the single node is refused (${(err as Error).name})`);
    } finally {
      asReader.destroy();
    }
    return bad;
  };
  const readAll = async (label: string): Promise<number> => {
    const up = c.nodes.filter((n) => n.proc);
    const a = await checkReads(c, 'kept', kept);
    const b = await checkReads(c, 'versioned', versioned);
    const bad = [...a.lost, ...b.lost, ...(await Promise.all(up.map(extras))).flat()];
    assert.deepEqual(bad, [], `${label}: ${bad.slice(0, 10).join('; ')}`);
    return a.checked + b.checked;
  };
  lap('converged');
  const checkedAll = await readAll('3 nodes');
  lap('read on 3');
  // Exports identical at one applied index, no blob missing on any node.
  const v = await verifyAndStop(c, 'kept', kept);
  assertVerdict(v, 3);

  lap('verified');
  // 6. The original node stays down: the other two serve everything from their own disks.
  await Promise.all([n2, n3].map((n) => c.start(n)));
  await c.waitStable(60_000);
  const checkedTwo = await readAll('n1 gone');
  lap('read on 2');
  console.log(
    `promotion: ${kept.live.size + versioned.live.size} objects (${stateOf(n1)}), reads checked ${checkedAll} on 3 nodes ` +
      `and ${checkedTwo} on n2+n3 with n1 down, exports identical at applied index ${v.applied}, blobs missing ${v.missing.join('/')}; ${laps.join(', ')}`,
  );
});

function stateOf(n: ClusterNodeProc): string {
  const s = raftState(n);
  return `n1 term ${s.term}, snapshot ${s.snap}`;
}
