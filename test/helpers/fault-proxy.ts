// A TCP proxy in front of one link (one direction of node-to-node traffic) that can pass,
// drop (cut every connection and refuse new ones), delay or discard what it forwards: the fault
// injector of the cluster partition tests.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** `stall`: connections stay up and what arrives is discarded, as with a hung peer. */
export type LinkMode = { kind: 'pass' } | { kind: 'drop' } | { kind: 'delay'; ms: number } | { kind: 'stall' };

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
