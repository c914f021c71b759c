// A serving thread hands the requests it does not serve itself (unsigned ones: /health,
// /metrics, /docs, the console, anonymous reads, browser POST forms) to the main thread over a
// private socket, and streams the answer back. Those are rare next to signed S3 traffic, and
// the main thread holds what they need (the one metrics registry, the console's sessions).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../node-http.ts';

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the message.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect']);

export function passToMain(agent: InstanceType<typeof http.Agent>, socketPath: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
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
