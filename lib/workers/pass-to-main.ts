// A serving thread hands the requests it does not serve itself (unsigned ones: /health,
// /metrics, /docs, the console, anonymous reads, browser POST forms) to the main thread over a
// private socket, and streams the answer back. Those are rare next to signed S3 traffic, and
// the main thread holds what they need (the one metrics registry, the console's sessions).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { http } from '../node-http.ts';
import { setClientAddress } from '../client-address.ts';

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the message.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect']);

/** Headers only a serving thread may set: the hand-over secret and the client's address. */
export const HANDOVER_HEADER = 'x-bleepstore-handover';
export const CLIENT_ADDRESS_HEADER = 'x-bleepstore-client-address';

export function passToMain(agent: InstanceType<typeof http.Agent>, socketPath: string, secret: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    headers[HANDOVER_HEADER] = secret;
    headers[CLIENT_ADDRESS_HEADER] = req.socket.remoteAddress ?? '';
    const out = http.request({ socketPath, agent, method: req.method, path: req.url, headers }, (answer) => {
      const raw: string[] = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2)
        if (
          !HOP.has(answer.rawHeaders[i]!.toLowerCase()) &&
          answer.rawHeaders[i]!.toLowerCase() !== 'transfer-encoding'
        )
          raw.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
      res.writeHead(answer.statusCode ?? 502, raw);
      answer.pipe(res);
      answer.once('error', () => res.destroy());
    });
    out.once('error', () => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(503, { 'Content-Type': 'application/xml', 'Retry-After': '1', Server: 'BleepStore' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.</Message></Error>',
      );
    });
    res.once('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  };
}

/**
 * The main thread's listener for handed-over requests: only a serving thread knows `secret`
 * (the socket's name is visible to local users in /proc/net/unix); anything else gets 403.
 */
export function takeHandedOver(
  secret: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = Buffer.from(secret);
  return (req, res) => {
    const given = Buffer.from(String(req.headers[HANDOVER_HEADER] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(403, { 'Content-Type': 'text/plain', Connection: 'close' }).end('not a serving thread\n');
      return;
    }
    const address = req.headers[CLIENT_ADDRESS_HEADER];
    if (typeof address === 'string' && address) setClientAddress(req, address);
    delete req.headers[HANDOVER_HEADER];
    delete req.headers[CLIENT_ADDRESS_HEADER];
    handler(req, res);
  };
}
