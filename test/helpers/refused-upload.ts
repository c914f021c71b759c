// Anonymous PUTs the server refuses while their body may still be arriving: with `bodyAfterMs`
// the headers go first and the body that much later, the way a client streaming a large
// upload behaves; without it, headers and body leave in one write.
import http from 'node:http';

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
