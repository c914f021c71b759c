// Anonymous PUTs the server refuses while their body may still be arriving: with `bodyAfterMs`
// the headers go first and the body that much later, the way a client streaming a large
// upload behaves; without it, headers and body leave in one write.
import http from 'node:http';
import net from 'node:net';

/** What `n` such uploads got: the status of each answer read, and the connection errors. */
export async function refusedUploads(
  url: string,
  n: number,
  size: number,
  bodyAfterMs?: number,
): Promise<{ statuses: number[]; errors: string[] }> {
  const statuses: number[] = [];
  const errors: string[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const target = new URL(url);
  try {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve) => {
        const out = http.request(
          {
            host: target.hostname,
            port: target.port,
            path: `${target.pathname}-${i}`,
            method: 'PUT',
            agent,
            headers: { 'content-length': String(size) },
          },
          (res) => {
            statuses.push(res.statusCode ?? 0);
            res.resume();
            res.once('end', resolve);
          },
        );
        out.once('error', (err: NodeJS.ErrnoException) => {
          errors.push(err.code ?? err.message);
          resolve();
        });
        if (bodyAfterMs === undefined) return void out.end(Buffer.alloc(size));
        out.flushHeaders();
        setTimeout(() => out.end(Buffer.alloc(size)), bodyAfterMs);
      });
    }
  } finally {
    agent.destroy();
  }
  return { statuses, errors };
}

/**
 * `n` uploads whose head the HTTP parser refuses (a header name with a space), each followed
 * 1 ms later by a `size`-byte body, over raw sockets: how many read the 400, and how many
 * connections ended without it (with the socket's error code).
 */
export async function unparseableUploads(
  port: number,
  n: number,
  size: number,
): Promise<{ answered: number; lost: Record<string, number> }> {
  let answered = 0;
  const lost: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let got = '';
      let code = 'closed';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('error', (e: NodeJS.ErrnoException) => (code = e.code ?? e.message));
      s.on('close', () => {
        if (got.startsWith('HTTP/1.1 400 ')) answered++;
        else lost[code] = (lost[code] ?? 0) + 1;
        resolve();
      });
      s.write(`PUT /robust/k-${i} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${size}\r\nBad Header: x\r\n\r\n`);
      setTimeout(() => s.end(Buffer.alloc(size)), 1);
    });
  }
  return { answered, lost };
}
