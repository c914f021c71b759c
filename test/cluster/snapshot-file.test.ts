// The receiver's side of a streamed snapshot (lib/cluster/snapshot-file.ts), chunk sizes
// chosen so chunk boundaries fall inside the length prefixes, the header, the head and the tail.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { message } from '../../lib/cluster/raft/index.ts';
import { SnapshotFile, SnapshotSource } from '../../lib/cluster/snapshot-file.ts';
import { refOf } from '../../lib/cluster/snapshot-data.ts';

const root = mkdtempSync(path.join(tmpdir(), 'bleepstore-snapfile-unit-'));
after(() => rmSync(root, { recursive: true, force: true }));

const snap = (head: Buffer) =>
  message('MsgSnap', {
    from: 1,
    to: 2,
    term: 5,
    snapshot: { metadata: { index: 9, term: 5, confState: { voters: [1, 2], learners: [] } }, data: head },
  });

test('a snapshot arrives byte-exact whatever the chunk size, with its tail kept as a file and its head in the message', async () => {
  let case_ = 0;
  for (const chunk of [1, 3, 7, 64, 1000, 65_536])
    for (const [headLen, tailLen] of [
      [0, 0],
      [20, 0],
      [0, 5000],
      [20, 5000],
      [3000, 70_000],
    ] as const) {
      const dir = path.join(root, `c${++case_}`);
      const head = randomBytes(headLen);
      const tail = randomBytes(tailLen);
      const src = path.join(root, `tail-${case_}.db`);
      writeFileSync(src, tail);
      const source = await SnapshotSource.of(snap(head), tailLen ? src : undefined);
      const n = Math.max(1, Math.ceil(source.size / chunk));
      const f = await SnapshotFile.create(dir, 1, `id${case_}`, n);
      for (let i = 0; i < n; i++) await f.append(await source.slice(i * chunk, Math.min((i + 1) * chunk, source.size)));
      await source.close();
      const got = await f.finish();
      const data = Buffer.from(got.snapshot!.data);
      const what = `chunk ${chunk}, head ${headLen}, tail ${tailLen}`;
      assert.equal(got.snapshot!.metadata.index, 9, what);
      assert.ok(data.subarray(0, headLen).equals(head), `${what}: head`);
      const kept = refOf(data.subarray(headLen));
      if (tailLen === 0) {
        assert.equal(kept, undefined, `${what}: no file without a tail`);
        assert.deepEqual(readdirSync(dir), [], `${what}: nothing left`);
      } else {
        assert.ok(kept && readFileSync(kept).equals(tail), `${what}: the kept file is the tail`);
        assert.deepEqual(readdirSync(dir), [path.basename(kept)], `${what}: only the kept file`);
      }
    }
});

test('a snapshot whose header claims more than 64 KiB, or that ends inside its head, is refused and leaves no file', async () => {
  const dir = path.join(root, 'bad');
  const long = Buffer.alloc(8);
  long.writeUInt32BE(1 << 20, 0);
  const f = await SnapshotFile.create(dir, 1, 'long', 1);
  await assert.rejects(f.append(long), /header too long/);
  await f.discard();
  const whole = await SnapshotSource.of(snap(Buffer.alloc(100, 1)));
  const cut = await whole.slice(0, whole.size - 10);
  const g = await SnapshotFile.create(dir, 1, 'cut', 1);
  await g.append(cut);
  await assert.rejects(g.finish(), /ends inside its head/);
  await g.discard();
  assert.deepEqual(readdirSync(dir), []);
});
