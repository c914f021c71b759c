// kill -9 at random moments under load, again and again; after every restart each
// acknowledged write must read back byte for byte with its ETag, each acknowledged delete
// must stay deleted, nothing unacknowledged may be half-visible, and recovery must leave no
// temp or orphan file behind. (specs/crash-only.md, "Testing Crash-Only Correctness")
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACCESS_KEY, REGION, SECRET_KEY } from '../helpers/server.ts';
import { signRequest } from '../helpers/signer.ts';
import { send, type RawResponse } from '../helpers/raw.ts';
import { killUnderLoad, restartScrubbed, spawnServer, type ServerProcess } from '../helpers/process.ts';
import { diskState } from '../helpers/files.ts';

const KILLS = Number(process.env.CRASH_KILLS ?? 32);
const WORKERS = 6;
const KEYS_PER_WORKER = 6;
const MiB = 1024 * 1024;
const BUCKET = 'crash-bucket';

// `md5` is the content's MD5: a copy of a multipart object gets it as a plain ETag.
type State = { present: false } | { present: true; sha256: string; etag: string; md5: string };
interface Slot {
  acked: State;
  pending: State | null;
}

const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const same = (a: State, b: State) =>
  a.present === b.present && (!a.present || (b.present && a.sha256 === b.sha256 && a.etag === b.etag));

async function call(
  base: string,
  method: string,
  pathAndQuery: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const url = `${base}${pathAndQuery}`;
  const signed = signRequest({
    method,
    url,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: REGION,
    payloadHash: 'UNSIGNED-PAYLOAD',
    headers: { ...headers, 'content-length': String(body?.length ?? 0) },
  });
  return send(method, url, signed, body);
}

function expectOk(r: RawResponse, what: string): void {
  if (r.status >= 300 || r.code) throw Object.assign(new Error(`${what}: ${r.status} ${r.code ?? ''}`), { s3: true });
}

const bigPart = randomBytes(5 * MiB);

test(`kill -9 at random moments ${KILLS} times loses no acknowledged write`, { timeout: 600_000 }, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-crash-'));
  const slots = new Map<string, Slot>();
  const keysOf = (w: number) => Array.from({ length: KEYS_PER_WORKER }, (_, i) => `w${w}/key-${i}`);
  for (let w = 0; w < WORKERS; w++)
    for (const k of keysOf(w)) slots.set(k, { acked: { present: false }, pending: null });
  const counts = {
    kills: 0,
    killsDuringStartup: 0,
    ackedWrites: 0,
    ackedDeletes: 0,
    checked: 0,
    lost: 0,
    unexpectedErrors: 0,
    ops: 0,
  };

  let srv: ServerProcess = await spawnServer(dataDir);
  expectOk(await call(srv.url, 'PUT', `/${BUCKET}`), 'create bucket');

  async function write(base: string, key: string, data: Buffer): Promise<void> {
    const slot = slots.get(key)!;
    const next: State = { present: true, sha256: sha(data), etag: `"${md5hex(data)}"`, md5: md5hex(data) };
    slot.pending = next;
    const r = await call(base, 'PUT', `/${BUCKET}/${key}`, data);
    expectOk(r, `PUT ${key}`);
    assert.equal(r.headers.etag, next.etag);
    slot.acked = next;
    slot.pending = null;
    counts.ackedWrites++;
  }

  async function remove(base: string, key: string): Promise<void> {
    const slot = slots.get(key)!;
    slot.pending = { present: false };
    expectOk(await call(base, 'DELETE', `/${BUCKET}/${key}`), `DELETE ${key}`);
    slot.acked = { present: false };
    slot.pending = null;
    counts.ackedDeletes++;
  }

  async function copy(base: string, from: string, to: string): Promise<void> {
    const src = slots.get(from)!.acked;
    if (!src.present || from === to) return;
    const slot = slots.get(to)!;
    const next: State = { ...src, etag: `"${src.md5}"` };
    slot.pending = next;
    const r = await call(base, 'PUT', `/${BUCKET}/${to}`, undefined, { 'x-amz-copy-source': `/${BUCKET}/${from}` });
    expectOk(r, `COPY ${from} → ${to}`);
    slot.acked = next;
    slot.pending = null;
    counts.ackedWrites++;
  }

  async function multipart(base: string, key: string): Promise<void> {
    const created = await call(base, 'POST', `/${BUCKET}/${key}?uploads`);
    expectOk(created, 'create upload');
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1]!;
    const p1 = Buffer.concat([randomBytes(16), bigPart.subarray(16)]);
    const p2 = randomBytes(randomInt(1, 100_000));
    const etags: string[] = [];
    for (const [i, part] of [p1, p2].entries()) {
      const r = await call(
        base,
        'PUT',
        `/${BUCKET}/${key}?partNumber=${i + 1}&uploadId=${encodeURIComponent(uploadId)}`,
        part,
      );
      expectOk(r, 'upload part');
      etags.push(String(r.headers.etag));
    }
    const etag = `"${createHash('md5')
      .update(Buffer.concat([p1, p2].map((p) => createHash('md5').update(p).digest())))
      .digest('hex')}-2"`;
    const slot = slots.get(key)!;
    const whole = Buffer.concat([p1, p2]);
    const next: State = { present: true, sha256: sha(whole), etag, md5: md5hex(whole) };
    slot.pending = next;
    const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const done = await call(
      base,
      'POST',
      `/${BUCKET}/${key}?uploadId=${encodeURIComponent(uploadId)}`,
      Buffer.from(xml),
    );
    expectOk(done, 'complete');
    assert.match(done.text, new RegExp(etag.replace(/"/g, '&quot;|"')));
    slot.acked = next;
    slot.pending = null;
    counts.ackedWrites++;
  }

  async function worker(base: string, w: number, stop: { now: boolean }): Promise<void> {
    const keys = keysOf(w);
    while (!stop.now) {
      const key = keys[randomInt(keys.length)]!;
      const roll = randomInt(100);
      counts.ops++;
      try {
        if (roll < 45) await write(base, key, randomBytes(roll < 5 ? randomInt(MiB, 3 * MiB) : randomInt(0, 200_000)));
        else if (roll < 65) await remove(base, key);
        else if (roll < 85) await copy(base, keys[randomInt(keys.length)]!, key);
        else await multipart(base, key);
      } catch (err) {
        if ((err as { s3?: boolean }).s3 || err instanceof assert.AssertionError) {
          if (!stop.now) {
            counts.unexpectedErrors++;
            throw err;
          }
        }
        return; // the server died under us: whatever was in flight stays pending
      }
    }
  }

  async function verify(base: string): Promise<void> {
    const disk = await diskState(dataDir);
    assert.deepEqual(disk.temp, [], 'no temp file survives a start');
    const orphans = [...disk.files].filter((f) => !disk.referenced.has(f));
    const missing = [...disk.referenced].filter((f) => !disk.files.has(f));
    assert.deepEqual(orphans, [], 'no orphan file survives a start');
    assert.deepEqual(missing, [], 'every row has its file');
    for (const [key, slot] of slots) {
      const r = await call(base, 'GET', `/${BUCKET}/${key}`);
      let seen: State;
      if (r.status === 404) seen = { present: false };
      else {
        assert.equal(r.status, 200, `GET ${key}: ${r.status} ${r.code}`);
        seen = { present: true, sha256: sha(r.body), etag: String(r.headers.etag), md5: md5hex(r.body) };
      }
      const ok = same(seen, slot.acked) || (slot.pending !== null && same(seen, slot.pending));
      if (!ok) counts.lost++;
      assert.ok(
        ok,
        `${key}: found ${JSON.stringify(seen)}, acknowledged ${JSON.stringify(slot.acked)}, in flight ${JSON.stringify(slot.pending)}`,
      );
      slot.acked = seen;
      slot.pending = null;
      counts.checked++;
    }
  }

  try {
    for (let round = 0; round < KILLS; round++) {
      await killUnderLoad(srv, round, (stop) => Array.from({ length: WORKERS }, (_, w) => worker(srv.url, w, stop)));
      counts.kills++;
      assert.equal(counts.unexpectedErrors, 0);
      // Every fourth round also kills the next start in the middle of its recovery.
      if (round % 4 === 3) {
        let child: import('node:child_process').ChildProcess | undefined;
        const starting = spawnServer(dataDir, [], (p) => (child = p));
        starting.catch(() => {});
        await sleep(randomInt(20, 250));
        assert.ok(
          child!.exitCode === null && child!.signalCode === null,
          `round ${round}: the starting server exited by itself (code ${child!.exitCode})`,
        );
        child!.kill('SIGKILL');
        await new Promise((r) =>
          child!.exitCode !== null || child!.signalCode !== null ? r(null) : child!.once('exit', r),
        );
        counts.killsDuringStartup++;
      }
      // Orphans go in the background scrub after start; check once it has run.
      srv = await restartScrubbed(dataDir);
      await verify(srv.url);
    }
  } finally {
    await srv.kill9().catch(() => {});
    console.log(
      `crash test: kills=${counts.kills} (during start-up: ${counts.killsDuringStartup}) ops=${counts.ops} acked_writes=${counts.ackedWrites} acked_deletes=${counts.ackedDeletes} keys_checked=${counts.checked} lost=${counts.lost}`,
    );
    await rm(dataDir, { recursive: true, force: true });
  }
  assert.ok(counts.kills >= Math.min(KILLS, 30));
  assert.equal(counts.lost, 0);
  assert.ok(counts.ackedWrites > 50, 'the load really wrote');
});
