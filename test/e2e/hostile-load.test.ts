// Issue 10, "done when": a bounded loopback load test. While hostile XML bodies, slowloris
// connections and (as root, on a 64 MiB tmpfs) a full disk are applied to the real server
// process, /healthz keeps answering on fresh connections (median under 50 ms, no stall),
// and the server's RSS is back under 200 MiB afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rssBytes, spawnServer } from '../helpers/process.ts';
import { send } from '../helpers/raw.ts';
import { signRequest } from '../helpers/signer.ts';
import { ACCESS_KEY, REGION, SECRET_KEY } from '../helpers/server.ts';
import { fillDisk, mountTmpfs } from '../helpers/small-fs.ts';
import { MiB } from '../helpers/memory-probe.ts';

const ATTACK_MS = 6000;
const SLOWLORIS = 150;
/** Pause between one loop's hostile requests: the point is the server's answer, not to saturate a shared 2-core machine. */
const PACE_MS = 20;

/**
 * A signed request, signed once and sent as often as asked (the signature stays valid for
 * minutes), so the load generator spends its CPU sending, not hashing. A connection the
 * server cut before the body was sent counts as an answer too.
 */
function signer(method: string, url: string, body: Buffer | string = '', headers: Record<string, string> = {}) {
  const signedHeaders = signRequest({
    method,
    url,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: REGION,
    body,
    headers,
  });
  return () =>
    send(method, url, signedHeaders, body).catch((err: NodeJS.ErrnoException) => ({
      status: 0,
      code: err.code,
      text: '',
    }));
}
const sign = (method: string, url: string, body: Buffer | string = '', headers: Record<string, string> = {}) =>
  signer(method, url, body, headers)();

/** Fetches /healthz on a fresh connection every 25 ms after a 300 ms start, prints the latencies. */
const PROBE = `
const [base, ms] = process.argv.slice(1);
const out = [];
setTimeout(async () => {
  const end = Date.now() + Number(ms);
  while (Date.now() < end) {
    const t0 = performance.now();
    const res = await fetch(base + '/healthz', { headers: { connection: 'close' } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error('/healthz answered ' + res.status);
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 25));
  }
  process.stdout.write(JSON.stringify(out));
}, 300);`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

test('/healthz answers in under 50 ms (median) during hostile XML, slowloris and a full disk; RSS ends under 200 MiB', {
  timeout: 60_000,
}, async (t) => {
  const mounted = await mountTmpfs('64m');
  const fullDisk = typeof mounted !== 'string';
  if (!fullDisk) t.diagnostic(`full disk not applied: ${mounted}`);
  const dir = fullDisk ? mounted.dir : await mkdtemp(path.join(tmpdir(), 'bleepstore-load-'));
  const config = path.join(tmpdir(), `bleepstore-load-${process.pid}.yaml`);
  await writeFile(
    config,
    'server:\n  headers_timeout_seconds: 2\nstorage:\n  min_free_bytes: 8388608\nlogging:\n  level: warn\n',
  );
  const srv = await spawnServer(path.join(dir, 'data'), ['--config', config]);
  const sockets = new Set<net.Socket>();
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await srv.kill9();
    await rm(config, { force: true });
    if (fullDisk) await mounted.unmount();
    else await rm(dir, { recursive: true, force: true });
  });
  const base = srv.url;
  assert.equal((await sign('PUT', `${base}/load`)).status, 200);
  const parts = await sign('POST', `${base}/load/mp?uploads`);
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(parts.text)![1]!;

  const rssBefore = rssBytes(srv.pid);
  const stopAt = Date.now() + ATTACK_MS;
  const running = () => Date.now() < stopAt;
  const seen = new Map<string, number>();
  const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

  // Hostile XML: 2 MiB of nesting for DeleteObjects; 4 MiB of nesting, and of <Part/>, for Complete.
  const nested = `<Delete>${'<Object>'.repeat(300_000)}`.slice(0, 2 * MiB);
  const nestedMd5 = createHash('md5').update(nested).digest('base64');
  const deepComplete = `<CompleteMultipartUpload>${'<Part>'.repeat(700_000)}`.slice(0, 4 * MiB);
  const flood = `<CompleteMultipartUpload>${'<Part/>'.repeat(599_000)}</CompleteMultipartUpload>`; // just under the 4 MiB cap
  const hostile = {
    delete: signer('POST', `${base}/load?delete`, nested, { 'content-md5': nestedMd5 }),
    complete: signer('POST', `${base}/load/mp?uploadId=${uploadId}`, flood),
    deepComplete: signer('POST', `${base}/load/mp?uploadId=${uploadId}`, deepComplete),
  };
  const xmlLoop = async (kind: keyof typeof hostile) => {
    while (running()) {
      const r = await hostile[kind]();
      count(`${kind} ${r.status} ${r.code}`);
      await new Promise((r) => setTimeout(r, PACE_MS));
    }
  };

  // Slowloris: connections that send one header byte every 300 ms, reconnecting when cut.
  const slowloris = async () => {
    while (running()) {
      await new Promise<void>((resolve) => {
        const s = net.connect(srv.port, '127.0.0.1');
        sockets.add(s);
        const head = 'GET /load HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(1000);
        let i = 0;
        const drip = setInterval(() => {
          if (!running()) s.destroy();
          else if (s.writable) s.write(head[i++ % head.length]!);
        }, 300);
        const done = () => {
          clearInterval(drip);
          sockets.delete(s);
          count('slowloris cut');
          resolve();
        };
        s.on('close', done);
        s.on('error', () => s.destroy());
      });
    }
  };

  // Full disk: fill the tmpfs from outside, and keep asking to store more.
  const disk = async () => {
    if (!fullDisk) return;
    await fillDisk(path.join(dir, 'filler'));
    const put = signer('PUT', `${base}/load/more`, Buffer.alloc(256 * 1024, 1));
    // At least once: on a loaded machine filling the disk can outlast the attack window.
    do {
      const r = await put();
      count(`put ${r.status} ${r.code ?? ''}`.trim());
      await new Promise((r) => setTimeout(r, 20));
    } while (running());
  };

  // The probe runs in its own process, so its timings are not delayed by this process's
  // event loop, which is busy generating the attack.
  let latencies: number[] = [];
  const probe = async () => {
    const child = spawn(process.execPath, ['-e', PROBE, base, String(ATTACK_MS - 300)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => child.once('exit', r));
    latencies = JSON.parse(out) as number[];
  };

  await Promise.all([
    xmlLoop('delete'),
    xmlLoop('deepComplete'),
    xmlLoop('complete'),
    disk(),
    probe(),
    ...Array.from({ length: SLOWLORIS }, slowloris),
  ]);

  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const max = latencies[latencies.length - 1]!;
  await new Promise((r) => setTimeout(r, 1000));
  const rss = rssBytes(srv.pid);
  const summary = `/healthz n=${latencies.length} p50 ${p50.toFixed(1)} ms p90 ${percentile(latencies, 90).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms max ${max.toFixed(1)} ms; RSS before ${(rssBefore / MiB).toFixed(0)} MiB, after ${(rss / MiB).toFixed(0)} MiB; ${[...seen].map(([k, v]) => `${k}: ${v}`).join(', ')}`;
  t.diagnostic(summary);
  console.log(summary);

  assert.ok(latencies.length >= 50, summary);
  assert.ok(
    [...seen.keys()].some((k) => k === 'delete 400 MalformedXML'),
    summary,
  );
  assert.ok(
    [...seen.keys()].some((k) => k === 'complete 400 MalformedXML'),
    summary,
  );
  assert.ok(
    [...seen.keys()].some((k) => k === 'deepComplete 400 MalformedXML'),
    summary,
  );
  assert.ok(![...seen.keys()].some((k) => / 500 /.test(k)), summary);
  assert.ok(
    (seen.get('slowloris cut') ?? 0) >= SLOWLORIS,
    `every slowloris connection was cut at least once: ${summary}`,
  );
  if (fullDisk)
    assert.ok(!seen.has('put 500 InternalError') && (seen.get('put 503 ServiceUnavailable') ?? 0) > 0, summary);
  // The median is the target; the tail also carries the scheduling delay of a 2-core machine
  // shared with other jobs, so it is held only to "no stall" (an unbounded parse took 2-10 s).
  assert.ok(p50 < 50, summary);
  assert.ok(max < 1000, summary);
  assert.ok(rss < 200 * MiB, summary);
});
