// A request that reaches a kept-alive socket while the server's event loop is stalled is
// answered, not reset: the stall outlasts the keep-alive timeout, whose timer Node checks
// before it reads the waiting request.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';

let server: TestServer | undefined;
after(() => server?.stop());

/** Reads one HTTP response with a Content-Length body from `socket`; rejects on close. */
function response(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (c: Buffer) => {
      got += c.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(got)?.[1];
      if (end >= 0 && len !== undefined && got.length >= end + 4 + Number(len)) {
        socket.off('data', onData).off('close', onClose).off('error', onClose);
        resolve(got.split('\r\n')[0]!);
      }
    };
    const onClose = (err?: unknown) => reject(new Error(`the server closed the socket: ${String(err ?? '')}`));
    socket.on('data', onData).once('close', onClose).once('error', onClose);
  });
}

test('a request sent on a kept-alive socket during a server stall longer than the keep-alive timeout is answered', {
  timeout: 30_000,
}, async () => {
  server = await startServer();
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const request = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  const first = response(socket);
  socket.write(request);
  assert.match(await first, /^HTTP\/1.1 200/);

  const second = response(socket);
  socket.write(request); // in the kernel now; the loop stalls before the server reads it
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 6_500); // > keepAliveTimeout + buffer (6 s)
  assert.match(await second, /^HTTP\/1.1 200/);
  socket.destroy();
});
