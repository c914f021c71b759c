// A TCP proxy in front of one link (one direction of node-to-node traffic) that can pass,
// drop (cut every connection and refuse new ones), delay or discard what it forwards, or cut
// only the connections that send one kind of request: the fault injector of the cluster
// partition tests.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** `stall`: connections stay up and what arrives is discarded, as with a hung peer.
 *  `refuse`: a connection that sends a chunk starting with `prefix` (a request line such as
 *  `PUT /cluster/blob/`) is cut; everything else passes. */
export type LinkMode =
  | { kind: 'pass' }
  | { kind: 'drop' }
  | { kind: 'delay'; ms: number }
  | { kind: 'stall' }
  | { kind: 'refuse'; prefix: string };

export class FaultProxy {
  mode: LinkMode = { kind: 'pass' };
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  private readonly targetPort: number;

  constructor(targetPort: number) {
    this.targetPort = targetPort;
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  set(mode: LinkMode): void {
    this.mode = mode;
    if (mode.kind === 'drop') for (const s of this.sockets) s.destroy();
  }

  private accept(client: Socket): void {
    if (this.mode.kind === 'drop') {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (d: Buffer) => {
        if (this.mode.kind === 'drop') return from.destroy();
        if (
          this.mode.kind === 'refuse' &&
          from === client &&
          d.toString('latin1', 0, this.mode.prefix.length) === this.mode.prefix
        ) {
          client.destroy();
          upstream.destroy();
          return;
        }
        if (this.mode.kind === 'stall') return;
        if (this.mode.kind === 'delay') setTimeout(() => to.write(d), this.mode.ms);
        else to.write(d);
      });
    forward(client, upstream);
    forward(upstream, client);
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}
