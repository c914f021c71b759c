// Raw HTTP requests, signed by the test signer (or not), for the cases SDKs never send.
import http from 'node:http';
import net from 'node:net';
import { ACCESS_KEY, REGION, SECRET_KEY } from './server.ts';
import { signRequest, type SignOptions } from './signer.ts';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** <Code> of an error document, if any. */
  code: string | undefined;
}

export function send(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // Split by hand: new URL() would resolve "../" segments that tests send on purpose.
    const m = /^http:\/\/([^/:]+):(\d+)(\/.*)?$/.exec(url);
    if (!m) throw new Error(`not an http URL: ${url}`);
    const req = http.request(
      { host: m[1], port: Number(m[2]), path: m[3] ?? '/', method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          const text = b.toString('utf8');
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: b,
            text,
            code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export type SignedOptions = Partial<Omit<SignOptions, 'method' | 'url'>>;

/** Signs with the default test credentials (override any field) and sends. */
export function signed(method: string, url: string, opts: SignedOptions = {}): Promise<RawResponse> {
  const headers = signRequest({ method, url, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: REGION, ...opts });
  return send(method, url, headers, opts.body);
}

/** Writes raw bytes on a fresh socket and returns everything the server answers until it closes or `waitMs` passes. */
export function rawSocket(
  port: number,
  bytes: Buffer | string,
  opts: { endAfterWrite?: boolean; waitMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'));
    const timer = setTimeout(() => {
      sock.destroy();
      done();
    }, opts.waitMs ?? 2000);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', () => {
      clearTimeout(timer);
      done();
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') done();
      else reject(err);
    });
    sock.write(bytes, () => {
      if (opts.endAfterWrite) sock.end();
    });
  });
}
