// Issue 10: idle, unauthenticated connections must not use up the file descriptors. The
// real server runs under `ulimit -n 256`; hundreds of silent sockets are opened; requests on
// a connection opened before keep working (they need descriptors for object files), and the
// silent sockets are cut once server.headers_timeout_seconds passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnServer } from '../helpers/process.ts';
import { signRequest } from '../helpers/signer.ts';
import { ACCESS_KEY, REGION, SECRET_KEY } from '../helpers/server.ts';

const IDLE_SOCKETS = 400;

test('idle sockets past the descriptor limit neither break requests on open connections nor stay open', {
  timeout: 60_000,
}, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-fds-'));
  const config = path.join(dir, 'config.yaml');
  await writeFile(config, 'server:\n  headers_timeout_seconds: 2\n');
  const srv = await spawnServer(path.join(dir, 'data'), ['--config', config], undefined, 256);
  const idle: net.Socket[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(async () => {
    for (const s of idle) s.destroy();
    agent.destroy();
    await srv.kill9();
    await rm(dir, { recursive: true, force: true });
  });
  const listening = srv.logs.find((l) => l.msg === 'listening')!;
  assert.equal(listening.max_connections, 96, '(256 descriptors - 64 reserved) / 2');

  // One keep-alive connection, opened before the flood.
  let existingSocket: net.Socket | undefined;
  const request = (method: string, p: string, body?: Buffer) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const url = `${srv.url}${p}`;
      const headers = signRequest({
        method,
        url,
        accessKey: ACCESS_KEY,
        secretKey: SECRET_KEY,
        region: REGION,
        body: body ?? '',
      });
      const req = http.request(url, { method, headers, agent }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('socket', (s) => {
        if (existingSocket && s !== existingSocket) reject(new Error('the agent opened a second connection'));
        existingSocket = s;
      });
      req.on('error', reject);
      req.end(body);
    });
  assert.equal((await request('PUT', '/fds')).status, 200);
  assert.equal((await request('PUT', '/fds/before', Buffer.alloc(200 * 1024, 1))).status, 200);

  let closedByServer = 0;
  await Promise.all(
    Array.from(
      { length: IDLE_SOCKETS },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(srv.port, '127.0.0.1', () => resolve());
          s.on('error', () => resolve());
          s.on('close', () => closedByServer++);
          idle.push(s);
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 200));

  // Object files need descriptors: PUT and GET on the open connection must still work.
  for (let i = 0; i < 10; i++) {
    const put = await request('PUT', `/fds/during-${i}`, Buffer.alloc(200 * 1024, i));
    assert.equal(put.status, 200, put.text);
    const get = await request('GET', '/fds/before');
    assert.equal(get.status, 200, get.text);
  }
  assert.ok(!srv.logs.some((l) => JSON.stringify(l).includes('EMFILE')), 'no EMFILE in the log');

  // Silent sockets are cut after the header timeout (2 s, checked every second).
  const deadline = Date.now() + 6000;
  while (closedByServer < IDLE_SOCKETS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(closedByServer, IDLE_SOCKETS, 'every silent socket was closed by the server');
  const health = await fetch(`${srv.url}/healthz`);
  assert.equal(health.status, 200);
});
