// The address of the client a request came from. A request a serving thread handed to the main
// thread (lib/workers/pass-to-main.ts) arrives over a private socket; the thread that accepted
// it states the client's address, and the main thread keeps it here.
import type { IncomingMessage } from 'node:http';

const handedOver = new WeakMap<IncomingMessage, string>();

export function clientAddress(req: IncomingMessage): string | undefined {
  return handedOver.get(req) ?? req.socket.remoteAddress;
}

export function setClientAddress(req: IncomingMessage, address: string): void {
  handedOver.set(req, address);
}
