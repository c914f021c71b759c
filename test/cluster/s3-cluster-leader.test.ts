// Planned leadership moves on bin/bleepstore processes: `bleepstore cluster leader [<id>]`
// (POST /admin/cluster/leader) asked of any node hands leadership over while writes go on, so
// an operator can restart the leader without waiting out an election timeout; writes the old
// leader's Raft refused during the move (inline or blob-backed) are handed to the new leader,
// not answered 503.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { assertVerdict, verifyAndStop } from './helpers/checker.ts';
import { clusterCli } from './helpers/cluster-cli.ts';
import { S3Cluster, until } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

test('`bleepstore cluster leader <id>` asked of a follower makes that voter the leader on every node while writes go on, and no write through the old leader fails, inline or blob-backed; no id picks another voter that answers; an unknown id is 404, a stopped voter 409', {
  timeout: 180_000,
}, async () => {
  cluster = await S3Cluster.create(3);
  const c = cluster;
  await c.startAll();
  const first = await c.waitStable();
  await c.client(first).send(new CreateBucketCommand({ Bucket: 'moves' }));
  const w = new Workload(c, 'moves');
  w.start(4);
  await until(() => w.ackedWrites >= 40, 60_000);

  // Writes through the old leader across the move: Raft refuses them while leadership is handed
  // over (thesis §3.10), and the node hands them to the new leader rather than answering 503
  // (the refused proposal was never in the log). Every other one is larger than
  // storage.inline_max_bytes, so its command points at a blob the new leader must hold too.
  const small = new Map<string, Buffer>();
  const smallErrors: string[] = [];
  let moving = true;
  const smallWriters = Array.from({ length: 8 }, async (_, w) => {
    for (let i = 0; moving; i++) {
      const key = `small/${w}/${i}`;
      const body = randomBytes(i % 2 ? 100 * 1024 : 200);
      try {
        await c.client(first).send(new PutObjectCommand({ Bucket: 'moves', Key: key, Body: body }));
        small.set(key, body);
      } catch (err) {
        smallErrors.push(`${key}: ${(err as Error).name} ${(err as Error).message}`);
      }
    }
  });
  await until(() => small.size >= 40, 30_000);

  // Asked of one follower, for the other.
  const [asked, target] = c.nodes.filter((n) => n !== first) as [typeof first, typeof first];
  const termBefore = (await c.health(first))!.term;
  const moved = await clusterCli(['leader', target.name, '--config', asked.config]);
  assert.equal(moved.code, 0, moved.err);
  const said = /^leader: (\S+) \(term (\d+)\)$/m.exec(moved.out);
  assert.ok(said, moved.out);
  assert.equal(said[1], target.name);
  assert.ok(Number(said[2]) > termBefore, `term ${said[2]} after ${termBefore}`);
  const agreed = await until(async () => {
    const hs = await Promise.all(c.nodes.map((n) => c.health(n)));
    return hs.every((h) => h?.leader === target.name);
  }, 30_000);
  assert.ok(agreed, 'every node names the new leader');
  const sizeAtMove = small.size;
  await until(() => small.size >= sizeAtMove + 40, 30_000);
  moving = false;
  await Promise.all(smallWriters);
  assert.deepEqual(smallErrors, [], 'a write through the old leader failed across the move');
  for (const [key, body] of small) {
    const got = await c.client(target).send(new GetObjectCommand({ Bucket: 'moves', Key: key }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), key);
  }
  const mid = w.ackedWrites;
  assert.ok(await until(() => w.ackedWrites >= mid + 40, 60_000), 'writes go on under the new leader');

  // Without an id: the leader hands over to the most caught-up other voter.
  const again = await clusterCli(['leader', '--config', target.config]);
  assert.equal(again.code, 0, again.err);
  const next = /^leader: (\S+)/m.exec(again.out)?.[1];
  assert.ok(next && next !== target.name, again.out);
  // The leader itself named: nothing moves.
  const stay = await clusterCli(['leader', next, '--config', asked.config]);
  assert.equal(stay.code, 0, stay.err);
  assert.match(stay.out, new RegExp(`^leader: ${next} `, 'm'));

  const unknown = await clusterCli(['leader', 'n9', '--config', asked.config]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.err, /404/);
  assert.match(unknown.err, /No node with id 'n9'/);

  // A voter that does not answer is refused (409): a transfer to it would stall every write
  // until it timed out. Without an id, only voters that answer are candidates.
  const leaderNow = (await c.waitStable(30_000))!;
  const down = c.nodes.find((n) => n !== leaderNow)!;
  const other = c.nodes.find((n) => n !== leaderNow && n !== down)!;
  await c.kill9(down);
  const stale = await until(async () => {
    const r = await clusterCli(['nodes', '--json', '--config', leaderNow.config]);
    return (
      r.code === 0 &&
      JSON.parse(r.out).nodes.some((m: { id: string; healthy: boolean }) => m.id === down.name && !m.healthy)
    );
  }, 30_000);
  assert.ok(stale, `the leader never saw ${down.name} stop answering`);
  const refused = await clusterCli(['leader', down.name, '--config', leaderNow.config]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.err, /409/);
  assert.match(refused.err, new RegExp(`Node '${down.name}' has not answered the leader recently`));
  const picked = await clusterCli(['leader', '--config', leaderNow.config]);
  assert.equal(picked.code, 0, picked.err);
  assert.match(picked.out, new RegExp(`^leader: ${other.name} `, 'm'));
  await c.start(down);
  await c.waitStable(60_000);

  const last = w.ackedWrites;
  assert.ok(await until(() => w.ackedWrites >= last + 40, 60_000), 'writes go on');
  await c.waitConverged(60_000);
  await w.stop();
  const v = await verifyAndStop(c, 'moves', w);
  console.log(
    `leadership moves: ${first.name} -> ${target.name} (asked of ${asked.name}; ${small.size} writes through ${first.name} across it, ${[...small.values()].filter((b) => b.length > 200).length} blob-backed, 0 failed) -> ${next}; to ${down.name} (killed) refused, ${leaderNow.name} -> ${other.name}; acknowledged writes ${w.ackedWrites}, ` +
      `failed ${w.failed} (${JSON.stringify(Object.fromEntries(w.errors))}), reads checked ${v.checked} on ${c.nodes.length} nodes, lost ${v.lost.length}`,
  );
  assertVerdict(v, c.nodes.length);
});
