// Cloud backends in a cluster keep each blob once, in the bucket every node shares (here one
// Azurite container). The orphan sweep runs on the leader only, after a ReadIndex, and spares
// blobs younger than cluster.orphan_grace_seconds: a follower cut off from the leader (whose
// replica lacks the newest rows) must never delete their live blobs.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  CONTAINER,
  PREFIX,
  startAzurite,
  type Azurite,
} from '../helpers/backend-azure.ts';
import { S3Cluster } from './helpers/s3-cluster.ts';

let cluster: S3Cluster | undefined;
let az: Azurite | undefined;
after(async () => {
  await cluster?.stop();
  await az?.kill();
});

const GRACE_S = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('only the leader sweeps cloud orphans, older than the grace period; a cut-off follower deletes nothing live', {
  timeout: 180_000,
}, async () => {
  az = await startAzurite();
  const a = az;
  const blobs = async (): Promise<Set<string>> => {
    const out = new Set<string>();
    for await (const b of a.container.listBlobsFlat({ prefix: PREFIX })) out.add(b.name.slice(PREFIX.length));
    return out;
  };
  const plant = async (): Promise<string> => {
    const id = randomBytes(16).toString('hex');
    await a.container.getBlockBlobClient(`${PREFIX}${id}`).upload('orphan', 6);
    return id;
  };
  cluster = await S3Cluster.create(3, {
    proxied: true,
    orphanGraceSeconds: GRACE_S,
    orphanSweepSeconds: 1,
    storageYaml:
      `storage:\n  backend: azure\n  inline_max_bytes: 0\n  azure:\n    container: ${CONTAINER}\n    prefix: ${PREFIX}\n` +
      `    account: ${AZURITE_ACCOUNT}\n    account_key: ${AZURITE_KEY}\n    endpoint_url: ${a.endpoint}\n`,
  });
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  const follower = c.nodes.find((n) => n !== leader)!;
  const s3 = c.client(leader);
  await s3.send(new CreateBucketCommand({ Bucket: 'sweep' }));
  await c.waitConverged();

  // The follower is cut off: the rows of the next writes never reach its replica.
  c.cut(follower, { kind: 'drop' });
  const bodies = new Map<string, Buffer>();
  for (let i = 0; i < 5; i++) {
    const body = randomBytes(2000 + i);
    bodies.set(`live-${i}`, body);
    // The leader keeps its majority with the third node; retry through a re-election just in case.
    for (let attempt = 0; ; attempt++) {
      try {
        await c
          .client(await c.waitStable(20_000).catch(() => leader))
          .send(new PutObjectCommand({ Bucket: 'sweep', Key: `live-${i}`, Body: body }));
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await sleep(250);
      }
    }
  }
  const live = await blobs();
  assert.equal(live.size, 5, 'one blob per object in the shared container');
  const old = await plant();
  // Sweeps run every second; the orphan stays while it is younger than the grace period.
  await sleep((GRACE_S - 3) * 1000);
  assert.ok((await blobs()).has(old), 'an orphan younger than the grace period is kept');
  await sleep(4000);
  const sweepsSeen = (min: 'orphans_young' | 'orphans_removed') =>
    leader.proc!.logs.filter((l) => l.msg === 'cloud orphan sweep done' && Number(l[min]) > 0).length;
  const youngBefore = sweepsSeen('orphans_young');
  const young = await plant();
  const plantedYoung = Date.now();

  // The leader removes the old orphan within a few sweep intervals...
  const until = Date.now() + 60_000;
  while ((await blobs()).has(old) || sweepsSeen('orphans_young') < youngBefore + 2) {
    if (Date.now() > until) throw new Error('the old orphan was never swept, or no sweep saw the young one');
    await sleep(200);
  }
  const sweptAfterMs = Date.now() - plantedYoung;
  // ...and two sweeps since have spared the young one (checked while it is surely younger than the grace period).
  assert.ok(sweptAfterMs < (GRACE_S - 1) * 1000, `the sweeps came ${sweptAfterMs} ms after the young orphan`);
  assert.ok((await blobs()).has(young), 'an orphan younger than the grace period survives the sweep');

  // The cut-off follower has had many sweep intervals with the live blobs past the grace
  // period and missing from its replica: it deleted none of them.
  await sleep(3000);
  const now = await blobs();
  for (const id of live) assert.ok(now.has(id), `live blob ${id} was deleted`);
  const swept = follower.proc!.logs.filter((l) => l.msg === 'cloud orphan sweep done');
  assert.deepEqual(swept, [], 'the follower swept nothing');
  assert.ok(sweepsSeen('orphans_removed') >= 1, 'the leader logged its sweep');

  // Healed, the follower catches up and serves every object from the shared container.
  c.healAll();
  await c.waitStable(30_000);
  await c.waitConverged(30_000);
  for (const [key, body] of bodies) {
    const r = await c.client(follower).send(new GetObjectCommand({ Bucket: 'sweep', Key: key }));
    assert.deepEqual(Buffer.from(await r.Body!.transformToByteArray()), body, key);
  }
});
