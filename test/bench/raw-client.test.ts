// The bench's raw-socket client against real node:http servers: Content-Length and chunked
// bodies, HEAD, keep-alive reuse, a server closing the connection, and error bodies kept.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RawClient } from '../../lib/bench/raw.ts';

const req = (method: string, path: string) => `${method} ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;

describe('bench raw client', () => {
  let server: http.Server;
  let client: RawClient;
  const sockets = new Set<unknown>();
  before(async () => {
    server = http.createServer((rq, rs) => {
      sockets.add(rq.socket);
      if (rq.url === '/chunked') {
        rs.write('a'.repeat(3000));
        rs.write('b'.repeat(70_000));
        rs.end('c');
      } else if (rq.url === '/close') {
        rs.setHeader('connection', 'close');
        rs.end('bye');
      } else if (rq.url === '/missing') {
        rs.writeHead(404, { 'content-type': 'application/xml' });
        rs.end('<Error><Code>NoSuchKey</Code></Error>');
      } else rs.end(Buffer.alloc(1024, 7));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = new RawClient(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
  after(() => {
    client.close();
    server.closeAllConnections();
    server.close();
  });

  test('reads Content-Length and chunked bodies on one kept-alive connection', async () => {
    sockets.clear();
    for (let i = 0; i < 3; i++) {
      const a = await client.send(req('GET', '/'), undefined, false);
      assert.equal(a.status, 200);
      assert.equal(a.bytes, 1024);
      assert.ok(a.ttfbMs > 0);
      const b = await client.send(req('GET', '/chunked'), undefined, false);
      assert.equal(b.bytes, 73_001);
    }
    assert.equal(sockets.size, 1);
  });

  test('a HEAD answer with a Content-Length has no body to wait for', async () => {
    const r = await client.send(req('HEAD', '/'), undefined, true);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, 0);
  });

  test('Connection: close ends the socket and the next request opens a new one', async () => {
    sockets.clear();
    assert.equal((await client.send(req('GET', '/close'), undefined, false)).bytes, 3);
    assert.equal((await client.send(req('GET', '/'), undefined, false)).bytes, 1024);
    assert.equal(sockets.size, 2);
  });

  test('an error answer keeps its body, for the S3 error code', async () => {
    const r = await client.send(req('GET', '/missing'), undefined, false);
    assert.equal(r.status, 404);
    assert.match(r.body!.toString(), /NoSuchKey/);
  });

  test('an idle connection the server closed is replaced without failing the request', async () => {
    await client.send(req('GET', '/'), undefined, false);
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await client.send(req('GET', '/'), undefined, false)).bytes, 1024);
  });
});
