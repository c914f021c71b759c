// The S3 port's node:http server: limits, timeouts, Expect: 100-continue and malformed-request
// answers. Built the same way by the main thread and by every serving thread (lib/workers/).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from './config.ts';
import { http } from './node-http.ts';
import { maxConnections } from './ops/connections.ts';
import { closeIdleAfterPoll } from './ops/idle-timeout.ts';
import { lingerWhenClosed } from './ops/lingering-close.ts';
import { holdContinue } from './s3/body.ts';
import type { Drain } from './ops/drain.ts';
import type { Logger } from './ops/log.ts';

/** `connectionShare`: this server's part of server.max_connections (1 / serving threads). */
export function createS3HttpServer(
  config: Config,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  connectionShare = 1,
): Server {
  const server = http.createServer(
    {
      maxHeaderSize: config.server.max_header_bytes,
      requestTimeout: 0, // large uploads may take long; idle sockets are cut by `timeout` below
      // Slow or silent header senders are cut soon, checked every second (Node's default is 30 s).
      headersTimeout: config.server.headers_timeout_seconds * 1000,
      connectionsCheckingInterval: 1000,
      keepAliveTimeout: 5_000,
    },
    handler,
  );
  server.timeout = config.server.request_timeout_seconds * 1000;
  closeIdleAfterPoll(server);
  server.maxConnections = Math.max(1, Math.ceil(maxConnections(config.server.max_connections) * connectionShare));
  // Node's headersTimeout counts only from a request's first byte; a connection that sends
  // nothing at all gets the same limit here (the handler restores server.timeout).
  server.on('connection', (socket: Socket) => socket.setTimeout(config.server.headers_timeout_seconds * 1000));
  // Expect: 100-continue is answered only once the handler reads the body, i.e. after
  // authentication and authorization: a refused client gets its error without sending the
  // body. https://www.rfc-editor.org/rfc/rfc9110#section-10.1.1
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    holdContinue(req, res);
    handler(req, res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const code = tooLarge ? 'RequestHeaderSectionTooLarge' : 'BadRequest';
    const message = tooLarge
      ? 'Your request header section exceeds the maximum allowed size.'
      : 'The request could not be parsed.';
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    // What follows the bad head (a body already on its way) is read and dropped until the
    // client closes: closing at once would reset a connection with unread bytes, and the reset
    // can reach the client before the 400 does (lib/ops/lingering-close.ts).
    lingerWhenClosed(socket);
    socket.write(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nServer: BleepStore\r\n\r\n${body}`,
    );
    socket.destroySoon();
  });
  return server;
}

/** Host names whose first label is a bucket (virtual-hosted style): localhost and server.domain. */
export function s3Domains(config: Config): string[] {
  return [
    'localhost',
    ...config.server.domain
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean),
  ];
}

/**
 * One request on an S3 server: tracked for a graceful stop, the idle limit back in force (not
 * the silent-connect one), and a failure no handler answered logged and cut with 500.
 */
export function runTracked(
  on: { server: Server; drain: Drain; log: Logger },
  req: IncomingMessage,
  res: ServerResponse,
  run: () => Promise<unknown>,
): void {
  on.drain.track(res);
  req.socket.setTimeout(on.server.timeout);
  run().catch((err: unknown) => {
    on.log.error('unhandled request failure', { error: err });
    if (!res.headersSent) res.writeHead(500);
    res.destroy();
  });
}
