// Small network helpers for tests.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports this process already handed out: the kernel may offer a just-closed port again, and a
 *  cluster whose two nodes got the same one refuses to start (seen once in a loaded run). */
const handedOut = new Set<number>();

/** The kernel's ephemeral range starts here: a port below it is never taken as the local port
 *  of an outgoing connection between our check and a server's (re)bind, which a port the
 *  kernel chose (listen on 0) could be ("port already in use" when a cluster node restarted). */
const EPHEMERAL_LOW = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 0;
  }
})();
const LOW = 10_000;

async function bindable(port: number): Promise<number | undefined> {
  const srv = createServer();
  const bound = await new Promise<number | undefined>((resolve) => {
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => resolve((srv.address() as { port: number }).port));
  });
  if (bound !== undefined) await new Promise((resolve) => srv.close(resolve));
  return bound;
}

/** A loopback port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    // Below the ephemeral range when there is room (random, so parallel test processes rarely
    // meet), else one the kernel picks.
    const wanted = EPHEMERAL_LOW - LOW > 1000 ? LOW + Math.floor(Math.random() * (EPHEMERAL_LOW - LOW)) : 0;
    const port = await bindable(wanted);
    if (port === undefined) continue;
    if (!handedOut.has(port) || attempt >= 20) {
      handedOut.add(port);
      return port;
    }
  }
}
