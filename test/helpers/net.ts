// Small network helpers for tests.
import { createServer } from 'node:net';

/** Ports this process already handed out: the kernel may offer a just-closed port again, and a
 *  cluster whose two nodes got the same one refuses to start (seen once in a loaded run). */
const handedOut = new Set<number>();

/** A loopback port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as { port: number };
    await new Promise((resolve) => srv.close(resolve));
    if (!handedOut.has(port) || attempt >= 20) {
      handedOut.add(port);
      return port;
    }
  }
}
